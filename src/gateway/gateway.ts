import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, STATUS_CODES } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { type WebSocket, WebSocketServer } from "ws";
import { apiIdFor, executeApiDomain } from "../app/aws-names.js";
import type { App, Limits, Route } from "../app/model.js";
import { CONNECT, DEFAULT_ROUTE, DISCONNECT } from "../app/model.js";
import { compileRouteSelection, type RouteSelector } from "../app/route-selection.js";
import type { RemoteConnections } from "../cluster/remote-connections.js";
import {
  authorizerSpecFor,
  type FunctionSpec,
  functionSpecFor,
  type InvokeOutcome,
  type Invoker,
} from "../invoker/invoker.js";
import type { RuntimeBindings } from "../runtime/bindings.js";
import { type ConnectionStore, MemoryConnectionStore } from "../runtime/connection-store.js";
import type { WebSocketAuthorizerResult, WebSocketResult } from "../runtime/events.js";
import { type ConnectionInfo, GoneError, type Management } from "../runtime/management.js";
import { Reject } from "../runtime/reject.js";
import { NOT_JSON, parseJson, validateParsed } from "../runtime/schema.js";
import {
  authorizerContext,
  identitySourcesPresent,
  isUnauthorized,
  policyAllows,
} from "./authorizer.js";
import { Connection } from "./connection.js";
import {
  badRequestBodyFrame,
  forbiddenFrame,
  internalServerErrorFrame,
  timeoutFrame,
} from "./error-frames.js";
import {
  buildAuthorizerEvent,
  buildConnectEvent,
  buildDisconnectEvent,
  buildHandshake,
  buildMessageEvent,
  type ConnectionFacts,
} from "./events.js";
import { guardFrameSize } from "./frame-guard.js";
import type { GatewayEventMap } from "./gateway-events.js";
import { newId } from "./ids.js";
import { handleManagementRequest } from "./management-http.js";

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
  /** Extra HTTP handling (static files) for requests that are neither WebSocket nor `@connections`. */
  fallbackRequest?: (req: IncomingMessage, res: import("node:http").ServerResponse) => boolean;
}

/** Everything derived from one version of the app; swapped whole on hot reload. */
interface Generation {
  app: App;
  invoker: Invoker;
  routes: Map<string, Route>;
  defaultRoute: Route | undefined;
  connectRoute: Route | undefined;
  disconnectRoute: Route | undefined;
  select: RouteSelector;
  specs: Map<Route, FunctionSpec>;
  /** Body schemas by route: the lookup while it runs, then its result (read without a hop). */
  schemas: Map<
    Route,
    Promise<StandardSchemaV1 | undefined> | { schema: StandardSchemaV1 | undefined }
  >;
  wss: WebSocketServer;
}

const CHOSEN_PROTOCOL = Symbol("chosenProtocol");
type SubprotocolChoice = IncomingMessage & { [CHOSEN_PROTOCOL]?: string };

const CLIENT_NO_STATUS_REASON = "Client-side close frame status not set";

function responseHeaders(requestId: string, extra: Record<string, string> = {}): string {
  return Object.entries({ "x-amzn-RequestId": requestId, ...extra })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
}

/** A non-upgrade answer written straight to the handshake socket. */
function refuseHandshake(
  socket: Duplex,
  status: number,
  body = "",
  headers: Record<string, string> = {},
): void {
  if (socket.destroyed) return;
  const text = body;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
      `Connection: close\r\n${responseHeaders(newId(), headers)}\r\n${text}`,
  );
}

const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;

/** The checks `ws` makes in `handleUpgrade` (method, Upgrade, key, version), made up front. */
function invalidHandshake(
  req: IncomingMessage,
): { status: number; reason: string; headers: Record<string, string> } | undefined {
  if (req.method !== "GET") return { status: 405, reason: "invalid HTTP method", headers: {} };
  if (req.headers.upgrade?.toLowerCase() !== "websocket") {
    return { status: 400, reason: "invalid Upgrade header", headers: {} };
  }
  const key = req.headers["sec-websocket-key"];
  if (key === undefined || !WEBSOCKET_KEY.test(key)) {
    return { status: 400, reason: "missing or invalid Sec-WebSocket-Key", headers: {} };
  }
  const version = Number(req.headers["sec-websocket-version"]);
  if (version !== 13 && version !== 8) {
    return {
      status: 400,
      reason: "unsupported Sec-WebSocket-Version",
      headers: { "Sec-WebSocket-Version": "13, 8" },
    };
  }
  return undefined;
}

