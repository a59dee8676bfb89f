#!/usr/bin/env node
// The cluster scenario (not CI): `switchboard start` as one node, and as three nodes on a Redis
// of this script's own, in the same run, with the same client:
//   1. PostToConnection rate: a closed loop of `@connections` POSTs (keep-alive HTTP, 32 in
//      flight) through node 1 to connections on the other nodes (cross-node: node 1 -> Redis ->
//      owner), beside the same through node 1 to its own connections, and through the single
//      node. Every acknowledged post is checked for delivery.
//   2. Broadcast to 10,000 connections spread evenly over the nodes: one client on node 1
//      sends `broadcast`; its handler lists the table (Redis) and calls ctx.broadcast. The
//      measure is the time until the last connection has the frame (median of 3 rounds).
// Writes bench/results/cluster-<date>.{json,md} with the ratios cluster / single node.
//
//   npm run build && node bench/cluster.mjs [--connections 10000] [--seconds 5] [--quick]
//
// Everything is on 127.0.0.1 (clients from 127.0.0.2-9), bounded in count and time; the
// nodes run without keys, so `@connections` answers loopback callers unsigned (the SigV4 check
// is the same work on both sides and is left out of what is compared).
import { execFileSync, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { createHistogram } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { LoadGen, summarize } from "./lib/loadgen.mjs";
import { freePort, sleep, startServer } from "./lib/proc.mjs";
import { runUnderHardFileLimit } from "./lib/procstat.mjs";
import { SOURCE_ADDRESSES } from "./lib/scenarios.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = path.join(ROOT, "bin", "switchboard.js");
const APP = path.join(ROOT, "bench", "apps", "cluster");
const RESULTS = path.join(ROOT, "bench", "results");

const { values: args } = parseArgs({
  options: {
    connections: { type: "string", default: "10000" },
    seconds: { type: "string", default: "5" },
    quick: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log("node bench/cluster.mjs [--connections N] [--seconds S] [--quick]");
  process.exit(0);
}
// 10,000 client sockets in this process: run under the hard open-files limit.
runUnderHardFileLimit();
await main();

async function main() {
  const quick = args.quick;
  const connections = quick ? 600 : Number(args.connections);
  const seconds = quick ? 1 : Number(args.seconds);
  const targetsPerNode = 30;
  const lg = new LoadGen(2);
  const started = new Date();
  const log = (/** @type {string} */ line) => console.log(line);
  const redisPort = await freePort();
  const redis = spawn(
    "redis-server",
    ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  const results = {};
  try {
    await waitForRedis(redisPort);
    // The single node runs before and after the cluster: the machine is shared, and the two
    // runs show how much its load moved meanwhile. Ratios use their mean.
    for (const [name, count, redisUrl] of /** @type {const} */ ([
      ["single", 1, undefined],
      ["cluster", 3, `redis://127.0.0.1:${redisPort}`],
      ["singleAgain", 1, undefined],
    ])) {
      log(`${name}: ${count} node(s)${redisUrl ? ` on ${redisUrl}` : ""}`);
      const nodes = await Promise.all(
        Array.from({ length: count }, (_, i) => startNode(`${name}-${i + 1}`, redisUrl)),
      );
      try {
        const posts = {};
        if (count === 1) {
          posts.local = await postRate(nodes[0], [nodes[0]], targetsPerNode * 2, seconds);
          log(`  post, same node: ${fmtPost(posts.local)}`);
        } else {
          posts.crossNode = await postRate(nodes[0], nodes.slice(1), targetsPerNode, seconds);
          log(`  post, cross-node: ${fmtPost(posts.crossNode)}`);
          posts.local = await postRate(nodes[0], [nodes[0]], targetsPerNode * 2, seconds);
          log(`  post, same node: ${fmtPost(posts.local)}`);
        }
        const broadcast = await broadcastRun(lg, nodes, connections, quick ? 2 : 3);
        log(
          `  broadcast to ${broadcast.connections}: ${broadcast.timeToLastMs} ms to the last (${broadcast.missing} missing)`,
        );
        results[name] = { nodes: count, posts, broadcast, loadavg: os.loadavg()[0] };
      } finally {
        await lg.closeAll({ timeoutMs: 10_000 }).catch(() => undefined);
        await Promise.all(nodes.map((node) => node.server.stop()));
      }
    }
  } finally {
    await lg.terminate();
    redis.kill("SIGTERM");
  }
  const single = {
    posts: mean([results.single?.posts.local?.perSec, results.singleAgain?.posts.local?.perSec]),
    broadcastMs: mean([
      results.single?.broadcast.timeToLastMs,
      results.singleAgain?.broadcast.timeToLastMs,
    ]),
  };
  const ratios = {
    postCrossNodeVsSingle: ratio(results.cluster?.posts.crossNode?.perSec, single.posts),
    postClusterSameNodeVsSingle: ratio(results.cluster?.posts.local?.perSec, single.posts),
    broadcastTimeClusterVsSingle: ratio(
      results.cluster?.broadcast.timeToLastMs,
      single.broadcastMs,
    ),
  };
  const report = {
    started: started.toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      node: process.version,
      redis: redisVersion(),
    },
    parameters: { connections, seconds, inFlight: 32, targetsPerNode, quick },
    results,
    ratios,
  };
  if (quick) {
    console.log(JSON.stringify(ratios));
    return;
  }
  const stamp = started
    .toISOString()
    .replace(/:/g, "-")
    .replace(/\.\d+Z$/, "");
  await mkdir(RESULTS, { recursive: true });
  await writeFile(
    path.join(RESULTS, `cluster-${stamp}.json`),
    `${JSON.stringify(report, null, 2)}\n`,
  );
  await writeFile(path.join(RESULTS, `cluster-${stamp}.md`), markdown(report));
  log(`wrote bench/results/cluster-${stamp}.{json,md}`);
}

/** @param {number} port */
async function waitForRedis(port) {
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync("redis-cli", ["-p", String(port), "ping"], { stdio: "pipe" });
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error("redis-server did not start");
}

function redisVersion() {
  try {
    return execFileSync("redis-server", ["--version"], { encoding: "utf8" }).trim().split(" ")[2];
  } catch {
    return "unknown";
  }
}

/** @param {string} name @param {string | undefined} redisUrl */
async function startNode(name, redisUrl) {
  const port = await freePort();
  const server = await startServer({
    args: [
      BIN,
      "start",
      APP,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--quiet",
      "--drain-timeout",
      "5",
    ],
    cwd: ROOT,
    env: {
      REDIS_URL: redisUrl ?? "",
      SWITCHBOARD_ACCESS_KEY_ID: "",
      SWITCHBOARD_SECRET_ACCESS_KEY: "",
    },
    logFile: path.join(RESULTS, "tmp", `cluster-${name}.log`),
    port,
  });
  return {
    name,
    port,
    server,
    url: `ws://127.0.0.1:${port}/dev`,
    http: `http://127.0.0.1:${port}/dev`,
  };
}

/** A connection of this process that counts what it receives. @param {string} url */
async function target(url) {
  const ws = new WebSocket(url);
  const state = { ws, id: "", received: 0 };
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  state.id = await new Promise((resolve) => {
    ws.once("message", (data) => resolve(data.toString()));
    ws.send('{"action":"whoami"}');
  });
  ws.on("message", () => state.received++);
  return state;
}

/**
 * Closed loop of POST /@connections/<id> through `via` to connections on `on`, 32 in flight,
 * a warm-up (2 s; 1 s with --quick) then `seconds` measured.
 */
async function postRate(via, on, perNode, seconds, warmupMs = seconds > 1 ? 2000 : 1000) {
  const targets = (
    await Promise.all(
      on.map((node) => Promise.all(Array.from({ length: perNode }, () => target(node.url)))),
    )
  ).flat();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const hist = createHistogram();
  const statuses = {};
  let measuring = false;
  let inWindow = 0;
  let acknowledged = 0;
  let next = 0;
  let stop = false;
  const post = (id) =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = http.request(
        `${via.http}/@connections/${encodeURIComponent(id)}`,
        { method: "POST", agent, headers: { "content-type": "text/plain" } },
        (res) => {
          res.resume();
          res.on("end", () => {
            statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
            if (res.statusCode === 200) {
              acknowledged++;
              if (measuring) {
                inWindow++;
                hist.record(Math.max(1, Math.round((performance.now() - t0) * 1000)));
              }
            }
            resolve(undefined);
          });
        },
      );
      req.on("error", (error) => {
        statuses[error.code ?? "error"] = (statuses[error.code ?? "error"] ?? 0) + 1;
        resolve(undefined);
      });
      req.end("m");
    });
  const worker = async () => {
    while (!stop) await post(targets[next++ % targets.length].id);
  };
  const loops = Array.from({ length: 32 }, worker);
  await sleep(warmupMs);
  measuring = true;
  await sleep(seconds * 1000);
  measuring = false;
  stop = true;
  await Promise.all(loops);
  await sleep(500);
  const delivered = targets.reduce((a, t) => a + t.received, 0);
  await Promise.all(
    targets.map(
      (t) =>
        new Promise((resolve) => {
          t.ws.once("close", resolve);
          t.ws.close();
        }),
    ),
  );
  agent.destroy();
  return {
    targets: targets.length,
    perSec: Math.round(inWindow / seconds),
    latency: summarize(hist),
    acknowledged,
    delivered,
    lost: acknowledged - delivered,
    statuses,
  };
}

/** Broadcast to `count` connections spread evenly over the nodes (node 1 first). */
async function broadcastRun(lg, nodes, count, rounds) {
  // Let the post phase's $disconnects empty the table first.
  await sleep(500);
  let opened = 0;
  for (const [i, node] of nodes.entries()) {
    const share = Math.floor(count / nodes.length) + (i < count % nodes.length ? 1 : 0);
    const c = await lg.connect({
      url: node.url,
      count: share,
      concurrency: 64,
      localAddresses: SOURCE_ADDRESSES,
      timeoutMs: 15_000,
    });
    opened += c.opened;
  }
  await sleep(500);
  const times = [];
  let missing = 0;
  let errorFrames = 0;
  for (let r = 0; r < rounds; r++) {
    const b = await lg.broadcast({ route: "broadcast", tag: `c${r}`, timeoutMs: 30_000 });
    times.push(b.timeToLastMs ?? Number.POSITIVE_INFINITY);
    missing += b.missing;
    errorFrames += b.errorFrames;
    await sleep(300);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return {
    connections: opened,
    rounds,
    timeToLastMs: Number.isFinite(median) ? median : null,
    timeToLastAll: times.map((t) => (Number.isFinite(t) ? t : null)),
    deliveriesPerSec: median && Number.isFinite(median) ? Math.round((opened * 1000) / median) : 0,
    missing,
    errorFrames,
  };
}

/** The mean of the numbers among `values`, or null. @param {unknown[]} values */
function mean(values) {
  const numbers = values.filter((v) => typeof v === "number");
  return numbers.length > 0 ? numbers.reduce((a, b) => a + b, 0) / numbers.length : null;
}

function ratio(a, b) {
  return typeof a === "number" && typeof b === "number" && b > 0
    ? Math.round((a / b) * 100) / 100
    : null;
}

function fmtPost(p) {
  return `${p.perSec}/s p50 ${p.latency.p50} ms p99 ${p.latency.p99} ms, ${p.acknowledged} acknowledged, ${p.lost} lost ${JSON.stringify(p.statuses)}`;
}

function markdown(r) {
  const s = r.results.single;
  const s2 = r.results.singleAgain;
  const c = r.results.cluster;
  const row = (label, p) =>
    p
      ? `| ${label} | ${p.perSec} | ${p.latency.p50} | ${p.latency.p99} | ${p.acknowledged} | ${p.lost} |`
      : `| ${label} | n/a | | | | |`;
  const brow = (label, b) =>
    `| ${label} | ${b.connections} | ${b.timeToLastMs} | ${b.timeToLastAll.join(", ")} | ${b.deliveriesPerSec} | ${b.missing} |`;
  return `# Cluster scenario, ${r.started}

Machine: ${r.machine.cpus} cores (${r.machine.model}), Node ${r.machine.node}, Redis ${r.machine.redis}.
Single node: one \`switchboard start\` (table in memory). Cluster: three \`switchboard start\` on one
\`redis-server\`. All processes (nodes, Redis, the client) share the ${r.machine.cpus} cores.
Written by \`node bench/cluster.mjs\`.

## PostToConnection (keep-alive HTTP, ${r.parameters.inFlight} in flight, ${r.parameters.seconds} s measured)

| path | posts/s | p50 ms | p99 ms | acknowledged (200) | lost |
|---|---|---|---|---|---|
${row("single node, own connections (before the cluster)", s?.posts.local)}
${row("cluster: node 1 to connections on nodes 2 and 3 (cross-node)", c?.posts.crossNode)}
${row("cluster: node 1 to its own connections", c?.posts.local)}
${row("single node, own connections (after the cluster)", s2?.posts.local)}

## Broadcast (\`ctx.connections.list()\` + \`ctx.broadcast\` from a client on node 1)

| setup | connections | time to last, median ms | rounds ms | deliveries/s | missing |
|---|---|---|---|---|---|
${brow("single node (before)", s.broadcast)}
${brow("cluster (3 nodes, spread evenly)", c.broadcast)}
${brow("single node (after)", s2.broadcast)}

Machine load (1-minute load average, 2 cores) after each setup: single ${s.loadavg.toFixed(1)}, cluster
${c.loadavg.toFixed(1)}, single again ${s2.loadavg.toFixed(1)} (other jobs share the machine).

## Ratios (cluster / mean of the two single-node runs, same run)

| ratio | value |
|---|---|
| cross-node posts/s / single node posts/s | ${r.ratios.postCrossNodeVsSingle} |
| cluster same-node posts/s / single node posts/s | ${r.ratios.postClusterSameNodeVsSingle} |
| broadcast time to last, cluster / single | ${r.ratios.broadcastTimeClusterVsSingle} |
`;
}
