/**
 * The three Redis deployments `--redis` names, as URLs:
 *
 * - one instance (or a managed primary): `redis://[user:password@]host:port[/db]`;
 * - Redis Cluster: `redis+cluster://[user:password@]host:port[,host:port...]` (seed nodes; the
 *   client discovers the others);
 * - Sentinel: `redis+sentinel://[user:password@]host:port[,host:port...]/<master>[/db]` (the
 *   Sentinels, and the name of the master they watch).
 *
 * Each with `rediss` in place of `redis` for TLS. The password is the data nodes' (Sentinels
 * without a password of their own accept it too: `sentinelPassword` is set to it).
 */
export type RedisTarget =
  | { kind: "single"; url: string }
  | {
      kind: "cluster";
      nodes: Array<{ host: string; port: number }>;
      username?: string;
      password?: string;
      tls: boolean;
    }
  | {
      kind: "sentinel";
      sentinels: Array<{ host: string; port: number }>;
      name: string;
      db: number;
      username?: string;
      password?: string;
      tls: boolean;
    };

/** A Redis URL that cannot be used: `message` says what was expected and found. */
export class RedisUrlError extends Error {}

const SCHEMES = /^(rediss?)(\+cluster|\+sentinel)?:\/\//i;

/** Parses a `--redis` URL (see `RedisTarget`); throws `RedisUrlError` for anything else. */
export function parseRedisUrl(url: string): RedisTarget {
  const scheme = SCHEMES.exec(url);
  if (!scheme) {
    throw new RedisUrlError(
      `expected a redis:// or rediss:// URL (or redis+cluster://, redis+sentinel://), found ${JSON.stringify(redact(url))}`,
    );
  }
  const tls = scheme[1]?.toLowerCase() === "rediss";
  const variant = scheme[2]?.toLowerCase();
  if (!variant) {
    try {
      new URL(url);
    } catch {
      throw new RedisUrlError(
        `expected a URL such as redis://127.0.0.1:6379, found ${redact(url)}`,
      );
    }
    return { kind: "single", url };
  }
  const rest = url.slice(scheme[0].length);
  const at = rest.lastIndexOf("@");
  const auth = at === -1 ? "" : rest.slice(0, at);
  const afterAuth = at === -1 ? rest : rest.slice(at + 1);
  const slash = afterAuth.indexOf("/");
  const hostList = slash === -1 ? afterAuth : afterAuth.slice(0, slash);
  const path = slash === -1 ? "" : afterAuth.slice(slash + 1);
  const hosts = hostList.split(",").map((entry) => hostPort(entry, variant === "+sentinel"));
  const credentials = userPassword(auth);
  if (variant === "+cluster") {
    if (path.replace(/\/+$/, "") !== "") {
      throw new RedisUrlError(
        `Redis Cluster has no databases: expected no path after the nodes, found "/${path}"`,
      );
    }
    return { kind: "cluster", nodes: hosts, tls, ...credentials };
  }
  const [name = "", db = "0", ...extra] = path.split("/").filter((part) => part !== "");
  if (name === "") {
    throw new RedisUrlError(
      "expected the master's name after the Sentinels (redis+sentinel://host:26379/mymaster), found none",
    );
  }
  if (!/^\d+$/.test(db) || extra.length > 0) {
    throw new RedisUrlError(`expected a database number after the master's name, found "${path}"`);
  }
  return {
    kind: "sentinel",
    sentinels: hosts,
    name: decodeURIComponent(name),
    db: Number(db),
    tls,
    ...credentials,
  };
}

function hostPort(entry: string, sentinel: boolean): { host: string; port: number } {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/i.exec(entry);
  const port = match?.[2] === undefined ? (sentinel ? 26379 : 6379) : Number(match[2]);
  if (!match?.[1] || port < 1 || port > 65535) {
    throw new RedisUrlError(`expected host:port, found ${JSON.stringify(entry)}`);
  }
  return { host: match[1].replace(/^\[|\]$/g, ""), port };
}

function userPassword(auth: string): { username?: string; password?: string } {
  if (auth === "") return {};
  const colon = auth.indexOf(":");
  const username = decodeURIComponent(colon === -1 ? auth : auth.slice(0, colon));
  const password = colon === -1 ? undefined : decodeURIComponent(auth.slice(colon + 1));
  return {
    ...(username !== "" ? { username } : {}),
    ...(password !== undefined && password !== "" ? { password } : {}),
  };
}

/** The URL without its password, for messages and logs (every form above). */
export function redactRedisUrl(url: string): string {
  return redact(url);
}

function redact(url: string): string {
  const scheme = /^[a-z+]+:\/\//i.exec(url);
  if (!scheme) return url;
  const rest = url.slice(scheme[0].length);
  const at = rest.lastIndexOf("@");
  if (at === -1) return url;
  const auth = rest.slice(0, at);
  const colon = auth.indexOf(":");
  if (colon === -1 || colon === auth.length - 1) return url;
  return `${scheme[0]}${auth.slice(0, colon)}:***${rest.slice(at)}`;
}
