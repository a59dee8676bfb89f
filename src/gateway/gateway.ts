import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { App } from "../app/model.js";
import type { RemoteConnections } from "../cluster/remote-connections.js";
import type { InvokeOutcome, Invoker } from "../invoker/invoker.js";
import { type ConnectionStore, MemoryConnectionStore } from "../runtime/connection-store.js";
import { CLOSES, httpError } from "../wire.js";
import { waitUntil } from "./bounded-wait.js";
import { DEFAULT_BOUNDS, type GatewayBounds } from "./bounds.js";
import { Connections } from "./connections.js";
import { onMessage } from "./dispatch.js";
import type { CompleteUpgrade, GatewayCore } from "./gateway-core.js";
import { reportError, upgradeWithWs } from "./gateway-core.js";
import type { GatewayEventMap } from "./gateway-events.js";
import { compileGeneration, type Generation } from "./generation.js";
import { isWebSocketPath, upgrade } from "./handshake.js";
import { type AllowedHosts, HostCheck } from "./host-check.js";
import { newId } from "./ids.js";
import type { ManagementAuth } from "./management-auth.js";
import { handleManagementRequest } from "./management-http.js";
import { Pacer } from "./pacer.js";
import { type ReplayEvent, replay } from "./replay.js";

/** `$disconnect` invocations started per event-loop turn (see `Pacer`). */
const DISCONNECTS_PER_TURN = 64;

export interface GatewayOptions {
  app: App;
  invoker: Invoker;
  /** Default 3001. 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The connection table handlers see; default in memory, from `app.connections`. */
  connections?: ConnectionStore;
  /** Region for ARNs and the SDK; default `AWS_REGION` or us-east-1. */
  region?: string;
  accountId?: string;
  /**
   * What `$connect` and the authorizer see of the edge: `"aws"` (default) as API Gateway sends
   * it (`Host: {apiId}.execute-api.{region}.amazonaws.com`, `X-Forwarded-Proto: https`,
   * `X-Forwarded-Port: 443`); `"local"` the real values (the Host the client used, `http`,
   * the local port).
   */
  edge?: "aws" | "local";
  /** Per-connection bounds (queued messages, unread output); defaults in `DEFAULT_BOUNDS`. */
  bounds?: Partial<GatewayBounds>;
  /** Who may call `@connections` (default `open`); see `ManagementAuth`. */
  managementAuth?: ManagementAuth;
  /**
   * `requestContext.domainName` (and the edge `Host`): the app's public domain, as behind an
   * API Gateway custom domain. Default the execute-api domain AWS would give the app.
   */
  domainName?: string;
  /** Extra HTTP handling (static files) for requests that are neither WebSocket nor `@connections`. */
  fallbackRequest?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /**
   * `Host` names answered (DNS rebinding protection; see `host-check.ts`): a list (IP
   * addresses, `localhost` and `*.localhost` always pass; `.example.com` allows subdomains), or
   * `true` for any. Default: loopback names only while listening on loopback, any otherwise.
   */
  allowedHosts?: AllowedHosts;
  /**
   * How long {@link Gateway.close} waits for work in flight (an invocation running,
   * `$disconnect`) before it drops what has not started; default 5000 ms. AWS has no
   * equivalent (a deployed API does not stop); the bound keeps a restart prompt.
   */
  shutdownTimeoutMs?: number;
  /**
   * The last step of an accepted handshake (default: `ws` answers 101 on the socket). The test
   * kit (`switchboard/testing`) hands over its recorder here.
   * @internal
   */
  completeUpgrade?: CompleteUpgrade;
}

/**
 * The WebSocket gateway: API Gateway's behaviour (events, error frames, limits, status codes)
 * over `ws`, and the `@connections` management API on the same port. Its parts: the handshake
 * (`handshake.ts`), each connection's life (`session.ts`), message dispatch (`dispatch.ts`),
 * the connections and the management API over them (`connections.ts`), and every answer on the
 * wire (`wire.ts`).
 *
 * @example
 * ```ts
 * const gateway = new Gateway({ app, invoker: new InProcessInvoker(loader), port: 0 });
 * const { url } = await gateway.listen();
 * gateway.on("invoke", (report) => console.log(report.routeKey, report.outcome));
 * await gateway.management.send(connectionId, "hello");
 * await gateway.close();
 * ```
 */
export class Gateway extends EventEmitter<GatewayEventMap> {
  readonly server: Server;
  /** The connection table handlers see (`ctx.connections`). */
  readonly connections: ConnectionStore;
  /**
   * The open connections and the management API over them (PostToConnection, GetConnection,
   * DeleteConnection), forwarded to the node that holds a connection in a cluster.
   */
  readonly management: Connections;
  readonly region: string;
  readonly accountId: string;
  readonly #options: GatewayOptions;
  readonly #core: GatewayCore;
  #generation: Generation;
  #closing = false;
  /** Past the shutdown deadline: queued work that has not started is dropped. */
  #abandoned = false;

