import WebSocket from "ws";

/** A connected `ws` client that keeps every text frame it receives, in order. */
export interface Client {
  socket: WebSocket;
  /** The next frame not read yet, JSON-parsed; fails after `timeoutMs`. */
  next(timeoutMs?: number): Promise<unknown>;
  send(message: unknown): void;
  close(): Promise<void>;
}

/** Open a WebSocket to `url`; rejects with the HTTP status when the handshake is refused. */
export function connect(url: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const frames: unknown[] = [];
    const waiting: Array<(frame: unknown) => void> = [];
    socket.on("message", (data) => {
      const text = data.toString();
      let frame: unknown = text;
      try {
        frame = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      const waiter = waiting.shift();
      if (waiter) waiter(frame);
      else frames.push(frame);
    });
    socket.on("unexpected-response", (_request, response) => {
      reject(new Error(`HTTP ${response.statusCode}`));
      socket.terminate();
    });
    socket.on("error", reject);
    socket.on("open", () =>
      resolve({
        socket,
        next(timeoutMs = 2000) {
          if (frames.length > 0) return Promise.resolve(frames.shift());
          return new Promise((resolveFrame, rejectFrame) => {
            const timer = setTimeout(() => {
              waiting.splice(waiting.indexOf(done), 1);
              rejectFrame(new Error(`no frame within ${timeoutMs} ms`));
            }, timeoutMs);
            const done = (frame: unknown) => {
              clearTimeout(timer);
              resolveFrame(frame);
            };
            waiting.push(done);
          });
        },
        send(message) {
          socket.send(typeof message === "string" ? message : JSON.stringify(message));
        },
        close() {
          return new Promise<void>((resolveClose) => {
            if (socket.readyState === WebSocket.CLOSED) return resolveClose();
            socket.once("close", () => resolveClose());
            socket.close();
          });
        },
      }),
    );
  });
}
