#!/usr/bin/env node
// Soak scenario (not CI; issue 10): `switchboard dev examples/chat` holds N chat connections for
// a while under a chat-like mix, then every client leaves. It counts what a chat user would
// notice and what an operator would:
//   - lost: room messages a member should have received and did not (every member of a room
//     gets every message sent to the room, its own included);
//   - the probe's round trip (a whoami on a connection of its own) through the whole run, and
//     while every client leaves at once (issue 10, item 9);
//   - the server's RSS before the clients, at the peak, and 10 s and 30 s after all of them
//     left (goal: back within 10% of the start), read from /proc with nothing forced: what the
//     server gives back by itself (src/gateway/memory-return.ts), with its V8 heap (used and
//     committed) at those times. Then, as a diagnostic, the RSS after two forced full GCs in
//     the idle server (bench/lib/memory-probe.mjs, preloaded with --expose-gc; it acts only on
//     the soak's SIGUSR2): what would still be there to give back.
// Writes bench/results/soak-<date>.{json,md}.
//
//   npm run build && node bench/soak.mjs [--connections 5000] [--seconds 60] [--room-size 10]
//                                        [--interval-ms 5000]
//
// Everything runs on 127.0.0.1 and is bounded: N connections, one message per connection
// every interval, for the given seconds.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { freePort, sleep, startServer } from "./lib/proc.mjs";
import { readStatus } from "./lib/procstat.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values: opts } = parseArgs({
  options: {
    connections: { type: "string", default: "5000" },
    seconds: { type: "string", default: "60" },
    "room-size": { type: "string", default: "10" },
    "interval-ms": { type: "string", default: "5000" },
    out: { type: "string", default: path.join(ROOT, "bench", "results") },
  },
});
const N = Number(opts.connections);
const SECONDS = Number(opts.seconds);
const ROOM_SIZE = Number(opts["room-size"]);
const INTERVAL_MS = Number(opts["interval-ms"]);
const USERS = ["alice", "bob", "carol", "dave", "erin"];
const mb = (bytes) => Math.round((bytes / 1048576) * 10) / 10;

const port = await freePort();
const memoryFile = path.join(ROOT, "bench", "results", "tmp", `soak-memory-${process.pid}.json`);
mkdirSync(path.dirname(memoryFile), { recursive: true });
const server = await startServer({
  args: [
    "--expose-gc",
    "--import",
    path.join(ROOT, "bench", "lib", "memory-probe.mjs"),
    path.join(ROOT, "bin", "switchboard.js"),
    "dev",
    "examples/chat",
    "--port",
    String(port),
  ].concat(["--quiet", "--no-watch"]),
  cwd: ROOT,
  env: { SOAK_MEMORY_FILE: memoryFile },
  logFile: path.join(ROOT, "bench", "results", "tmp", "soak-server.log"),
  port,
});
/**
 * The server's memory (MB) as it is, and with `gc` after forced full GCs (see memory-probe.mjs).
 * @param {"read" | "gc"} what
 * @returns {Promise<{ before: Record<string, number>, afterGc: Record<string, number> }>}
 */
async function serverMemory(what) {
  rmSync(memoryFile, { force: true });
  writeFileSync(`${memoryFile}.cmd`, what);
  process.kill(server.pid, "SIGUSR2");
  const deadline = Date.now() + 30_000;
  while (!existsSync(memoryFile)) {
    if (Date.now() > deadline) throw new Error("the server did not report its memory");
    await sleep(100);
  }
  await sleep(100);
  return JSON.parse(readFileSync(memoryFile, "utf8"));
}
const url = `ws://127.0.0.1:${port}`;
const rss = () => readStatus(server.pid).rss;
await sleep(1000);
const rssStart = rss();
// Its heap at the start, after a GC: what the app and Switchboard hold with no connection.
const heapStart = (await serverMemory("gc")).afterGc;
console.log(
  `soak: ${N} connections, rooms of ${ROOM_SIZE}, one message per ${INTERVAL_MS} ms each, ${SECONDS} s; server RSS ${mb(rssStart)} MB`,
);

