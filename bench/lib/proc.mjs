// Starting and stopping server processes for the benchmark (127.0.0.1 only).
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { dirname } from "node:path";
import { processTree } from "./procstat.mjs";

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (asks the kernel, then releases it). @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

/** @param {number} port */
function canConnect(port) {
  return new Promise((resolve) => {
    const sock = new Socket();
    const done = (/** @type {boolean} */ ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once("error", () => done(false));
    sock.connect(port, "127.0.0.1", () => done(true));
  });
}

/** Servers started and not yet stopped: killed (with their process trees) if the harness exits early. */
/** @type {Set<number>} */
const live = new Set();
process.on("exit", () => {
  for (const pid of live) {
    for (const p of processTree(pid).reverse()) {
      try {
        process.kill(p, "SIGKILL");
      } catch {}
    }
  }
});
for (const sig of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
  process.once(sig, () => process.exit(130));
}

/**
 * @typedef {{ pid: number, logFile: string, stop: () => Promise<void>, exited: () => boolean, exitInfo: () => string }} Server
 */

/**
 * Spawns `node <args>` with the soft open-files limit raised to the hard limit (the idle
 * scenario holds ~20,000 sockets), output to `logFile`; resolves once `port` accepts TCP
 * connections and, when given, `ready` matches the log.
 * @param {{ args: string[], cwd: string, env?: Record<string, string>, logFile: string, port: number, ready?: RegExp, timeoutMs?: number }} o
 * @returns {Promise<Server>}
 */
export async function startServer(o) {
  mkdirSync(dirname(o.logFile), { recursive: true });
  const fd = openSync(o.logFile, "w");
  const child = spawn(
    "/bin/sh",
    ["-c", 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, ...o.args],
    { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: ["ignore", fd, fd], detached: false },
  );
  closeSync(fd);
  /** @type {string | undefined} */
  let exit;
  child.on("exit", (code, signal) => {
    exit = `exit ${code ?? signal}`;
  });
  const pid = /** @type {number} */ (child.pid);
  live.add(pid);
  child.on("exit", () => live.delete(pid));
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  const log = () => {
    try {
      return readFileSync(o.logFile, "utf8");
    } catch {
      return "";
    }
  };
  for (;;) {
    if (exit)
      throw new Error(`${o.args.join(" ")} ${exit} before it was ready:\n${log().slice(-2000)}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(
        `${o.args.join(" ")} not ready after ${o.timeoutMs ?? 60_000} ms:\n${log().slice(-2000)}`,
      );
    }
    if ((!o.ready || o.ready.test(log())) && (await canConnect(o.port))) break;
    await sleep(50);
  }
  return {
    pid,
    logFile: o.logFile,
    exited: () => exit !== undefined,
    exitInfo: () => exit ?? "running",
    async stop() {
      if (exit) return;
      // Descendants first (Architect spawns a process per invocation), then the server.
      const tree = processTree(pid);
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([gone, sleep(5000)]);
      for (const p of tree) {
        try {
          process.kill(p, "SIGKILL");
        } catch {}
      }
      if (!exit) await Promise.race([gone, sleep(2000)]);
    },
  };
}
