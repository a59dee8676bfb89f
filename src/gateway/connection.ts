import type { ConnectionFacts } from "./events.js";

/**
 * What the gateway uses of a WebSocket: `ws`'s `WebSocket` is one; the test kit's recorder
 * (`switchboard/testing`) is another, so the real dispatch path runs without a socket. An
 * interface, not a wrapper: the per-message path calls `ws` directly, as before.
 */
export interface WebSocketLike {
  /** 1 while open, 3 once closed (the `ws` constants). */
  readonly readyState: number;
  readonly CLOSED: number;
  /** Bytes queued for the client and not yet written. */
  readonly bufferedAmount: number;
  send(data: string | Uint8Array, options: { binary: boolean; fin: boolean }): void;
  close(code: number, reason: string): void;
  terminate(): void;
  on(event: "message", listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: "error", listener: (error: Error) => void): this;
  on(event: "close", listener: (code: number, reason: Buffer) => void): this;
  once(event: "close", listener: () => void): this;
}

/** What the gateway uses of the byte stream under a WebSocket: write coalescing. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

const uncork = (conn: Connection) => {
  conn.corked = false;
  conn.socket.uncork();
};

/** One open WebSocket connection as the gateway tracks it. */
export class Connection {
  readonly facts: ConnectionFacts;
  readonly ws: WebSocketLike;
  /** The TCP socket under `ws` (for write coalescing). */
  readonly socket: Corkable;
  /** Whether writes are being held until the end of this tick (see `send`). */
  corked = false;
  /** Epoch ms of the last data frame in or out (GetConnection's lastActiveAt). */
  lastActiveAt: number;
  /** Set when the gateway closes the connection itself, so `$disconnect` reports our code. */
  closing: { code: number; reason: string } | undefined;
  /** Tail of this connection's work: messages are handled in order, one at a time. */
  tail: Promise<void> = Promise.resolve();
  /** The idle/lifetime timer (see session.ts). */
  timer: NodeJS.Timeout | undefined;
  /** Messages queued behind the running one, and their bytes (bounded: `GatewayBounds`). */
  waiting = 0;
  waitingBytes = 0;
  /** Set once the socket closed: messages still waiting are dropped, not run. */
  ended = false;
  /** Waiting messages dropped because the connection ended first. */
  dropped = 0;

  constructor(facts: ConnectionFacts, ws: WebSocketLike, socket: Corkable) {
    this.facts = facts;
    this.ws = ws;
    this.socket = socket;
    this.lastActiveAt = facts.connectedAt;
  }

  get id(): string {
    return this.facts.connectionId;
  }

  /** Where failures of queued work go (the chain itself never rejects). */
  onWorkError: (error: unknown) => void = () => undefined;

  /** Queue work behind everything already queued on this connection. */
  enqueue(work: () => Promise<void>): Promise<void> {
    this.tail = this.tail.then(work).catch((error: unknown) => this.onWorkError(error));
    return this.tail;
  }

  /**
   * Send one frame: text, or binary for bytes that are not UTF-8 (`binary`; only the first
   * frame of a fragmented message carries the type). Frames sent to a connection in the same
   * tick leave in one `writev` (the socket is corked until the tick's microtasks have run): a
   * client that pipelines messages gets its answers with one system call instead of one each,
   * and no answer waits longer than the current tick.
   */
  send(data: string | Uint8Array, fin = true, binary = false): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(uncork, this);
    }
    this.ws.send(data, { binary, fin });
  }

  /** Close from the gateway's side with an AWS close code. */
  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = { code, reason };
    this.ws.close(code, reason);
  }

  clearTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
