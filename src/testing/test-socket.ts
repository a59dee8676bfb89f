import { EventEmitter } from "node:events";
import type { WebSocketLike } from "../gateway/connection.js";
import type { SendVia } from "../gateway/connections.js";

/** One message a test connection received. */
export interface ReceivedMessage {
  /** The message as the client got it: text, or bytes for a binary message. */
  data: string | Buffer;
  /** The data as text (UTF-8 for a binary message). */
  text: string;
  /**
   * Why it was sent: a `@connections` POST / `ctx.send` (`management`), a two-way route's
   * answer (`route-response`) or an error frame the gateway wrote (`error-frame`).
   */
  via: SendVia | undefined;
  /** The text parsed as JSON (throws when it is not JSON). */
  json<T = unknown>(): T;
}

/** How a test connection ended. */
export interface CloseRecord {
  code: number;
  reason: string;
  /** Who started the close: the gateway (idle timeout, `ctx.disconnect`, ...) or the client. */
  by: "gateway" | "client";
}

/** Longest a test waits for a message or a close before failing (bounded: no hanging test). */
export const DEFAULT_WAIT_MS = 2000;

const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

function receivedMessage(data: string | Buffer): ReceivedMessage {
  const text = typeof data === "string" ? data : data.toString("utf8");
  return { data, text, via: undefined, json: <T>() => JSON.parse(text) as T };
}

/**
 * The test kit's stand-in for a `ws` WebSocket: what the gateway sends is recorded as the
 * client would receive it (fragments joined into messages), and the test plays the client by
 * emitting `message` and `close` as `ws` does. The gateway's own code runs unchanged over it.
 */
export class TestSocket extends EventEmitter implements WebSocketLike {
  readyState = OPEN;
  readonly CLOSED = CLOSED;
  /** Nothing waits unwritten: the recorder takes every frame at once. */
  readonly bufferedAmount = 0;
  /** Every message received so far, in order. */
  readonly received: ReceivedMessage[] = [];
  /** Set once the connection is closed. */
  closed: CloseRecord | undefined;
  /** The subprotocol `$connect` chose (the 101's `Sec-WebSocket-Protocol`), if any. */
  protocol: string | undefined;
  #fragments: Array<string | Uint8Array> = [];
  #fragmentsBinary = false;
  #waiters: Array<() => void> = [];

  send(data: string | Uint8Array, options: { binary: boolean; fin: boolean }): void {
    if (this.readyState !== OPEN) return;
    if (this.#fragments.length === 0) this.#fragmentsBinary = options.binary;
    this.#fragments.push(data);
    if (!options.fin) return;
    const parts = this.#fragments;
    this.#fragments = [];
    const whole =
      parts.length === 1 && typeof parts[0] === "string"
        ? parts[0]
        : Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : p)));
    const data2 =
      this.#fragmentsBinary || typeof whole === "string"
        ? whole
        : (whole as Buffer).toString("utf8");
    this.received.push(receivedMessage(data2));
    this.#wake();
  }

  /** Mark the last message with why it was sent (the gateway's `send` report). */
  markLast(via: SendVia): void {
    const last = this.received[this.received.length - 1];
    if (last && last.via === undefined) last.via = via;
  }

  /** The gateway closes: the client answers the close frame at once, as a browser does. */
  close(code: number, reason: string): void {
    if (this.readyState !== OPEN) return;
    this.readyState = CLOSING;
    setImmediate(() => this.#end({ code, reason, by: "gateway" }));
  }

  terminate(): void {
    if (this.readyState === CLOSED) return;
    this.#end({ code: 1006, reason: "", by: "gateway" });
  }

  /** The client sends a text (or binary) message. */
  clientSend(data: string | Buffer, isBinary: boolean): void {
    if (this.readyState !== OPEN) throw new Error("the connection is closed");
    this.emit("message", typeof data === "string" ? Buffer.from(data) : data, isBinary);
  }

  /** The client closes; without a code, as a close frame without one (1005 on the gateway). */
  clientClose(code: number | undefined, reason: string): void {
    if (this.readyState !== OPEN) return;
    this.readyState = CLOSING;
    this.#end({ code: code ?? 1005, reason, by: "client" });
  }

  /** Resolves when a message past `index` arrived or the connection closed, or rejects after `ms`. */
  waitFor(ready: () => boolean, what: string, ms: number): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== check);
        reject(new Error(`no ${what} within ${ms} ms`));
      }, ms);
      const check = () => {
        if (!ready()) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve();
      };
      this.#waiters.push(check);
    });
  }

  #end(record: CloseRecord): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.closed = record;
    this.emit("close", record.code, Buffer.from(record.reason));
    this.#wake();
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
