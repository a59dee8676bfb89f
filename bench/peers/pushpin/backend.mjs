// The minimal HTTP backend behind Pushpin for the echo scenario: Pushpin turns each WebSocket
// into WebSocket-over-HTTP requests (`Content-Type: application/websocket-events`); this server
// accepts every OPEN and answers each TEXT/BINARY event with the same event (an echo), a PING
// with a PONG and a CLOSE with a CLOSE. Plain node:http, no dependency.
//
// Event format (Pushpin's WebSocket-over-HTTP protocol): `TYPE[ <hex length>]\r\n[<bytes>\r\n]`.
import http from "node:http";

const EVENTS = "application/websocket-events";

/** Parses a request body into events. @param {Buffer} body */
export function parseEvents(body) {
  /** @type {Array<{ type: string, content?: Buffer }>} */
  const events = [];
  let at = 0;
  while (at < body.length) {
    const eol = body.indexOf("\r\n", at);
    if (eol === -1) break;
    const line = body.toString("latin1", at, eol);
    const space = line.indexOf(" ");
    const type = space === -1 ? line : line.slice(0, space);
    at = eol + 2;
    if (space === -1) {
      events.push({ type });
      continue;
    }
    const length = Number.parseInt(line.slice(space + 1), 16);
    events.push({ type, content: body.subarray(at, at + length) });
    at += length + 2;
  }
  return events;
}

/** @param {string} type @param {Buffer} [content] */
function event(type, content) {
  return content === undefined
    ? [Buffer.from(`${type}\r\n`)]
    : [Buffer.from(`${type} ${content.length.toString(16)}\r\n`), content, Buffer.from("\r\n")];
}

/** @param {number} port */
export function startBackend(port) {
  const server = http.createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      /** @type {Buffer[]} */
      const out = [];
      for (const e of parseEvents(Buffer.concat(chunks))) {
        if (e.type === "OPEN") out.push(...event("OPEN"));
        else if (e.type === "TEXT" || e.type === "BINARY") out.push(...event(e.type, e.content));
        else if (e.type === "PING") out.push(...event("PONG", e.content ?? Buffer.alloc(0)));
        else if (e.type === "CLOSE") out.push(...event("CLOSE", e.content ?? Buffer.alloc(0)));
      }
      res.writeHead(200, { "Content-Type": EVENTS });
      res.end(Buffer.concat(out));
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}
