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

/** Says a connection's piece of work is over: with what failed in it, if anything (reported). */
export type Done = (error?: unknown) => void;

/** A piece of a connection's work: calls `done` once, whatever happens (see `Connection.enqueue`). */
export type Work = (done: Done) => void;

/** `done` for a piece whose promise rejected (a rejection without a reason still fails it). */
export function failedWith(done: Done): (error: unknown) => void {
  return (error) => done(error ?? new Error("queued work rejected"));
}

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

  /** Where failures of queued work go (the queue itself goes on to the next piece). */
  onWorkError: (error: unknown) => void = () => undefined;

  // This connection's work, one piece at a time in arrival order: the running piece, and the
  // pieces behind it (bounded by the caller: `GatewayBounds.queuedMessages`). Each piece says
  // when it is done through a callback, not a promise: with fault containment on, Node 20 runs
  // its promise hooks for every promise (a promise chain, `tail.then(work).catch()`, was three
  // per message; bench/README.md, "Before/after").
  #running = false;
  #waiting: Array<Work | undefined> = [];
  /** Where the next waiting piece is in `#waiting` (taken from the front without a shift). */
  #head = 0;
  #idle: Array<() => void> | undefined;

  /**
   * Run `work` once everything queued before it on this connection is done; at once
   * (synchronously) when nothing is running.
   */
  enqueue(work: Work): void {
    if (this.#running) {
      this.#waiting.push(work);
      return;
    }
    this.#running = true;
    this.#pump(work);
  }

  /** Run `first`, then the pieces waiting behind it; a loop while they finish synchronously. */
  #pump(first: Work): void {
    let work: Work | undefined = first;
    while (work) {
      let called = false;
      let inside = true;
      let finishedInside = false;
      const done: Done = (error) => {
        if (called) {
          if (error !== undefined) this.onWorkError(error);
          return;
        }
        called = true;
        if (error !== undefined) this.onWorkError(error);
        if (inside) finishedInside = true;
        else this.#continue();
      };
      try {
        work(done);
      } catch (error) {
        done(error ?? new Error("queued work threw"));
      }
      inside = false;
      // Not done yet: its `done` goes on with the queue when it is.
      if (!finishedInside) return;
      work = this.#take();
    }
    this.#settle();
  }

  #take(): Work | undefined {
    const waiting = this.#waiting;
    if (this.#head >= waiting.length) return undefined;
    const work = waiting[this.#head];
    waiting[this.#head] = undefined;
    this.#head += 1;
    if (this.#head === waiting.length) {
      waiting.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= waiting.length) {
      // Never empty for long (a client that keeps pipelining): drop the taken front.
      waiting.splice(0, this.#head);
      this.#head = 0;
    }
    return work;
  }

  #continue(): void {
    const work = this.#take();
    if (work) this.#pump(work);
    else this.#settle();
  }

  #settle(): void {
    this.#running = false;
    const idle = this.#idle;
    this.#idle = undefined;
    if (idle) for (const resolve of idle) resolve();
  }

  /** Resolves once this connection's queued work has all run (at once when none is queued). */
  idle(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.#idle) this.#idle.push(resolve);
      else this.#idle = [resolve];
    });
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
