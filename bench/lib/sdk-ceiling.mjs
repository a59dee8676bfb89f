// Calibration for scenario 3: how many PostToConnection calls per second the AWS SDK v3 client
// itself makes in one Node.js process, against an HTTP server that does nothing but answer 200.
// No WebSocket, no gateway: the ceiling of any emulator whose handlers call the SDK in-process.
// Prints one JSON line: { callsPerSec, cpuUsPerCall, inFlight, sdk }.

import { createServer } from "node:http";
import { createRequire } from "node:module";
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";

const inFlight = Number(process.argv[2] ?? 256);
const warmupMs = Number(process.argv[3] ?? 2000);
const durationMs = Number(process.argv[4] ?? 4000);

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-length": "0" });
    res.end();
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
const client = new ApiGatewayManagementApiClient({
  endpoint: `http://127.0.0.1:${port}/bench`,
  region: "us-east-1",
  credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
});
const frame = JSON.stringify({ action: "sdk", data: `${Date.now()}|${Date.now()}` });

/** @param {number} ms */
async function run(ms) {
  let calls = 0;
  const end = performance.now() + ms;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const lane = async () => {
    while (performance.now() < end) {
      await client.send(
        new PostToConnectionCommand({ ConnectionId: "AAAAAAAAAAAAAAA=", Data: frame }),
      );
      calls++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const cpu = process.cpuUsage(cpu0);
  return { calls, seconds: (performance.now() - t0) / 1000, cpuUs: cpu.user + cpu.system };
}

await run(warmupMs);
const r = await run(durationMs);
const require = createRequire(import.meta.url);
const sdk = require("@aws-sdk/client-apigatewaymanagementapi/package.json").version;
process.stdout.write(
  `${JSON.stringify({
    callsPerSec: Math.round(r.calls / r.seconds),
    cpuUsPerCall: Math.round(r.cpuUs / r.calls),
    inFlight,
    sdk,
  })}\n`,
);
server.close();
process.exit(0);
