import type { IncomingMessage } from "node:http";
import { Duplex } from "node:stream";
import type { App } from "../app/model.js";
import type { Connection } from "../gateway/connection.js";
import { Gateway } from "../gateway/gateway.js";
import type { ConnectReport, GatewayEventMap, InvokeReport } from "../gateway/gateway-events.js";
import { chosenProtocol } from "../gateway/generation.js";
import type { Invoker } from "../invoker/invoker.js";
import type { ConnectionRecord, ConnectionStore } from "../runtime/connection-store.js";
import {
  type CloseRecord,
  DEFAULT_WAIT_MS,
  type ReceivedMessage,
  TestSocket,
} from "./test-socket.js";

/** How a test client connects (what a real client puts in its handshake). */
export interface ConnectOptions {
  /** Query string parameters (`?user=alice`), as a record or a string. */
  query?: Record<string, string> | string;
  /** Request headers (`Authorization`, `Sec-WebSocket-Protocol`, ...). */
  headers?: Record<string, string>;
  /** The request path: `/` (default) or `/{stage}`; any other is refused with 403, as on AWS. */
  path?: string;
  /** The client's address (`requestContext.identity.sourceIp`); default 127.0.0.1. */
  sourceIp?: string;
}

/** A handshake the gateway refused (authorizer, `$connect`, path): its HTTP answer. */
export class HandshakeRefused extends Error {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string>;
  /** Why, as the gateway's `connect` report says (`authorizer: Unauthorized`, ...). */
  readonly reason: string | undefined;
  constructor(status: number, body: string, headers: Record<string, string>, reason?: string) {
    super(`handshake refused with ${status}${reason ? ` (${reason})` : ""}: ${body}`);
    this.name = "HandshakeRefused";
    this.status = status;
    this.body = body;
    this.headers = headers;
    this.reason = reason;
  }
}

/** What one `send` did: every message this connection got while it ran, and the answer. */
export interface SendResult {
  /** Messages this connection received while the message was handled. */
  received: ReceivedMessage[];
  /** The two-way route's answer or the error frame, if the gateway wrote one. */
  response: ReceivedMessage | undefined;
}

const WEBSOCKET_KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** The HTTP answer written to a refused handshake's socket, read back. */
function parseAnswer(raw: string): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  const split = raw.indexOf("\r\n\r\n");
  const head = split < 0 ? raw : raw.slice(0, split);
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: Number(statusLine.split(" ")[1] ?? 0),
    headers,
    body: split < 0 ? "" : raw.slice(split + 4),
  };
}

/**
 * One client connection to a {@link TestGateway}: send as the client, read what it received,
 * close it. `Message` types what `send` takes.
 */
export class TestConnection<Message = unknown> {
  readonly id: string;
  readonly #socket: TestSocket;
  readonly #conn: Connection;
  readonly #waitMs: number;
  #read = 0;

  /** @internal */
  constructor(conn: Connection, socket: TestSocket, waitMs: number) {
    this.id = conn.id;
    this.#conn = conn;
    this.#socket = socket;
    this.#waitMs = waitMs;
  }

  /** Every message received so far, in order. */
  get received(): readonly ReceivedMessage[] {
    return this.#socket.received;
  }

  /** How the connection ended (undefined while open). */
  get closed(): CloseRecord | undefined {
    return this.#socket.closed;
  }

  /** The subprotocol `$connect` chose (`Sec-WebSocket-Protocol` of the 101), if any. */
  get protocol(): string | undefined {
    return this.#socket.protocol;
  }

  /** `requestContext.authorizer` as the authorizer allowed the connection with. */
  get authorizer(): Record<string, string | number> | undefined {
    return this.#conn.facts.authorizer as Record<string, string | number> | undefined;
  }

  /**
   * Send a message as the client: an object is sent as JSON, a string as is, a Buffer as a
   * binary message (which API Gateway closes with 1003). Resolves once the gateway handled it
   * (its route ran and answered).
   */
  async send(message: Message | string | Buffer): Promise<SendResult> {
    const before = this.#socket.received.length;
    if (Buffer.isBuffer(message)) this.#socket.clientSend(message, true);
    else {
      this.#socket.clientSend(
        typeof message === "string" ? message : JSON.stringify(message),
        false,
      );
    }
    await this.#conn.idle();
    const received = this.#socket.received.slice(before);
    return {
      received,
      response: received.find((m) => m.via === "route-response" || m.via === "error-frame"),
    };
  }

  /**
   * The next message not yet read with `next` (waits up to `ms`, default the test gateway's
   * `waitMs`; throws if none arrives, or the connection closed first).
   */
  async next(ms = this.#waitMs): Promise<ReceivedMessage> {
    const socket = this.#socket;
    await socket.waitFor(
      () => socket.received.length > this.#read || socket.closed !== undefined,
      `message on ${this.id}`,
      ms,
    );
    const message = socket.received[this.#read];
    if (!message) throw new Error(`connection ${this.id} closed (${socket.closed?.code})`);
    this.#read++;
    return message;
  }

  /** Close as the client (no code: a close frame without one, 1005); resolves after `$disconnect`. */
  async close(code?: number, reason = ""): Promise<void> {
    this.#socket.clientClose(code, reason);
    await this.#conn.idle();
  }

  /**
   * Wait (up to `ms`, default the gateway's `waitMs`) for the connection to close (idle
   * timeout, `ctx.disconnect`, a binary message, ...), then for its `$disconnect`.
   */
  async waitForClose(ms = this.#waitMs): Promise<CloseRecord> {
    const socket = this.#socket;
    await socket.waitFor(() => socket.closed !== undefined, `close of ${this.id}`, ms);
    await this.#conn.idle();
    return socket.closed as CloseRecord;
  }
}