function resultStatus(result: unknown): number | undefined {
  if (result && typeof result === "object" && "statusCode" in result) {
    const status = Number((result as { statusCode: unknown }).statusCode);
    return Number.isFinite(status) ? status : undefined;
  }
  return undefined;
}

/** What a two-way route sends back: the `body` of a proxy result, a string as is, else JSON. */
function routeResponseBody(result: unknown): string | undefined {
  if (result === undefined || result === null) return undefined;
  if (typeof result === "string") return result || undefined;
  if (typeof result === "object" && ("statusCode" in result || "body" in result)) {
    const body = (result as { body?: unknown }).body;
    if (body === undefined || body === null || body === "") return undefined;
    return typeof body === "string" ? body : JSON.stringify(body);
  }
  return JSON.stringify(result);
}

/**
 * The WebSocket gateway: API Gateway's behaviour (events, error frames, limits, status codes)
 * over `ws`, and the `@connections` management API on the same port.
 */
export class Gateway extends EventEmitter<GatewayEventMap> implements Management {
  readonly server: Server;
  readonly connections: ConnectionStore;
  readonly region: string;
  readonly accountId: string;
  readonly #open = new Map<string, Connection>();
  /** Connections whose `$connect` has not returned yet (PostToConnection answers 410). */
  readonly #pending = new Set<string>();
  readonly #options: GatewayOptions;
  #generation: Generation;
  #closing = false;
  /** Tails of closed connections whose queued work ($disconnect included) is still running. */
  readonly #settling = new Set<Promise<void>>();
  readonly #plainBindings: RuntimeBindings;
  #remote: RemoteConnections | undefined;

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
    this.#plainBindings = { management: this, connections: this.connections };
    this.#generation = this.#compile(options.app, options.invoker);
    this.server = createServer({ keepAlive: true }, (req, res) => {
      if (handleManagementRequest(this, req, res)) return;
      if (options.fallbackRequest?.(req, res)) return;
      this.#answerPlainRequest(req, res);
    });
    this.server.on("upgrade", (req, socket, head) => {
      socket.on("error", () => undefined);
      this.#upgrade(req, socket, head).catch((error: unknown) => {
        socket.destroy();
        this.#report({ message: `upgrade failed: ${String(error)}`, error });
      });
    });
    // Errors on the I/O path are reported, never thrown past here.
    this.server.on("clientError", (_error, socket) => socket.destroy());
  }

  /** The app now being served. */
  get app(): App {
    return this.#generation.app;
  }

  /** Number of open connections. */
  get size(): number {
    return this.#open.size;
  }

  /** Ids of open connections. */
  connectionIds(): string[] {
    return [...this.#open.keys()];
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
    this.#generation = this.#compile(app, invoker);
    if (previous.wss !== this.#generation.wss) previous.wss.close();
  }

  /** Close every connection (1001 Going away, as a service restart) and stop listening. */
  async close(): Promise<void> {
    this.#closing = true;
    const drained = [...this.#open.values()].map(
      (conn) =>
        new Promise<void>((resolve) => {
          if (conn.ws.readyState === conn.ws.CLOSED) return resolve();
          conn.ws.once("close", () => resolve());
          conn.close(1001, "Going away");
          setTimeout(() => {
            conn.ws.terminate();
            resolve();
          }, 1000).unref();
        }),
    );
    await Promise.all(drained);
    // $disconnect handlers of every closed connection (queued behind their messages) finish first.
    await Promise.all([...this.#settling]);
    this.#generation.wss.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
  }

  // ---- Management (in-process; the HTTP API calls these too) ----

  // Each falls back to the cluster for a connection another node holds.

  async send(connectionId: string, data: string | Uint8Array): Promise<void> {
    const remote = this.#heldElsewhere(connectionId);
    if (remote) return remote.send(connectionId, data);
    this.postToConnection(connectionId, data, "management");
  }

  async disconnect(connectionId: string): Promise<void> {
    const remote = this.#heldElsewhere(connectionId);
    if (remote) return remote.disconnect(connectionId);
    this.disconnectLocal(connectionId);
  }

  async info(connectionId: string): Promise<ConnectionInfo> {
    const remote = this.#heldElsewhere(connectionId);
    if (remote) return remote.info(connectionId);
    return this.infoLocal(connectionId);
  }

  /** DeleteConnection for a connection this gateway holds (never forwarded). Throws GoneError. */
  disconnectLocal(connectionId: string): void {
    const conn = this.#open.get(connectionId);
    if (!conn || conn.closing) throw new GoneError(connectionId);
    conn.close(1000, "Connection Closed Normally");
  }

  /** GetConnection for a connection this gateway holds (never forwarded). Throws GoneError. */
  infoLocal(connectionId: string): ConnectionInfo {
    const conn = this.#open.get(connectionId);
    if (!conn || conn.closing) throw new GoneError(connectionId);
    return {
      connectedAt: new Date(conn.facts.connectedAt),
      lastActiveAt: new Date(conn.lastActiveAt),
      identity: conn.facts.identity,
    };
  }

  /** The cluster, when the connection is not this gateway's (neither open nor in `$connect`). */
  #heldElsewhere(connectionId: string): RemoteConnections | undefined {
    if (!this.#remote || this.#open.has(connectionId) || this.#pending.has(connectionId)) {
      return undefined;
    }
    return this.#remote;
  }

  /** Join a cluster: ids this gateway does not hold are looked up on the other nodes. */
  attachRemote(remote: RemoteConnections | undefined): void {
    this.#remote = remote;
  }

  /** PostToConnection: synchronous hand-off to the socket. Throws GoneError. */
  postToConnection(
    connectionId: string,
    data: string | Uint8Array,
    via: "management" | "route-response" | "error-frame",
  ): void {
    const conn = this.#open.get(connectionId);
    if (!conn || conn.closing || conn.ws.readyState !== 1) throw new GoneError(connectionId);
    this.#sendFrames(conn, data);
    conn.lastActiveAt = Date.now();
    if (this.listenerCount("send") > 0) {
      this.emit("send", {
        connectionId,
        bytes: typeof data === "string" ? Buffer.byteLength(data) : data.byteLength,
        via,
      });
    }
  }

  /** Bytes in, as text frames of at most the frame limit (AWS splits @connections data at 32 KiB). */
  #sendFrames(conn: Connection, data: string | Uint8Array): void {
    const limit = this.#generation.app.limits.frameBytes;
    if ((typeof data === "string" ? data.length * 3 : data.byteLength) <= limit) {
      conn.send(data);
      return;
    }
    const bytes =
      typeof data === "string"
        ? Buffer.from(data)
        : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.length <= limit) {
      conn.send(bytes);
      return;
    }
    for (let offset = 0; offset < bytes.length; offset += limit) {
      const end = Math.min(offset + limit, bytes.length);
      conn.send(bytes.subarray(offset, end), end === bytes.length);
    }
  }

  /** Whether `$connect` is still running for this id (for the 410 the API gives then). */
  isPending(connectionId: string): boolean {
    return this.#pending.has(connectionId);
  }

  // ---- Internals ----

  #compile(app: App, invoker: Invoker): Generation {
    const routes = new Map(app.routes.map((r) => [r.key, r]));
    // Unset while the constructor compiles the first generation.
    const previous = this.#generation as Generation | undefined;
    const wss =
      previous && previous.app.limits.messageBytes === app.limits.messageBytes
        ? previous.wss
        : new WebSocketServer({
            noServer: true,
            maxPayload: app.limits.messageBytes,
            perMessageDeflate: false,
            clientTracking: false,
            // Echo only the subprotocol `$connect` chose (never pick one on the handler's behalf).
            handleProtocols: (_offered, req) =>
              (req as SubprotocolChoice)[CHOSEN_PROTOCOL] ?? false,
          });
    return {
      app,
      invoker,
      routes,
      defaultRoute: routes.get(DEFAULT_ROUTE),
      connectRoute: routes.get(CONNECT),
      disconnectRoute: routes.get(DISCONNECT),
      select: compileRouteSelection(app.routeSelectionExpression),
      specs: new Map(app.routes.map((r) => [r, functionSpecFor(app, r)])),
      schemas: new Map(),
      wss,
    };
  }

  #bindings(body?: { value: unknown }): RuntimeBindings {
    return body ? { management: this, connections: this.connections, body } : this.#plainBindings;
  }

  #answerPlainRequest(req: IncomingMessage, res: import("node:http").ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0] as string;
    const stage = this.#generation.app.stage;
    const requestId = newId();
    if (path === "/" || path === `/${stage}` || path === `/${stage}/`) {
      // A plain GET to the WebSocket URL (as AWS answers it).
      res.writeHead(426, { "Content-Type": "application/json", "x-amzn-RequestId": requestId });
      res.end('{"message":"Upgrade Required"}');
      return;
    }
    res.writeHead(403, {
      "Content-Type": "application/json",
      "x-amzn-RequestId": requestId,
      "x-amzn-ErrorType": "ForbiddenException",
    });
    res.end('{"message":"Forbidden"}');
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const gen = this.#generation;
    const { app } = gen;
    const url = req.url ?? "/";
    const queryAt = url.indexOf("?");
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    if (this.#closing || (path !== "/" && path !== `/${app.stage}` && path !== `/${app.stage}/`)) {
      refuseHandshake(socket, 403, '{"message":"Forbidden"}', {
        "x-amzn-ErrorType": "ForbiddenException",
      });
      return;
    }
    const started = performance.now();
    const now = Date.now();
    const sourceIp = (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, "");
    const userAgent = req.headers["user-agent"];
    const apiId = apiIdFor(app.name);
    const facts: ConnectionFacts = {
      connectionId: newId(),
      connectedAt: now,
      identity: userAgent ? { sourceIp, userAgent } : { sourceIp },
      // As on AWS (the `$connect` headers keep the Host the client really used); code that
      // builds its management endpoint from it reaches this gateway through the interception.
      domainName: executeApiDomain(apiId, this.region),
      stage: app.stage,
      apiId,
    };
    const handshake = buildHandshake(req.rawHeaders, queryAt < 0 ? "" : url.slice(queryAt), {
      sourceIp,
      port: req.socket.localPort ?? 0,
      proto: "http",
      now,
    });
    const refuse = (
      status: number,
      reason: string,
      body = "",
      headers: Record<string, string> = {},
    ) => {
      this.#pending.delete(facts.connectionId);
      refuseHandshake(socket, status, body, headers);
      this.emit("connect", {
        connectionId: facts.connectionId,
        status,
        durationMs: performance.now() - started,
        sourceIp,
        reason,
      });
    };
    // What `ws` would refuse only after `$connect` ran: refused first, as the AWS edge does.
    const invalid = invalidHandshake(req);
    if (invalid) {
      const text = `{"message":"${STATUS_CODES[invalid.status]}"}`;
      refuse(invalid.status, invalid.reason, text, invalid.headers);
      return;
    }
    let aborted = false;
    socket.once("close", () => {
      aborted = true;
    });
    this.#pending.add(facts.connectionId);

    // 1. Authorizer (REQUEST, on $connect only)
    if (app.authorizer) {
      if (!identitySourcesPresent(app.authorizer.identitySource, handshake)) {
        refuse(401, "identity source missing", '{"message":"Unauthorized"}');
        return;
      }
      const authEvent = buildAuthorizerEvent(facts, handshake, this.region, this.accountId, now);
      const spec: FunctionSpec = authorizerSpecFor(app, app.authorizer);
      const outcome = await gen.invoker.invoke(
        spec,
        authEvent,
        this.#plainBindings,
        authEvent.requestContext.requestId,
      );
      this.#reportInvoke(facts.connectionId, "$connect (authorizer)", spec, outcome);
      if (outcome.kind === "error" && isUnauthorized(outcome.error)) {
        refuse(401, "authorizer: Unauthorized", '{"message":"Unauthorized"}');
        return;
      }
      if (outcome.kind !== "ok") {
        refuse(500, `authorizer ${outcome.kind}`, '{"message": "Internal server error"}');
        return;
      }
      const result = outcome.result as WebSocketAuthorizerResult | undefined;
      if (
        !result ||
        typeof result !== "object" ||
        (!result.principalId && result.principalId !== "")
      ) {
        refuse(500, "authorizer returned no principalId", '{"message": "Internal server error"}');
        return;
      }
      if (!policyAllows(result, authEvent.methodArn)) {
        refuse(403, "authorizer policy denied", '{"message":"Forbidden"}');
        return;
      }
      facts.authorizer = authorizerContext(result, outcome.durationMs);
    }

    // 2. $connect (the handshake is held until it returns)
    let protocol: string | undefined;
    const connectRoute = gen.connectRoute;
    if (connectRoute) {
      const event = buildConnectEvent(facts, handshake, Date.now());
      const spec = gen.specs.get(connectRoute) ?? functionSpecFor(app, connectRoute);
      const outcome = await gen.invoker.invoke(
        spec,
        event,
        this.#plainBindings,
        event.requestContext.requestId,
      );
      this.#reportInvoke(facts.connectionId, CONNECT, spec, outcome);
      if (outcome.kind === "timeout") {
        refuse(504, "$connect timed out", '{"message": "Endpoint request timed out"}');
        return;
      }
      if (outcome.kind === "error") {
        if (Reject.is(outcome.error)) {
          refuse(outcome.error.statusCode, "$connect rejected", outcome.error.body ?? "");
        } else {
          refuse(502, "$connect threw", '{"message": "Internal server error"}');
        }
        return;
      }
      const status = resultStatus(outcome.result);
      if (status !== undefined && (status < 200 || status > 299)) {
        const body = (outcome.result as WebSocketResult & object).body;
        refuse(status, `$connect returned ${status}`, typeof body === "string" ? body : "");
        return;
      }
      const headers = (outcome.result as { headers?: Record<string, string> } | undefined)?.headers;
      if (headers && typeof headers === "object") {
        for (const [name, value] of Object.entries(headers)) {
          if (name.toLowerCase() === "sec-websocket-protocol") protocol = String(value);
        }
      }
    }
    if (aborted || socket.destroyed) {
      this.#pending.delete(facts.connectionId);
      // $connect ran, so state may exist: clean up as AWS would on a dropped connection.
      if (connectRoute) {
        this.#invokeDisconnect(gen, facts, 1006, "").catch((error: unknown) =>
          this.#report({ connectionId: facts.connectionId, message: String(error), error }),
        );
      }
      return;
    }

    // 3. Complete the handshake
    if (protocol !== undefined) (req as SubprotocolChoice)[CHOSEN_PROTOCOL] = protocol;
    let accepted = false;
    gen.wss.handleUpgrade(req, socket, head, (ws) => {
      accepted = true;
      this.#pending.delete(facts.connectionId);
      this.#accept(ws, facts, socket, app.limits);
      this.emit("connect", {
        connectionId: facts.connectionId,
        status: 101,
        durationMs: performance.now() - started,
        sourceIp,
      });
    });
    // `ws` answers synchronously; no callback means it refused the handshake itself (e.g. a
    // malformed Sec-WebSocket-Protocol): nothing is pending any more, and $connect's state goes.
    if (!accepted) {
      this.#pending.delete(facts.connectionId);
      this.emit("connect", {
        connectionId: facts.connectionId,
        status: 400,
        durationMs: performance.now() - started,
        sourceIp,
        reason: "handshake refused by ws",
      });
      if (connectRoute) {
        this.#invokeDisconnect(gen, facts, 1006, "").catch((error: unknown) =>
          this.#report({ connectionId: facts.connectionId, message: String(error), error }),
        );
      }
    }
  }

  #accept(ws: WebSocket, facts: ConnectionFacts, socket: Duplex, limits: Limits): void {
    const conn = new Connection(facts, ws, socket);
    conn.onWorkError = (error) =>
      this.#report({
        connectionId: conn.id,
        message: `queued work failed: ${String(error)}`,
        error,
      });
    this.#open.set(conn.id, conn);
    this.#remote?.opened(conn.id);
    guardFrameSize(socket, limits.frameBytes, () => conn.close(1009, "Message too big"));
    // One timer per connection for both limits (idle and lifetime): it wakes at the earlier
    // deadline and re-arms itself, so activity costs a field write, not a timer reset.
    const endOfLife = conn.facts.connectedAt + limits.maxConnectionMs;
    const check = () => {
      const now = Date.now();
      const idleDeadline = conn.lastActiveAt + limits.idleTimeoutMs;
      if (now >= endOfLife || now >= idleDeadline) {
        conn.close(1001, "Going away");
        return;
      }
      conn.timer = setTimeout(check, Math.min(idleDeadline, endOfLife) - now);
    };
    conn.timer = setTimeout(check, Math.min(limits.idleTimeoutMs, limits.maxConnectionMs));
    ws.on("message", (data, isBinary) => this.#onMessage(conn, data as Buffer, isBinary));
    ws.on("error", (error) => {
      // ws closes the socket itself (e.g. 1009 for a message over maxPayload); record why.
      const code = (error as { code?: string }).code;
      if (code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" && !conn.closing) {
        conn.closing = { code: 1009, reason: "Message too big" };
      }
      this.#report({ connectionId: conn.id, message: error.message, error });
    });
    ws.on("close", (code, reasonBuffer) => this.#onClose(conn, code, reasonBuffer.toString()));
  }

  #onMessage(conn: Connection, data: Buffer, isBinary: boolean): void {
    if (conn.closing) return;
    if (isBinary) {
      conn.close(1003, "Binary frames are not supported");
      return;
    }
    conn.lastActiveAt = Date.now();
    const gen = this.#generation;
    const text = data.toString();
    // Parsed once per frame: route selection, the body schema and the typed API all use it.
    const parsed = parseJson(text);
    let key: string;
    try {
      key = gen.select(parsed !== null && typeof parsed === "object" ? parsed : undefined);
    } catch (error) {
      // A value too deeply nested to stringify: unmatched ($default), never a crash.
      key = "";
      this.#report({ connectionId: conn.id, message: `route selection failed: ${error}`, error });
    }
    // $connect/$disconnect are lifecycle routes: a message naming them is not a match.
    const exact = key === CONNECT || key === DISCONNECT ? undefined : gen.routes.get(key);
    const route = exact ?? gen.defaultRoute;
    if (this.listenerCount("message") > 0) {
      this.emit("message", { connectionId: conn.id, routeKey: route?.key, bytes: data.length });
    }
    conn.enqueue(() => this.#dispatch(gen, conn, route, text, parsed));
  }

  async #dispatch(
    gen: Generation,
    conn: Connection,
    route: Route | undefined,
    text: string,
    parsed: unknown,
  ): Promise<void> {
    const event = buildMessageEvent(conn.facts, route?.key ?? "", text, Date.now());
    const rc = event.requestContext;
    if (!route) {
      this.#errorFrame(conn, forbiddenFrame(conn.id, rc.requestId));
      return;
    }
    let known = gen.schemas.get(route);
    if (!known) {
      known = gen.invoker.bodySchema(route).catch(() => undefined);
      gen.schemas.set(route, known);
    }
    let schema: StandardSchemaV1 | undefined;
    if (known instanceof Promise) {
      schema = await known;
      gen.schemas.set(route, { schema });
    } else {
      schema = known.schema;
    }
    let bindings = this.#plainBindings;
    const spec = gen.specs.get(route) ?? functionSpecFor(gen.app, route);
    if (schema) {
      const checked = await validateParsed(schema, parsed);
      if (!checked.ok) {
        this.#errorFrame(conn, badRequestBodyFrame(conn.id, rc.messageId ?? ""));
        this.emit("invoke", {
          connectionId: conn.id,
          routeKey: route.key,
          functionName: spec.functionName,
          outcome: "bad-request",
          durationMs: 0,
        });
        return;
      }
      bindings = this.#bindings({ value: checked.value });
    } else {
      // What `ctx.body` is without a schema: the JSON value, or the text when it is not JSON.
      bindings = this.#bindings({ value: parsed === NOT_JSON ? text : parsed });
    }
    const outcome = await gen.invoker.invoke(spec, event, bindings, rc.requestId);
    this.#reportInvoke(conn.id, route.key, spec, outcome);
    if (outcome.kind === "timeout") {
      this.#errorFrame(conn, timeoutFrame(conn.id, rc.requestId));
      return;
    }
    if (outcome.kind === "error") {
      this.#errorFrame(conn, internalServerErrorFrame(conn.id, rc.requestId));
      return;
    }
    if (route.routeResponse) {
      const body = routeResponseBody(outcome.result);
      if (body !== undefined) {
        try {
          this.postToConnection(conn.id, body, "route-response");
        } catch {
          // gone meanwhile: nothing to answer
        }
      }
    }
  }

  /**
   * A report, never a throw: EventEmitter throws an "error" nobody listens for (a client's
   * oversized message would crash the process).
   */
  #report(report: GatewayEventMap["error"][0]): void {
    if (this.listenerCount("error") > 0) this.emit("error", report);
  }

  #errorFrame(conn: Connection, frame: string): void {
    try {
      this.postToConnection(conn.id, frame, "error-frame");
    } catch {
      // the connection went away while its message was handled
    }
  }

  #reportInvoke(
    connectionId: string,
    routeKey: string,
    spec: FunctionSpec,
    outcome: InvokeOutcome,
  ): void {
    if (this.listenerCount("invoke") === 0 && outcome.kind === "ok") return;
    const statusCode = outcome.kind === "ok" ? resultStatus(outcome.result) : undefined;
    this.emit("invoke", {
      connectionId,
      routeKey,
      functionName: spec.functionName,
      outcome: outcome.kind,
      durationMs: outcome.durationMs,
      ...(statusCode !== undefined ? { statusCode } : {}),
      ...(outcome.kind === "error" ? { error: outcome.error } : {}),
    });
  }

  #onClose(conn: Connection, code: number, reason: string): void {
    conn.clearTimer();
    this.#open.delete(conn.id);
    this.#remote?.closed(conn.id);
    const closing = conn.closing;
    const statusCode = closing ? closing.code : code;
    const statusReason = closing
      ? closing.reason
      : code === 1005
        ? CLIENT_NO_STATUS_REASON
        : reason;
    this.emit("disconnect", {
      connectionId: conn.id,
      code: statusCode,
      reason: statusReason,
      durationMs: Date.now() - conn.facts.connectedAt,
    });
    const gen = this.#generation;
    if (!gen.disconnectRoute) return;
    // Behind the connection's queued messages, so handlers see events in order.
    const tail = conn.enqueue(async () =>
      this.#invokeDisconnect(gen, conn.facts, statusCode, statusReason),
    );
    this.#settling.add(tail);
    void tail.then(() => this.#settling.delete(tail));
  }

  async #invokeDisconnect(
    gen: Generation,
    facts: ConnectionFacts,
    code: number,
    reason: string,
  ): Promise<void> {
    const route = gen.disconnectRoute;
    if (!route) return;
    const event = buildDisconnectEvent(facts, code, reason, Date.now());
    const spec = gen.specs.get(route) ?? functionSpecFor(gen.app, route);
    const outcome = await gen.invoker.invoke(
      spec,
      event,
      this.#plainBindings,
      event.requestContext.requestId,
    );
    this.#reportInvoke(facts.connectionId, DISCONNECT, spec, outcome);
  }
}
