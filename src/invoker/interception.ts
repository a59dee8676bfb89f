// Sends the AWS endpoints an emulated app talks to (its execute-api host, DynamoDB) to the
// local servers, for unmodified function code. Installed in every thread that runs functions.
import http from "node:http";
import https from "node:https";
import { syncBuiltinESMExports } from "node:module";
import { urlToHttpOptions } from "node:url";
import { executeApiDomain } from "../app/aws-names.js";

/**
 * One redirected host. `host` is a lower-case host name, exact, or with `*` standing for one
 * DNS label (`abc123defg.execute-api.*.amazonaws.com`). Plain data: it crosses to worker threads.
 */
export interface InterceptRule {
  host: string;
  /** Where the requests go instead, over plain HTTP. */
  target: { hostname: string; port: number };
}

type RequestFn = typeof http.request;
type AnyArgs = unknown[];

const STATE = Symbol.for("switchboard.awsInterception");

interface State {
  rules: Array<{ rule: InterceptRule; pattern: RegExp }>;
  originals: {
    httpRequest: RequestFn;
    httpGet: typeof http.get;
    httpsRequest: typeof https.request;
    httpsGet: typeof https.get;
    fetch: typeof fetch | undefined;
  };
  agent: http.Agent;
}

/** One state per thread (module copies share it through the registered symbol). */
function state(): State | undefined {
  return (globalThis as { [STATE]?: State })[STATE];
}

/**
 * The rules `switchboard dev` installs: the app's execute-api host (any region: the id is the
 * app's own) to the gateway and, when tables are emulated, DynamoDB in any region
 * (`dynamodb.{region}.amazonaws.com` and the account-based `{account}.ddb.{region}.amazonaws.com`)
 * to the local DynamoDB: the region is the one the code uses (a client built with
 * `region: "eu-north-1"` while the gateway runs as us-east-1 still reaches the local tables).
 */
export function devInterceptions(options: {
  apiId: string;
  gateway: { hostname: string; port: number };
  dynamodb?: { hostname: string; port: number };
}): InterceptRule[] {
  const rules: InterceptRule[] = [
    { host: executeApiDomain(options.apiId, "*"), target: options.gateway },
  ];
  if (options.dynamodb) {
    rules.push(
      { host: "dynamodb.*.amazonaws.com", target: options.dynamodb },
      { host: "*.ddb.*.amazonaws.com", target: options.dynamodb },
    );
  }
  return rules;
}

function compile(host: string): RegExp {
  const source = host
    .toLowerCase()
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join("[a-z0-9-]+");
  return new RegExp(`^${source}$`);
}

function normalizeHost(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  let host = value.toLowerCase();
  if (host.startsWith("[")) return host; // IPv6 literal: never one of ours
  const colon = host.indexOf(":");
  if (colon >= 0 && host.indexOf(":", colon + 1) < 0) host = host.slice(0, colon);
  return host.endsWith(".") ? host.slice(0, -1) : host;
}

/** Where requests to `hostname` go, or undefined when they are not intercepted. */
export function interceptedTarget(hostname: string): InterceptRule["target"] | undefined {
  const current = state();
  if (!current || current.rules.length === 0) return undefined;
  const host = normalizeHost(hostname);
  if (!host) return undefined;
  // The latest registration wins (two dev servers for one app in one process: the newer).
  for (let i = current.rules.length - 1; i >= 0; i--) {
    const entry = current.rules[i] as State["rules"][number];
    if (entry.pattern.test(host)) return entry.rule.target;
  }
  return undefined;
}

interface Redirected {
  options: http.RequestOptions;
  callback: ((res: http.IncomingMessage) => void) | undefined;
}