/** Options of a test gateway. */
export interface TestGatewayOptions {
  /** How long `next()` and `waitForClose()` wait; default 2000 ms. */
  waitMs?: number;
  /** Region for ARNs; default us-east-1. */
  region?: string;
  /** Called once the gateway is closed (releases the module loader). */
  onClose?: () => Promise<void>;
}

/**
 * An app served by the real gateway (handshake, route selection, schemas, ordering, error
 * frames, `@connections`) with an in-memory transport and connection table: no port, no AWS.
 * `Row` types the connection table, `Message` what clients send.
 */
export class TestGateway<Row extends ConnectionRecord = ConnectionRecord, Message = unknown> {
  /** The real gateway underneath (its events, `management`). */
  readonly gateway: Gateway;
  /** Every function run so far (route, outcome, error), in order. */
  readonly invocations: InvokeReport[] = [];
  /** Every handshake so far, accepted or refused (with the reason). */
  readonly handshakes: ConnectReport[] = [];
  readonly #sockets = new Map<string, TestSocket>();
  readonly #pending = new WeakMap<IncomingMessage, TestSocket>();
  readonly #options: TestGatewayOptions;

  constructor(app: App, invoker: Invoker, options: TestGatewayOptions = {}) {
    this.#options = options;
    this.gateway = new Gateway({
      app,
      invoker,
      ...(options.region ? { region: options.region } : {}),
      shutdownTimeoutMs: 2000,
      completeUpgrade: (_wss, req, _socket, _head, done) => {
        const socket = this.#pending.get(req);
        if (!socket) return;
        socket.protocol = chosenProtocol(req);
        done(socket);
      },
    });
    this.gateway.on("invoke", (report) => this.invocations.push(report));
    this.gateway.on("connect", (report) => this.handshakes.push(report));
    this.gateway.on("send", (report) =>
      this.#sockets.get(report.connectionId)?.markLast(report.via),
    );
    // Errors are kept as events (a listener, so the gateway never throws them).
    this.gateway.on("error", (report) => this.errors.push(report));
  }

  /** Errors the gateway reported (socket errors, queue overflows, handler faults). */
  readonly errors: GatewayEventMap["error"][0][] = [];

  /** The connection table handlers see (`ctx.connections`). */
  get table(): ConnectionStore<Row> {
    return this.gateway.connections as unknown as ConnectionStore<Row>;
  }

  /**
   * Connect a client: the authorizer and `$connect` run as on AWS. Throws
   * {@link HandshakeRefused} (status, body, reason) when the gateway refuses.
   */
  async connect(options: ConnectOptions = {}): Promise<TestConnection<Message>> {
    const query =
      typeof options.query === "string"
        ? options.query.replace(/^\?/, "")
        : new URLSearchParams(options.query ?? {}).toString();
    const headers: Record<string, string> = {
      host: "localhost",
      connection: "Upgrade",
      upgrade: "websocket",
      "sec-websocket-key": WEBSOCKET_KEY,
      "sec-websocket-version": "13",
    };
    const rawHeaders = ["Host", "localhost"];
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      headers[name.toLowerCase()] = value;
      rawHeaders.push(name, value);
    }
    rawHeaders.push(
      "Connection",
      "Upgrade",
      "Upgrade",
      "websocket",
      "Sec-WebSocket-Key",
      WEBSOCKET_KEY,
      "Sec-WebSocket-Version",
      "13",
    );
    const req = {
      method: "GET",
      url: `${options.path ?? "/"}${query ? `?${query}` : ""}`,
      headers,
      rawHeaders,
      socket: { remoteAddress: options.sourceIp ?? "127.0.0.1", localPort: 0 },
    } as unknown as IncomingMessage;
    const written: Buffer[] = [];
    const wire = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        written.push(chunk);
        callback();
      },
    });
    const socket = new TestSocket();
    this.#pending.set(req, socket);
    const seen = this.handshakes.length;
    await this.gateway.handleUpgrade(req, wire, Buffer.alloc(0));
    const conn = this.gateway.management.all().find((c) => c.ws === socket);
    if (!conn) {
      const answer = parseAnswer(Buffer.concat(written).toString());
      const report = this.handshakes.slice(seen).find((r) => r.status !== 101);
      throw new HandshakeRefused(answer.status, answer.body, answer.headers, report?.reason);
    }
    this.#sockets.set(conn.id, socket);
    return new TestConnection<Message>(conn, socket, this.#options.waitMs ?? DEFAULT_WAIT_MS);
  }

  /** Messages a connection received (any connection this gateway held), in order. */
  sentTo(connectionId: string): readonly ReceivedMessage[] {
    return this.#sockets.get(connectionId)?.received ?? [];
  }

  /** Ids of the connections open now. */
  get openIds(): string[] {
    return this.gateway.connectionIds();
  }

  /** Close every connection (1001, `$disconnect` runs) and release the gateway. */
  async close(): Promise<void> {
    await this.gateway.close();
    await this.#options.onClose?.();
  }
}
