import { isUtf8 } from "node:buffer";
import type { EventEmitter } from "node:events";
import type { RemoteConnections } from "../cluster/remote-connections.js";
import {
  type ConnectionInfo,
  GoneError,
  LimitExceededError,
  type Management,
  type SendManyResult,
} from "../runtime/management.js";
import { CLOSES } from "../wire.js";
import type { Connection } from "./connection.js";
import { FRAME_TEXT_CHARS, type GatewayEventMap } from "./gateway-events.js";

/** Why data goes out: the `@connections` API, a two-way route's answer, or an error frame. */
export type SendVia = "management" | "route-response" | "error-frame";

/**
 * The connections a gateway holds, and the one implementation of {@link Management} over them
 * (what handlers, the `@connections` HTTP API and the cluster call). A connection another node
 * holds is reached through the cluster ({@link RemoteConnections}); the `*Local` methods never
 * forward, so the cluster can answer with them without forwarding a call twice.
 */
export class Connections implements Management {
  readonly #open = new Map<string, Connection>();
  /** Connections whose `$connect` has not returned yet (PostToConnection answers 410). */
  readonly #pending = new Set<string>();
  readonly #events: EventEmitter<GatewayEventMap>;
  readonly #frameBytes: () => number;
  #remote: RemoteConnections | undefined;

  readonly #outboundBytes: number;

  /**
   * @param events where `send` reports go (only when someone listens).
   * @param frameBytes the frame limit now in force (AWS splits data at 32 KiB frames).
   * @param outboundBytes unread bytes a connection may hold before sends answer 429.
   */
  constructor(
    events: EventEmitter<GatewayEventMap>,
    frameBytes: () => number,
    outboundBytes: number,
  ) {
    this.#events = events;
    this.#frameBytes = frameBytes;
    this.#outboundBytes = outboundBytes;
  }

  /** Number of open connections. */
  get size(): number {
    return this.#open.size;
  }