/** The arguments of `http(s).request/get` rewritten to the local target, or undefined. */
function redirect(args: AnyArgs, current: State): Redirected | undefined {
  if (current.rules.length === 0) return undefined;
  let options: http.RequestOptions & { href?: string };
  let rest = args;
  const first = args[0];
  if (typeof first === "string" || first instanceof URL) {
    let url: URL;
    try {
      url = typeof first === "string" ? new URL(first) : first;
    } catch {
      return undefined; // the original reports the invalid URL
    }
    options = urlToHttpOptions(url) as http.RequestOptions;
    rest = args.slice(1);
    if (rest[0] && typeof rest[0] === "object") {
      options = { ...options, ...(rest[0] as http.RequestOptions) };
      rest = rest.slice(1);
    }
  } else if (first && typeof first === "object") {
    options = { ...(first as http.RequestOptions) };
    rest = args.slice(1);
  } else {
    return undefined;
  }
  const original = normalizeHost(options.hostname ?? options.host);
  if (!original || options.socketPath) return undefined;
  const target = interceptedTarget(original);
  if (!target) return undefined;
  const callback = typeof rest[0] === "function" ? (rest[0] as Redirected["callback"]) : undefined;
  const out: http.RequestOptions & Record<string, unknown> = {
    ...options,
    protocol: "http:",
    hostname: target.hostname,
    port: target.port,
    // An https.Agent cannot carry plain HTTP; `false` (no pooling) is kept.
    agent: options.agent === false ? false : current.agent,
  };
  delete out.host;
  delete out.href;
  delete out.createConnection;
  // The server sees the host the code addressed (what the SDK signed).
  const headers = options.headers;
  if (Array.isArray(headers)) {
    const named = headers.some((v, i) => i % 2 === 0 && String(v).toLowerCase() === "host");
    out.headers = named ? headers : [...headers, "Host", original];
  } else {
    const plain = { ...(headers ?? {}) } as Record<string, unknown>;
    if (!Object.keys(plain).some((k) => k.toLowerCase() === "host")) plain.Host = original;
    out.headers = plain as http.OutgoingHttpHeaders;
  }
  return { options: out, callback };
}

/**
 * Wrap `http.request`, `http.get`, `https.request`, `https.get` (and `globalThis.fetch`) in this
 * thread so that requests to a registered host go to its local target over plain HTTP, with
 * method, path, headers and body unchanged. Requests to any other host are passed through
 * untouched. Idempotent; does nothing until rules are added.
 */
export function installInterception(): void {
  if (state()) return;
  const originals: State["originals"] = {
    httpRequest: http.request,
    httpGet: http.get,
    httpsRequest: https.request,
    httpsGet: https.get,
    fetch: globalThis.fetch,
  };
  const current: State = {
    rules: [],
    originals,
    agent: new http.Agent({ keepAlive: true }),
  };
  (globalThis as { [STATE]?: State })[STATE] = current;

  const wrap = (original: (...a: AnyArgs) => http.ClientRequest, get: boolean) =>
    function intercepted(this: unknown, ...args: AnyArgs): http.ClientRequest {
      const redirected = redirect(args, current);
      if (!redirected) return original.apply(this, args);
      const { options, callback } = redirected;
      return get
        ? originals.httpGet(options, callback as never)
        : originals.httpRequest(options, callback as never);
    };
  http.request = wrap(originals.httpRequest as never, false) as typeof http.request;
  http.get = wrap(originals.httpGet as never, true) as typeof http.get;
  https.request = wrap(originals.httpsRequest as never, false) as typeof https.request;
  https.get = wrap(originals.httpsGet as never, true) as typeof https.get;
  // `import { request } from "node:https"` sees the wrapped functions too.
  syncBuiltinESMExports();

  const originalFetch = originals.fetch;
  if (originalFetch) {
    globalThis.fetch = function interceptedFetch(
      input: Parameters<typeof fetch>[0],
      init?: RequestInit,
    ) {
      if (current.rules.length > 0) {
        const href =
          typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
        let url: URL | undefined;
        try {
          url = new URL(href);
        } catch {
          url = undefined;
        }
        const target = url ? interceptedTarget(url.hostname) : undefined;
        if (url && target) {
          const local = new URL(
            `${url.pathname}${url.search}`,
            `http://${target.hostname}:${target.port}`,
          );
          return originalFetch(input instanceof Request ? new Request(local, input) : local, init);
        }
      }
      return originalFetch(input, init);
    } as typeof fetch;
  }
}

/**
 * Register rules in this thread (installing the wrappers if needed). Returns a function that
 * removes exactly these rules again.
 */
export function addInterceptions(rules: readonly InterceptRule[]): () => void {
  installInterception();
  const current = state() as State;
  const entries = rules.map((rule) => ({ rule, pattern: compile(rule.host) }));
  current.rules.push(...entries);
  return () => {
    current.rules = current.rules.filter((entry) => !entries.includes(entry));
  };
}

/** The rules registered in this thread, oldest first. */
export function activeInterceptions(): InterceptRule[] {
  return state()?.rules.map((entry) => entry.rule) ?? [];
}