/** @type {Array<{ ws: WebSocket, room: string, got: Map<string, number> }>} */
const clients = [];
const rooms = new Map();
let sent = 0;
const sentTo = new Map(); // room -> messages sent to it
let refused = 0;

function connect(i) {
  const room = `r${Math.floor(i / ROOM_SIZE)}`;
  const user = USERS[i % USERS.length];
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url}/dev?user=${user}&room=${room}`);
    const client = { ws, room, got: 0 };
    ws.on("message", (data) => {
      const text = data.toString();
      if (text.includes('"type":"message"')) client.got++;
    });
    ws.once("open", () => {
      clients.push(client);
      const members = rooms.get(room) ?? [];
      members.push(client);
      rooms.set(room, members);
      resolve();
    });
    ws.once("error", () => {
      refused++;
      resolve();
    });
  });
}

const t0 = Date.now();
for (let i = 0; i < N; i += 200) {
  await Promise.all(Array.from({ length: Math.min(200, N - i) }, (_, k) => connect(i + k)));
}
console.log(
  `  ${clients.length} connected (${refused} refused) in ${Date.now() - t0} ms; RSS ${mb(rss())} MB`,
);

// The probe: its own connection, asking whoami every 50 ms, round trips recorded.
const probe = new WebSocket(`${url}/dev?user=alice&room=probe`);
await new Promise((r) => probe.once("open", r));
const rtts = [];
let probing = true;
const probeLoop = (async () => {
  while (probing) {
    const at = performance.now();
    probe.send('{"action":"whoami"}');
    await new Promise((r) => probe.once("message", r));
    rtts.push({ at: Date.now(), ms: performance.now() - at });
    await sleep(50);
  }
})();

// The mix: each client sends one message per interval, spread evenly.
let peakRss = rss();
const stopAt = Date.now() + SECONDS * 1000;
const tickMs = 100;
const perTick = Math.max(1, Math.round((clients.length * tickMs) / INTERVAL_MS));
let cursor = 0;
while (Date.now() < stopAt) {
  for (let k = 0; k < perTick; k++) {
    const client = clients[cursor++ % clients.length];
    if (client.ws.readyState !== WebSocket.OPEN) continue;
    client.ws.send(JSON.stringify({ action: "send", text: `m${sent}` }));
    sent++;
    sentTo.set(client.room, (sentTo.get(client.room) ?? 0) + 1);
  }
  peakRss = Math.max(peakRss, rss());
  await sleep(tickMs);
}
// Let the last broadcasts land.
await sleep(3000);
let expected = 0;
let received = 0;
for (const [room, members] of rooms) {
  expected += (sentTo.get(room) ?? 0) * members.length;
  for (const m of members) received += m.got;
}
const lost = expected - received;
const steadyRtts = rtts.map((r) => r.ms).sort((a, b) => a - b);
const pct = (xs, p) =>
  xs.length ? Math.round(xs[Math.min(xs.length - 1, Math.floor(xs.length * p))] * 10) / 10 : 0;

// Everyone leaves at once; the probe keeps asking.
const leaveAt = Date.now();
for (const c of clients) c.ws.close(1000);
await Promise.all(
  clients.map((c) =>
    c.ws.readyState === WebSocket.CLOSED ? undefined : new Promise((r) => c.ws.once("close", r)),
  ),
);
// All left: from here the server's RSS once a second, nothing forced (its own memory return
// runs after 3 s of quiet, then 6 s later; src/gateway/memory-return.ts).
const leftAt = Date.now();
/** @type {Array<[number, number]>} seconds after all left, RSS MB */
const afterLeave = [];
const sampler = setInterval(
  () => afterLeave.push([Math.round((Date.now() - leftAt) / 1000), mb(rss())]),
  1000,
);
await sleep(3000);
probing = false;
await probeLoop;
const leaveRtts = rtts
  .filter((r) => r.at >= leaveAt)
  .map((r) => r.ms)
  .sort((a, b) => a - b);
probe.close();
// RSS only (from /proc): a signal to the server would wake its event loop, which then counts
// the time it was waiting as busy, and delay its return of memory.
await sleep(leftAt + 10_000 - Date.now());
const rss10 = rss();
await sleep(leftAt + 30_000 - Date.now());
const rss30 = rss();
const memory30 = (await serverMemory("read")).before;
clearInterval(sampler);
// The diagnostic: what forced GCs would still give back.
const memoryEnd = await serverMemory("gc");
const rssAfterGc = rss();
await server.stop();
rmSync(memoryFile, { force: true });
rmSync(`${memoryFile}.cmd`, { force: true });

const ratio = (/** @type {number} */ bytes) => Math.round((bytes / rssStart) * 100) / 100;
const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model },
  params: { connections: N, seconds: SECONDS, roomSize: ROOM_SIZE, intervalMs: INTERVAL_MS },
  connected: clients.length,
  refused,
  sent,
  expectedDeliveries: expected,
  received,
  lost,
  probe: {
    p50: pct(steadyRtts, 0.5),
    p99: pct(steadyRtts, 0.99),
    max: pct(steadyRtts, 1),
    duringLeaveMax: pct(leaveRtts, 1),
    duringLeaveP99: pct(leaveRtts, 0.99),
  },
  rss: {
    startMB: mb(rssStart),
    peakMB: mb(peakRss),
    after10sMB: mb(rss10),
    after10sVsStart: ratio(rss10),
    after30sMB: mb(rss30),
    after30sVsStart: ratio(rss30),
    // [seconds after all left, MB], once a second up to 30 s.
    afterLeave,
    afterForcedGcMB: mb(rssAfterGc),
    afterForcedGcVsStart: ratio(rssAfterGc),
  },
  // V8 heap, MB: used / committed (heapTotal); external and array buffers (socket buffers).
  heap: {
    start: heapStart,
    after30s: memory30,
    afterForcedGc: memoryEnd.afterGc,
  },
};
const heapLine = (/** @type {Record<string, number>} */ h) =>
  `${h.heapUsed} / ${h.heapTotal} MB (external ${h.external}, array buffers ${h.arrayBuffers})`;
const md = [
  `# Soak: ${N} chat connections for ${SECONDS} s (${result.date})`,
  "",
  `Machine: ${result.machine.cpus} cores (${result.machine.model}); the load generator runs on the same machine.`,
  "",
  "| measure | value |",
  "|---|---|",
  `| connected / refused | ${clients.length} / ${refused} |`,
  `| messages sent | ${sent} |`,
  `| deliveries expected / received / lost | ${expected} / ${received} / **${lost}** |`,
  `| probe round trip p50 / p99 / max | ${result.probe.p50} / ${result.probe.p99} / ${result.probe.max} ms |`,
  `| probe max while all ${clients.length} left at once | ${result.probe.duringLeaveMax} ms |`,
  `| server RSS start / peak | ${result.rss.startMB} / ${result.rss.peakMB} MB |`,
  `| server RSS 10 s / 30 s after all left (nothing forced) | ${result.rss.after10sMB} MB (${result.rss.after10sVsStart}x start) / **${result.rss.after30sMB} MB (${result.rss.after30sVsStart}x)** |`,
  `| server RSS after all left, MB at s | ${afterLeave.map(([t, v]) => `${v}@${t}`).join(" ")} |`,
  `| goal: RSS within 10% of its start after all left (at 30 s) | ${result.rss.after30sVsStart <= 1.1 ? "met" : "**not met**"} |`,
  `| diagnostic: server RSS after two more forced full GCs | ${result.rss.afterForcedGcMB} MB (${result.rss.afterForcedGcVsStart}x start) |`,
  `| V8 heap used / committed at the start (after a GC) | ${heapLine(result.heap.start)} |`,
  `| V8 heap used / committed 30 s after all left | ${heapLine(result.heap.after30s)} |`,
  `| V8 heap used / committed after the forced GCs | ${heapLine(result.heap.afterForcedGc)} |`,
  "",
].join("\n");
mkdirSync(opts.out, { recursive: true });
const stamp = result.date.replace(/[:.]/g, "-").slice(0, 19);
writeFileSync(path.join(opts.out, `soak-${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(path.join(opts.out, `soak-${stamp}.md`), md);
console.log(md);
process.exit(lost === 0 ? 0 : 1);