  /** Ids of open connections. */
  ids(): string[] {
    return [...this.#open.keys()];
  }

  /** Open connections (a snapshot). */
  all(): Connection[] {
    return [...this.#open.values()];
  }

  /** An open connection this gateway holds, if any (the dev inspector's actions). */
  local(connectionId: string): Connection | undefined {
    return this.#open.get(connectionId);
  }

  /** A handshake began: PostToConnection answers 410 for it until it is accepted. */
  begin(connectionId: string): void {
    this.#pending.add(connectionId);
  }

  /** The handshake ended (accepted or refused). */
  end(connectionId: string): void {
    this.#pending.delete(connectionId);
  }

  /** Whether `$connect` is still running for this id (for the 410 the API gives then). */
  isPending(connectionId: string): boolean {
    return this.#pending.has(connectionId);
  }

  /** A connection was accepted (after `$connect`). */
  add(conn: Connection): void {
    this.#open.set(conn.id, conn);
    this.#remote?.opened(conn.id);
  }

  /** A connection closed. */
  remove(conn: Connection): void {
    this.#open.delete(conn.id);
    this.#remote?.closed(conn.id);
  }

  /**
   * Make a connection reachable from the other nodes before its handshake completes (bounded;
   * never rejects). Nothing to do outside a cluster.
   */
  async register(connectionId: string): Promise<void> {
    await this.#remote?.register(connectionId);
  }

  /** Join a cluster: ids this gateway does not hold are looked up on the other nodes. */
  attachRemote(remote: RemoteConnections | undefined): void {
    this.#remote = remote;
  }

  // ---- Management: each falls back to the cluster for a connection another node holds ----

  async send(connectionId: string, data: string | Uint8Array): Promise<void> {
    const remote = this.#heldElsewhere(connectionId);
    if (remote) return remote.send(connectionId, data);
    this.postToConnection(connectionId, data, "management");
  }

  /**
   * The same data to many connections: this node's are sent to directly; the others go to the
   * cluster in one call, which forwards one message per owner node (per batch of ids).
   */
  async sendMany(
    connectionIds: readonly string[],
    data: string | Uint8Array,
  ): Promise<SendManyResult> {
    const result: SendManyResult = { sent: [], gone: [], failed: [] };
    const elsewhere: string[] = [];
    const here: string[] = [];
    for (const id of connectionIds) (this.#heldElsewhere(id) ? elsewhere : here).push(id);
    // The cluster's lookups and messages are on their way while this node sends its own.
    const forwarded =
      elsewhere.length > 0 && this.#remote ? this.#remote.sendMany(elsewhere, data) : undefined;
    for (const id of here) {
      try {
        this.postToConnection(id, data, "management");
        result.sent.push(id);
      } catch (error) {
        if (error instanceof GoneError) result.gone.push(id);
        else result.failed.push({ connectionId: id, error });
      }
    }
    if (forwarded) {
      // One by one: a spread of a large broadcast's ids would exceed the argument limit.
      const remote = await forwarded;
      for (const id of remote.sent) result.sent.push(id);
      for (const id of remote.gone) result.gone.push(id);
      for (const failure of remote.failed) result.failed.push(failure);
    }
    return result;
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

  /**
   * A connection this gateway holds that is still open: not closing from either side (a client
   * whose close frame arrived is gone for all three calls, as its `$disconnect` is coming).
   */
  #live(connectionId: string): Connection {
    const conn = this.#open.get(connectionId);
    if (!conn || conn.closing || conn.ws.readyState !== 1) throw new GoneError(connectionId);
    return conn;
  }

  /** DeleteConnection for a connection this gateway holds (never forwarded). Throws GoneError. */
  disconnectLocal(connectionId: string): void {
    this.#live(connectionId).close(CLOSES.normal.code, CLOSES.normal.reason);
  }

  /** GetConnection for a connection this gateway holds (never forwarded). Throws GoneError. */
  infoLocal(connectionId: string): ConnectionInfo {
    const conn = this.#live(connectionId);
    return {
      connectedAt: new Date(conn.facts.connectedAt),
      lastActiveAt: new Date(conn.lastActiveAt),
      identity: conn.facts.identity,
    };
  }

  /**
   * PostToConnection for a connection this gateway holds: synchronous hand-off. Throws
   * GoneError, or LimitExceededError when the client has left too much unread.
   */
  postToConnection(connectionId: string, data: string | Uint8Array, via: SendVia): void {
    const conn = this.#live(connectionId);
    if (conn.ws.bufferedAmount >= this.#outboundBytes) throw new LimitExceededError(connectionId);
    this.#sendFrames(conn, data);
    conn.lastActiveAt = Date.now();
    if (this.#events.listenerCount("send") > 0) {
      this.#events.emit("send", {
        connectionId,
        bytes: typeof data === "string" ? Buffer.byteLength(data) : data.byteLength,
        via,
        data,
      });
    }
    if (this.#events.listenerCount("frame") > 0) this.#reportFrame(connectionId, data, via);
  }

  /** The `frame` report of data sent (only built while someone listens: text is copied). */
  #reportFrame(connectionId: string, data: string | Uint8Array, via: SendVia): void {
    let text: string;
    let bytes: number;
    let binary = false;
    let truncated: boolean;
    if (typeof data === "string") {
      bytes = Buffer.byteLength(data);
      text = data.slice(0, FRAME_TEXT_CHARS);
      truncated = data.length > FRAME_TEXT_CHARS;
    } else {
      bytes = data.byteLength;
      binary = !isUtf8(data);
      // Enough bytes for FRAME_TEXT_CHARS characters either way (UTF-8: up to 4 bytes each).
      const shown = Math.min(bytes, FRAME_TEXT_CHARS * (binary ? 0.75 : 4));
      const head = Buffer.from(data.buffer, data.byteOffset, shown);
      const decoded = binary ? head.toString("base64") : head.toString("utf8");
      text = decoded.slice(0, FRAME_TEXT_CHARS);
      truncated = shown < bytes || decoded.length > FRAME_TEXT_CHARS;
    }
    this.#events.emit("frame", {
      connectionId,
      direction: "out",
      data: text,
      bytes,
      truncated,
      binary,
      via,
      at: Date.now(),
    });
  }

  /** The cluster, when the connection is not this gateway's (neither open nor in `$connect`). */
  #heldElsewhere(connectionId: string): RemoteConnections | undefined {
    if (!this.#remote || this.#open.has(connectionId) || this.#pending.has(connectionId)) {
      return undefined;
    }
    return this.#remote;
  }

  /**
   * Bytes in, as frames of at most the frame limit (AWS splits @connections data at 32 KiB):
   * text, or a binary message for bytes that are not UTF-8 (as text, the client would have to
   * fail the connection with 1007).
   */
  #sendFrames(conn: Connection, data: string | Uint8Array): void {
    const limit = this.#frameBytes();
    const binary = typeof data !== "string" && !isUtf8(data);
    if ((typeof data === "string" ? data.length * 3 : data.byteLength) <= limit) {
      conn.send(data, true, binary);
      return;
    }
    const bytes =
      typeof data === "string"
        ? Buffer.from(data)
        : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.length <= limit) {
      conn.send(bytes, true, binary);
      return;
    }
    for (let offset = 0; offset < bytes.length; offset += limit) {
      const end = Math.min(offset + limit, bytes.length);
      conn.send(bytes.subarray(offset, end), end === bytes.length, binary);
    }
  }
}
