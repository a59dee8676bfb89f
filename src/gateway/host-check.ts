import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";
import type { Duplex } from "node:stream";
import { MANAGEMENT_PATH } from "./management-http.js";

/**
 * Which `Host` names the gateway answers (DNS rebinding protection, as Vite's
 * `server.allowedHosts`): a list, or `true` for any. Entries are host names without port; one
 * that starts with `.` allows that domain and every subdomain (`.example.com`).
 */
export type AllowedHosts = readonly string[] | true;

/** The execute-api names handler code addresses (redirected here by the interception). */
const EXECUTE_API = /^[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com$/;

/** The host name of a `Host` header or an origin's host, lower case, without port or brackets. */
export function hostName(value: string): string | undefined {
  const host = value.trim().toLowerCase();
  if (host === "") return undefined;
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    return end > 0 ? host.slice(1, end) : undefined;
  }
  const colon = host.indexOf(":");
  const name = colon >= 0 ? host.slice(0, colon) : host;
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

/** Whether the address a server listens on is loopback only (127.0.0.0/8, ::1). */
export function isLoopbackAddress(address: string): boolean {
  const plain = address.replace(/^::ffff:/i, "");
  return plain === "::1" || plain === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(plain);
}

/**
 * Whether `name` may be answered. Always: IP literals (a DNS rebinding attack needs a name the
 * attacker's DNS answers), `localhost` and `*.localhost` (browsers resolve them to loopback
 * themselves), and the execute-api names handler code addresses (AWS's DNS, not an attacker's);
 * then the list.
 */
export function hostAllowed(name: string | undefined, allowed: AllowedHosts): boolean {
  if (allowed === true) return true;
  if (name === undefined) return false;
  if (isIP(name) !== 0 || name === "localhost" || name.endsWith(".localhost")) return true;
  if (EXECUTE_API.test(name)) return true;
  for (const entry of allowed) {
    const host = entry.toLowerCase();
    if (host.startsWith(".") ? name === host.slice(1) || name.endsWith(host) : name === host) {
      return true;
    }
  }
  return false;
}

/**
 * Whether a request is a browser's from a page of another origin: `Sec-Fetch-Site` other than
 * `same-origin`/`none`, or an `Origin` whose host:port is not the one addressed. SDKs and
 * command-line tools send neither header.
 */
export function crossSite(req: IncomingMessage): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== (req.headers.host ?? "").toLowerCase();
  } catch {
    return true; // "null" (sandboxed frames, file: pages) and anything unparsable
  }
}

const refusal = (host: string) =>
  `Blocked request: the host "${host.replace(/[^\x20-\x7e]/g, "?")}" is not allowed. ` +
  "To allow it, start the server with --allowed-hosts <name> (allowedHosts in the options).\n";

/**
 * The gateway's check of each request and handshake before anything else runs.
 * - `Host`: when the server listens on loopback, or a list was given, only allowed names are
 *   answered (403 otherwise), so a web page that rebinds its own name to 127.0.0.1 reaches
 *   nothing: not the handlers (they run with the developer's credentials), not `@connections`,
 *   not the static files.
 * - `@connections`, `/_arc/` (Sandbox's services) and `/_switchboard` (the dev inspector): refused (403) when a browser sends them
 *   from a page of another origin (a form or `fetch` POST needs no CORS preflight). AWS requires
 *   SigV4 there, which no page has.
 * - WebSocket handshakes from pages of other origins are accepted, as on AWS (which does not
 *   check `Origin`; a `$connect` handler or authorizer can, with `event.headers.Origin`).
 */
export class HostCheck {
  readonly #allowed: AllowedHosts | undefined;
  readonly #listening: () => string | undefined;

  /**
   * @param allowed the list (or `true`); undefined: the check is on only while listening on
   *   loopback (a self-hosted gateway behind a proxy sees its public names).
   * @param listening the address the server listens on, once it does.
   */
  constructor(allowed: AllowedHosts | undefined, listening: () => string | undefined) {
    this.#allowed = allowed;
    this.#listening = listening;
  }

  #hostRefused(req: IncomingMessage): string | undefined {
    let allowed = this.#allowed;
    if (allowed === undefined) {
      const address = this.#listening();
      if (address === undefined || !isLoopbackAddress(address)) return undefined;
      allowed = [];
    }
    const host = req.headers.host ?? "";
    return hostAllowed(hostName(host), allowed) ? undefined : host;
  }

  /** Answers (403) and returns true when a plain request must not be served. */
  refuseRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const host = this.#hostRefused(req);
    if (host !== undefined) {
      res.writeHead(403, { "Content-Type": "text/plain; charset=utf-8", Connection: "close" });
      res.end(refusal(host));
      return true;
    }
    const path = (req.url ?? "/").split("?")[0] as string;
    const guarded =
      MANAGEMENT_PATH.test(path) || path.startsWith("/_arc/") || path.startsWith("/_switchboard");
    if (guarded && crossSite(req)) {
      res.writeHead(403, {
        "Content-Type": "application/json",
        "x-amzn-ErrorType": "ForbiddenException",
      });
      res.end('{"message":"Forbidden"}');
      return true;
    }
    return false;
  }

  /** Answers (403) and returns true when a WebSocket handshake must not be served. */
  refuseUpgrade(req: IncomingMessage, socket: Duplex): boolean {
    const host = this.#hostRefused(req);
    if (host === undefined) return false;
    const body = refusal(host);
    socket.end(
      "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    return true;
  }
}
