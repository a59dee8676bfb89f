// The systems under test: Switchboard, the raw ws ceiling, and the peers. Each one starts a
// fresh server process per scenario (so RSS figures start from a clean process).
import { execFileSync } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startServer } from "./proc.mjs";

export const BENCH = fileURLToPath(new URL("..", import.meta.url));
export const ROOT = join(BENCH, "..");
const PEERS = join(BENCH, "peers");
const LOGS = join(BENCH, "results", "tmp");

/** Dummy credentials: the AWS SDK insists on some, no peer checks them. */
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: "bench",
  AWS_SECRET_ACCESS_KEY: "bench",
  AWS_REGION: "us-east-1",
  AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
};

/** Which Switchboard app (bench/apps/<name>) serves each scenario. */
export const SWITCHBOARD_APPS = {
  s1: "echo-route",
  s2: "echo-send",
  s3: "echo-sdk",
  s4: "broadcast",
  s5: "connect-storm",
  s6: "idle",
  s7: "echo-route",
};

/**
 * @typedef {"s1"|"s2"|"s3"|"s4"|"s5"|"s6"|"s7"} ScenarioId
 * @typedef {{ url: string, pid: number, logFile: string, stop: () => Promise<void>, exited: () => boolean, exitInfo: () => string }} Running
 * @typedef {{
 *   id: string,
 *   label: string,
 *   role: "ceiling" | "product" | "peer",
 *   version: () => string,
 *   available: () => { ok: boolean, reason?: string, install?: string },
 *   start: (scenario: ScenarioId, options?: { profileDir?: string }) => Promise<Running>,
 *   notes: Partial<Record<ScenarioId, string>>,
 *   unsupported: Partial<Record<ScenarioId, string>>,
 *   overrides: Partial<Record<ScenarioId, Record<string, number | string>>>,
 * }} System
 */

/**
 * A peer's server as a Running one: its URL, and a stop that also removes the connection
 * registry file (the peers' stand-in for a connection table).
 * @param {import("./proc.mjs").Server} s @param {number} port @param {string} registry
 * @returns {Running}
 */
function servingWithRegistry(s, port, registry) {
  return {
    ...s,
    url: `ws://127.0.0.1:${port}/`,
    async stop() {
      await s.stop();
      rmSync(registry, { force: true });
    },
  };
}

/** @param {string} file */
function pkgVersion(file) {
  try {
    return JSON.parse(
      execFileSync("node", [
        "-p",
        `JSON.stringify(require(${JSON.stringify(file)}).version)`,
      ]).toString(),
    );
  } catch {
    return "?";
  }
}

/**
 * A peer's availability: installed, or what is missing and which folder installs it.
 * @param {string} dir
 */
function peerAvailability(dir) {
  return existsSync(join(PEERS, dir, "node_modules"))
    ? { ok: true }
    : { ok: false, reason: `bench/peers/${dir}/node_modules is missing`, install: dir };
}

/** @type {System} */
const rawWs = {
  id: "raw-ws",
  label: "raw ws (ceiling)",
  role: "ceiling",
  version: () => `ws ${pkgVersion(join(ROOT, "node_modules/ws/package.json"))}`,
  available: () => ({ ok: true }),
  async start(scenario) {
    const port = await freePort();
    const s = await startServer({
      args: [join(PEERS, "raw-ws/server.mjs"), "--port", String(port)],
      cwd: ROOT,
      logFile: join(LOGS, `raw-ws-${scenario}.log`),
      port,
    });
    return { ...s, url: `ws://127.0.0.1:${port}/` };
  },
  notes: {},
  unsupported: {},
  overrides: {},
};

/**
 * Switchboard from a checkout (`root`): this one, or another commit's (the baseline of a
 * before/after run: `SWITCHBOARD_BASELINE=<checkout with dist/ built>`).
 * @param {string} id @param {string} label @param {string} root
 * @returns {System}
 */