  constructor(options: GatewayOptions) {
    super();
    this.#options = options;
    this.region = options.region ?? process.env.AWS_REGION ?? "us-east-1";
    this.accountId = options.accountId ?? "000000000000";
    this.connections =
      options.connections ??
      new MemoryConnectionStore({
        ttlSeconds: options.app.connections.ttlSeconds,
        indexes: options.app.connections.indexes,
      });
    this.#generation = compileGeneration(options.app, options.invoker);
    const bounds = { ...DEFAULT_BOUNDS, ...options.bounds };
    this.management = new Connections(
      this,
      () => this.#generation.app.limits.frameBytes,
      bounds.outboundBytes,
    );
    const gateway = this;
    this.#core = {
      get generation() {
        return gateway.#generation;
      },
      get closing() {
        return gateway.#closing;
      },
      get abandoned() {
        return gateway.#abandoned;
      },
      region: this.region,
      accountId: this.accountId,
      connections: this.management,
      table: this.connections,
      events: this,
      settling: new Set(),
      disconnects: new Pacer(DISCONNECTS_PER_TURN),
      edge: options.edge ?? "aws",
      // Always present (undefined: the execute-api domain), so the core keeps one shape.
      domainName: options.domainName,
      bounds,
      completeUpgrade: options.completeUpgrade ?? upgradeWithWs,
    };
    const hosts = new HostCheck(options.allowedHosts, () => {
      const address = this.server.address();
      return typeof address === "object" && address ? address.address : undefined;
    });
    this.server = createServer({ keepAlive: true }, (req, res) => {
      if (hosts.refuseRequest(req, res)) return;
      if (handleManagementRequest(this, req, res, options.managementAuth)) return;
      if (options.fallbackRequest?.(req, res)) return;
      this.#answerPlainRequest(req, res);
    });
    this.server.on("upgrade", (req, socket, head) => {
      socket.on("error", () => undefined);
      if (hosts.refuseUpgrade(req, socket)) return;
      void this.handleUpgrade(req, socket, head);
    });
    // Errors on the I/O path are reported, never thrown past here.
    this.server.on("clientError", (_error, socket) => socket.destroy());
  }

  /**
   * Take an upgrade request (the server's `upgrade` event calls this after its `Host` check;
   * a caller with a server of its own makes that check itself): path, authorizer, `$connect`,
   * then 101 or the refusal. Settles once the handshake ended;
   * never rejects (a failure is an `error` event and a destroyed socket).
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    return upgrade(this.#core, req, socket, head).catch((error: unknown) => {
      socket.destroy();
      reportError(this.#core, { message: `upgrade failed: ${String(error)}`, error });
    });
  }

  /** The app now being served. */
  get app(): App {
    return this.#generation.app;
  }

  /** Number of open connections. */
  get size(): number {
    return this.management.size;
  }

  /** Ids of open connections. */
  connectionIds(): string[] {
    return this.management.ids();
  }

  /** Start listening. Resolves with the bound address. */
  async listen(): Promise<{ host: string; port: number; url: string }> {
    const host = this.#options.host ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.#options.port ?? 3001, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    const shown = host.includes(":") ? `[${host}]` : host;
    return { host, port, url: `ws://${shown}:${port}` };
  }

  /**
   * Serve a new version of the app. Open connections stay open; new messages use the new
   * routes and handlers; work already running finishes on the old ones.
   */
  setApp(app: App, invoker: Invoker): void {
    const previous = this.#generation;
    this.#generation = compileGeneration(app, invoker, previous);
    if (previous.wss !== this.#generation.wss) previous.wss.close();
  }

  /**
   * Handle `data` as if the connection had sent it as a text frame (route selection, queue,
   * invocation, answer): the dev inspector's "send as the client". False when this gateway
   * does not hold the connection, or it is closing.
   */
  injectMessage(connectionId: string, data: string): boolean {
    const conn = this.management.local(connectionId);
    if (!conn || conn.closing || conn.ended) return false;
    onMessage(this.#core, conn, Buffer.from(data), false);
    return true;
  }

  /** Invoke a route's function again with a recorded event (see {@link replay}). */
  replay(routeKey: string, event: ReplayEvent): Promise<InvokeOutcome> {
    return replay(this.#core, routeKey, event);
  }

  /** Join a cluster: ids this gateway does not hold are looked up on the other nodes. */
  attachRemote(remote: RemoteConnections | undefined): void {
    this.management.attachRemote(remote);
  }

  /**
   * Close every connection (1001 Going away, as a service restart) and stop listening, within
   * `shutdownTimeoutMs` (+1 s for clients to answer the close): messages still waiting are
   * dropped as their connections close; work still running at the deadline is abandoned
   * (reported as an `error` event) and nothing starts after it.
   */
  async close(): Promise<void> {
    this.#closing = true;
    const deadline = Date.now() + (this.#options.shutdownTimeoutMs ?? 5000);
    const drained = this.management.all().map(
      (conn) =>
        new Promise<void>((resolve) => {
          if (conn.ws.readyState === conn.ws.CLOSED) return resolve();
          conn.ws.once("close", () => resolve());
          conn.close(CLOSES.goingAway.code, CLOSES.goingAway.reason);
          setTimeout(() => {
            conn.ws.terminate();
            resolve();
          }, 1000).unref();
        }),
    );
    await Promise.all(drained);
    // $disconnect handlers of every closed connection (behind the invocation in flight) finish
    // first, up to the deadline; then nothing queued starts any more.
    const settling = this.#core.settling;
    await waitUntil(Promise.all([...settling]), deadline);
    this.#abandoned = true;
    if (settling.size > 0) {
      reportError(this.#core, {
        message: `shutdown: gave up waiting for the queued work of ${settling.size} connection(s)`,
      });
    }
    this.#generation.wss.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await waitUntil(closed, deadline);
  }

  /** A plain GET to the WebSocket URL gets 426 (as AWS answers it); anything else 403. */
  #answerPlainRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0] as string;
    const answer = isWebSocketPath(path, this.#generation.app.stage)
      ? httpError("SB_ERR_UPGRADE_REQUIRED")
      : httpError("SB_ERR_FORBIDDEN");
    res.writeHead(answer.status, {
      "Content-Type": "application/json",
      "x-amzn-RequestId": newId(),
      ...answer.headers,
    });
    res.end(answer.body);
  }
}
