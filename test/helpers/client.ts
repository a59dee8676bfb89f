import WebSocket, { type ClientOptions } from "ws";

/** A real `ws` client that queues what it receives, for step-by-step assertions. */
export class TestClient {
  readonly ws: WebSocket;
  readonly received: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: Array<(message: string) => void> = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("message", (data) => {
      const text = data.toString();
      const waiter = this.#waiters.shift();
      if (waiter) waiter(text);
      else this.received.push(text);
    });
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  /** Connect and wait for the handshake; rejects with the HTTP status when refused. */
  static connect(
    url: string,
    options: ClientOptions & { protocols?: string[] } = {},
  ): Promise<TestClient> {
    const { protocols, ...rest } = options;
    const ws = new WebSocket(url, protocols, rest);
    const client = new TestClient(ws);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(client));
      ws.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => reject(new HandshakeRefused(res.statusCode ?? 0, body)));
      });
      ws.once("error", (error) => reject(error));
    });
  }

  /** The next message (queued or still to come). */
  next(timeoutMs = 3000): Promise<string> {
    const queued = this.received.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`no message within ${timeoutMs}ms`));
      }, timeoutMs);
      const waiter = (message: string) => {
        clearTimeout(timer);
        resolve(message);
      };
      this.#waiters.push(waiter);
    });
  }

  async nextJson<T = Record<string, unknown>>(timeoutMs?: number): Promise<T> {
    return JSON.parse(await this.next(timeoutMs)) as T;
  }

  /** Resolves true if nothing arrives within `ms`. */
  async silentFor(ms: number): Promise<boolean> {
    try {
      const message = await this.next(ms);
      this.received.unshift(message);
      return false;
    } catch {
      return true;
    }
  }

  send(data: unknown): void {
    this.ws.send(typeof data === "string" || Buffer.isBuffer(data) ? data : JSON.stringify(data));
  }

  /** Send and wait for one answer. */
  async ask<T = Record<string, unknown>>(data: unknown, timeoutMs?: number): Promise<T> {
    this.send(data);
    return this.nextJson<T>(timeoutMs);
  }

  close(code?: number, reason?: string): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(code, reason);
    }
    return this.closed;
  }
}

/** The server answered the upgrade with an HTTP status instead of 101. */
export class HandshakeRefused extends Error {
  readonly status: number;
  readonly body: string;
  constructor(status: number, body: string) {
    super(`handshake refused with ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** The status a refused handshake got (fails the test if it was accepted). */
export async function refusedStatus(
  url: string,
  options?: ClientOptions & { protocols?: string[] },
): Promise<HandshakeRefused> {
  try {
    const client = await TestClient.connect(url, options);
    await client.close();
  } catch (error) {
    if (error instanceof HandshakeRefused) return error;
    throw error;
  }
  throw new Error(`expected ${url} to be refused, but it connected`);
}