export function switchboardAt(id, label, root) {
  return {
    id,
    label,
    role: "product",
    version: () => `switchboard ${pkgVersion(join(root, "package.json"))}`,
    available() {
      if (!existsSync(join(root, "bin/switchboard.js")))
        return { ok: false, reason: `${root}/bin/switchboard.js does not exist` };
      if (!existsSync(join(root, "dist")))
        return { ok: false, reason: `${root}/dist/ is missing: run \`npm run build\` there first` };
      return { ok: true };
    },
    async start(scenario, options = {}) {
      const port = await freePort();
      const app = join(BENCH, "apps", SWITCHBOARD_APPS[scenario]);
      const s = await startServer({
        args: [
          // --profile: V8's CPU profile of the server, written when it exits (SIGTERM is graceful).
          ...(options.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${options.profileDir}`] : []),
          join(root, "bin/switchboard.js"),
          "dev",
          app,
          "--port",
          String(port),
          "--host",
          "127.0.0.1",
          "--quiet",
          "--no-watch",
          "--no-static",
        ],
        cwd: ROOT,
        env: { ...AWS_ENV, BENCH_MGMT_ENDPOINT: `http://127.0.0.1:${port}` },
        logFile: join(LOGS, `${id}-${scenario}.log`),
        port,
        ready: new RegExp(`ws://127\\.0\\.0\\.1:${port}`),
      });
      return { ...s, url: `ws://127.0.0.1:${port}/` };
    },
    notes: {},
    unsupported: {},
    overrides: {},
  };
}

const switchboard = switchboardAt("switchboard", "Switchboard", ROOT);
const baselineRoot = process.env.SWITCHBOARD_BASELINE;
const baseline = baselineRoot
  ? [switchboardAt("switchboard-baseline", `Switchboard (baseline: ${baselineRoot})`, baselineRoot)]
  : [];

/**
 * serverless-offline 13.10.1 on serverless 3.40.0, one app with every route
 * (bench/peers/sls-offline/serverless.yml).
 * @param {boolean} inProcess
 * @returns {System}
 */
function slsOffline(inProcess) {
  const id = inProcess ? "sls-offline-inprocess" : "sls-offline";
  return {
    id,
    label: inProcess ? "serverless-offline --useInProcess" : "serverless-offline (worker threads)",
    role: "peer",
    version: () =>
      `serverless ${pkgVersion(join(PEERS, "sls-offline/node_modules/serverless/package.json"))}, serverless-offline ${pkgVersion(
        join(PEERS, "sls-offline/node_modules/serverless-offline/package.json"),
      )}`,
    available: () => peerAvailability("sls-offline"),
    async start(scenario) {
      const port = await freePort();
      const lambdaPort = await freePort();
      const httpPort = await freePort();
      const registry = join(tmpdir(), `switchboard-bench-${id}-${port}.registry`);
      if (scenario === "s4") writeFileSync(registry, "");
      const args = [
        join(PEERS, "sls-offline/node_modules/serverless/bin/serverless.js"),
        "offline",
        "start",
        "--host",
        "127.0.0.1",
        "--websocketPort",
        String(port),
        "--lambdaPort",
        String(lambdaPort),
        "--httpPort",
        String(httpPort),
        "--noTimeout",
      ];
      if (inProcess) args.push("--useInProcess");
      // The authorizer runs in the connect storm only (as in the other systems).
      if (scenario !== "s5") args.push("--noAuth");
      const s = await startServer({
        args,
        cwd: join(PEERS, "sls-offline"),
        env: {
          ...AWS_ENV,
          SLS_TELEMETRY_DISABLED: "1",
          SLS_NOTIFICATIONS_MODE: "off",
          BENCH_WS_ENDPOINT: `http://127.0.0.1:${port}`,
          BENCH_REGISTRY: scenario === "s4" ? registry : "",
        },
        logFile: join(LOGS, `${id}-${scenario}.log`),
        port,
        ready: /\[websocket\] listening/,
      });
      return servingWithRegistry(s, port, registry);
    },
    notes: inProcess
      ? { s6: "5,000 connections (the memory target compares Switchboard with raw ws only)" }
      : {
          s4: "1,000 connections only (10,000 do not fit the time budget in this mode)",
          s6: "5,000 connections; RSS includes the ~64 worker threads the connects started",
          s1: "64 connections x 1 in flight instead of x 4: one worker thread per in-flight invocation",
          s2: "64 x 1 in flight (see scenario 1)",
          s3: "64 x 1 in flight (see scenario 1)",
          s7: "scaled down to 100 in flight (100 connections x 1): default mode starts one worker thread per in-flight invocation (reference run: 500 in flight = 526 threads, 4.7 GB RSS); 10,000 would exhaust memory",
        },
    unsupported: {},
    overrides: inProcess
      ? { s6: { count: 5000 } }
      : {
          s1: { depth: 1 },
          s2: { depth: 1 },
          s3: { depth: 1 },
          s4: { maxConnections: 1000 },
          s6: { count: 5000 },
          s7: { perConn: 1 },
        },
  };
}

/** @type {System} */
const architect = {
  id: "architect",
  label: "Architect Sandbox",
  role: "peer",
  version: () =>
    `@architect/sandbox ${pkgVersion(join(PEERS, "architect/node_modules/@architect/sandbox/package.json"))}`,
  available: () => peerAvailability("architect"),
  async start(scenario) {
    const port = await freePort();
    const internal = await freePort();
    const registry = join(tmpdir(), `switchboard-bench-architect-${port}.registry`);
    if (scenario === "s4") writeFileSync(registry, "");
    const s = await startServer({
      args: [
        join(PEERS, "architect/node_modules/@architect/sandbox/src/cli/cli.js"),
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--quiet",
      ],
      cwd: join(PEERS, "architect/app"),
      env: { ...AWS_ENV, ARC_INTERNAL_PORT: String(internal), ARC_QUIET: "1" },
      logFile: join(LOGS, `architect-${scenario}.log`),
      port,
    });
    return servingWithRegistry(s, port, registry);
  },
  notes: {
    s2: "8 connections x 1 in flight instead of 64 x 4: Sandbox spawns a Node process per message and times out (5 s) most invocations at >= 50 in flight",
    s3: "8 connections x 1 in flight (see scenario 2)",
    s4: "300 connections only: one process per $connect (~17 connections/s on 2 cores); 1,000 took 70 s and 10,000 would take 10 minutes",
    s5: "200 connections, 8 at a time: one process per $connect; token checked in $connect (Architect has no authorizers)",
    s6: "300 connections, 8 at a time (one process per $connect)",
    s7: "scaled down to 50 in flight (50 connections x 1), through the arc.ws.send route (no route responses): Sandbox spawns one process per message",
  },
  unsupported: { s1: "no route responses (two-way routes) in Architect" },
  overrides: {
    s2: { connections: 8, depth: 1 },
    s3: { connections: 8, depth: 1 },
    s4: { small: 300, maxConnections: 300 },
    s5: { count: 200, concurrency: 8 },
    s6: { count: 300, concurrency: 8 },
    s7: { connections: 50, perConn: 1, route: "send" },
  },
};

/** @param {string} cmd @param {string[]} args */
function output(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return undefined;
  }
}

/**
 * Pushpin (Debian package `pushpin`), a self-hosted WebSocket gateway, proxying WebSocket to a
 * minimal echo backend over its WebSocket-over-HTTP protocol (bench/peers/pushpin). Installed
 * with apt-get when the package is available and the harness runs as root; skipped otherwise.
 * @type {System}
 */
const pushpin = {
  id: "pushpin",
  label: "Pushpin + HTTP backend",
  role: "peer",
  version: () => (output("pushpin", ["--version"]) ?? "pushpin ?").trim(),
  available() {
    if (output("pushpin", ["--version"]) !== undefined) return { ok: true };
    const candidate = /Candidate: (\S+)/.exec(
      output("apt-cache", ["policy", "pushpin"]) ?? "",
    )?.[1];
    if (!candidate || candidate === "(none)")
      return { ok: false, reason: "pushpin is not installed and no Debian package is available" };
    if (process.getuid?.() !== 0)
      return {
        ok: false,
        reason: `pushpin is not installed (apt-get install pushpin ${candidate})`,
      };
    return { ok: false, reason: "pushpin is not installed", install: "apt:pushpin" };
  },
  async start(scenario) {
    const port = await freePort();
    const backend = await freePort();
    // Pushpin's internal ports (5560-5563 by default) move by this offset: onto free ones.
    const offset = Math.max(0, (await freePort()) - 5563);
    const s = await startServer({
      args: [
        join(PEERS, "pushpin/run.mjs"),
        "--port",
        String(port),
        "--backend-port",
        String(backend),
        "--port-offset",
        String(offset),
      ],
      cwd: ROOT,
      logFile: join(LOGS, `pushpin-${scenario}.log`),
      port,
    });
    return { ...s, url: `ws://127.0.0.1:${port}/` };
  },
  notes: {
    s1: "every message is an HTTP POST from Pushpin (through zurl) to a node:http echo backend (WebSocket-over-HTTP); the tree measured is Pushpin's processes plus the backend",
  },
  unsupported: {
    s2: "the echo scenario only (no management API / GRIP publish in this peer)",
    s3: "the echo scenario only",
    s4: "the echo scenario only",
    s5: "the echo scenario only",
    s6: "the echo scenario only",
    s7: "the echo scenario only",
  },
  overrides: {},
};

/** In run order. */
export const SYSTEMS = [
  rawWs,
  switchboard,
  ...baseline,
  pushpin,
  slsOffline(true),
  architect,
  slsOffline(false),
];
