// The ceiling: a bare `ws` server (the same ws the product uses, from the root node_modules)
// that echoes every frame, fans `{"action":"broadcast",...}` out to every client, and checks a
// `token` query parameter on connect (the equivalent of the authorizer in the other systems).
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { WebSocketServer } from "ws";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
  },
});

const server = createServer((_req, res) => {
  res.writeHead(426).end();
});
const wss = new WebSocketServer({
  server,
  perMessageDeflate: false,
  verifyClient: (info, cb) => {
    const q = info.req.url?.indexOf("?") ?? -1;
    const token = q >= 0 ? new URLSearchParams(info.req.url?.slice(q + 1)).get("token") : null;
    if (token !== null && token !== "bench") cb(false, 403);
    else cb(true);
  },
});

wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    const text = isBinary ? data : data.toString();
    if (typeof text === "string" && text.startsWith('{"action":"broadcast"')) {
      for (const client of wss.clients) client.send(text);
    } else {
      ws.send(text);
    }
  });
});

server.listen(Number(values.port), values.host, () => {
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
  console.log(`raw ws echo listening on ws://${values.host}:${address.port}`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
