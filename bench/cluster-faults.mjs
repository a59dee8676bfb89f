#!/usr/bin/env node
// Fault scenarios of the Redis cluster (not CI): three `switchboard dev --redis` nodes on a
// `redis-server` of this script's own, clients on two of them, a sender posting numbered
// messages through the third with the AWS SDK (default retries: 3 attempts). Each scenario
// injects one fault while the sender runs, then counts:
//   - lost: acknowledged (200) but never received;
//   - duplicated: received more than once;
//   - untruthful: received although the caller was told it was not sent (503/500).
// Goal: 0, 0 and 0. Writes bench/results/cluster-faults-<date>.{json,md}.
//
//   npm run build && node bench/cluster-faults.mjs
//
// Everything runs on 127.0.0.1 and is bounded: 3 nodes, 2 x CLIENTS connections, one round of
// posts every ROUND_MS for each scenario's span.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { Redis } from "ioredis";
import WebSocket from "ws";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = path.join(ROOT, "bin", "switchboard.js");
const APP = path.join(ROOT, "test", "fixtures", "basic");
const CLIENTS = 20;
const ROUND_MS = 250;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(port, dir) {
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 100; i++) {
    const probe = new Redis(`redis://127.0.0.1:${port}`, {
      lazyConnect: true,
      retryStrategy: () => null,
    });
    probe.on("error", () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return child;
    } catch {
      probe.disconnect();
      await sleep(50);
    }
  }
  throw new Error("redis-server did not start");
}

async function stopRedis(child) {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

function startNode(redisUrl) {
  const child = spawn(
    process.execPath,
    [BIN, "dev", APP, "--port", "0", "--no-watch", "--json", "--redis", redisUrl],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => reject(new Error("node did not start")), 15_000);
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop();
      for (const line of lines) {
        try {
          const parsed = JSON.parse(line);
          if (parsed.event === "listening") {
            clearTimeout(timer);
            resolve({ child, url: parsed.url, http: parsed.url.replace(/^ws/, "http") });
          }
        } catch {}
      }
    });
  });
}

/** A client that records every numbered message it receives. */
async function client(url) {
  const ws = new WebSocket(url);
  const counts = new Map();
  ws.on("message", (data) => {
    const text = data.toString();
    counts.set(text, (counts.get(text) ?? 0) + 1);
  });
  ws.on("error", () => {});
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const id = await new Promise((resolve) => {
    ws.once("message", (data) =>
      resolve(JSON.parse(data.toString())[0].requestContext.connectionId),
    );
    ws.send(JSON.stringify({ action: "events" }));
  });
  return { ws, id, counts };
}

async function scenario(name, nodes, sender, fault, spanMs) {
  const clients = [
    ...(await Promise.all(Array.from({ length: CLIENTS }, () => client(nodes[1].url)))),
    ...(await Promise.all(Array.from({ length: CLIENTS }, () => client(nodes[2].url)))),
  ];
  await sleep(500);
  const sdk = new ApiGatewayManagementApiClient({
    endpoint: `${sender.http}/test`,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-a-secret" },
  });
  const outcomes = []; // { id, text, status }
  let round = 0;
  let running = true;
  const sending = (async () => {
    const inflight = [];
    while (running) {
      const r = round++;
      for (const c of clients) {
        const text = `${name}:${r}`;
        inflight.push(
          sdk
            .send(new PostToConnectionCommand({ ConnectionId: c.id, Data: text }))
            .then(
              () => 200,
              (error) => error.$metadata?.httpStatusCode ?? 0,
            )
            .then((status) => outcomes.push({ client: c, text, status })),
        );
      }
      await sleep(ROUND_MS);
    }
    await Promise.all(inflight);
  })();
  const started = Date.now();
  await fault();
  await sleep(Math.max(0, spanMs - (Date.now() - started)));
  running = false;
  await sending;
  await sleep(1500); // late deliveries, if any, land here
  const result = {
    scenario: name,
    posts: outcomes.length,
    ok: 0,
    gone: 0,
    notSent: 0,
    other: 0,
    lost: 0,
    duplicated: 0,
    untruthful: 0,
  };
  for (const o of outcomes) {
    const seen = o.client.counts.get(o.text) ?? 0;
    if (o.status === 200) result.ok++;
    else if (o.status === 410) result.gone++;
    else if (o.status === 503) result.notSent++;
    else result.other++;
    if (o.status === 200 && seen === 0) result.lost++;
    if (seen > 1) result.duplicated++;
    if (o.status !== 200 && seen > 0) result.untruthful++;
  }
  for (const c of clients) c.ws.terminate();
  sdk.destroy();
  return result;
}

const dir = await mkdtemp(path.join(tmpdir(), "sb-bench-redis-"));
const port = await freePort();
const redisUrl = `redis://127.0.0.1:${port}`;
let redis = await startRedis(port, dir);
const nodes = await Promise.all([startNode(redisUrl), startNode(redisUrl), startNode(redisUrl)]);
const results = [];
try {
  results.push(
    await scenario(
      "sigstop-11s",
      nodes,
      nodes[0],
      async () => {
        await sleep(1000);
        nodes[2].child.kill("SIGSTOP");
        await sleep(11_000);
        nodes[2].child.kill("SIGCONT");
      },
      16_000,
    ),
  );
  results.push(
    await scenario(
      "redis-restart-empty",
      nodes,
      nodes[0],
      async () => {
        await sleep(1000);
        await stopRedis(redis);
        redis = await startRedis(port, dir);
      },
      8_000,
    ),
  );
  results.push(
    await scenario(
      "kill-9-node",
      nodes,
      nodes[0],
      async () => {
        await sleep(1000);
        nodes[2].child.kill("SIGKILL");
      },
      10_000,
    ),
  );
} finally {
  for (const n of nodes) n.child.kill("SIGKILL");
  await stopRedis(redis);
  await rm(dir, { recursive: true, force: true });
}

const stamp = new Date().toISOString().replace(/:/g, "-").slice(0, 19);
const header =
  "| scenario | posts | 200 | 410 | 503 | other | lost | duplicated | untruthful |\n|---|---|---|---|---|---|---|---|---|";
const rows = results.map(
  (r) =>
    `| ${r.scenario} | ${r.posts} | ${r.ok} | ${r.gone} | ${r.notSent} | ${r.other} | ${r.lost} | ${r.duplicated} | ${r.untruthful} |`,
);
const md = `# Cluster faults, ${stamp}\n\n3 nodes, ${2 * CLIENTS} clients on two of them, a post to each every ${ROUND_MS} ms through the third (AWS SDK v3, default retries). lost = 200 but never received; untruthful = received though the answer was not 200. Goal: lost, duplicated and untruthful all 0.\n\n${header}\n${rows.join("\n")}\n`;
await mkdir(path.join(ROOT, "bench", "results"), { recursive: true });
await writeFile(
  path.join(ROOT, "bench", "results", `cluster-faults-${stamp}.json`),
  `${JSON.stringify(results, null, 2)}\n`,
);
await writeFile(path.join(ROOT, "bench", "results", `cluster-faults-${stamp}.md`), md);
process.stdout.write(md);
