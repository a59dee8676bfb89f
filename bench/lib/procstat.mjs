// Server-side resource sampling from /proc (Linux only): CPU time and RSS of a process tree.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const CLK_TCK = 100; // USER_HZ; 100 on every Linux/x86-64 and arm64 kernel Node supports.
const PAGE = 4096;

/**
 * @typedef {{ pid: number, ppid: number, utime: number, stime: number, cutime: number, cstime: number, rssPages: number }} ProcStat
 */

/** @param {number} pid @returns {ProcStat | undefined} */
export function readStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); field n is rest[n - 3].
  return {
    pid,
    ppid: Number(rest[1]),
    utime: Number(rest[11]),
    stime: Number(rest[12]),
    cutime: Number(rest[13]),
    cstime: Number(rest[14]),
    rssPages: Number(rest[21]),
  };
}

/** VmRSS and VmHWM (peak) of one process, bytes. @param {number} pid */
export function readStatus(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (/** @type {string} */ key) => {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
      return m ? Number(m[1]) * 1024 : 0;
    };
    return {
      rss: kb("VmRSS"),
      hwm: kb("VmHWM"),
      threads: Number(/^Threads:\s+(\d+)/m.exec(text)?.[1] ?? 0),
    };
  } catch {
    return { rss: 0, hwm: 0, threads: 0 };
  }
}

/** All live descendants of `root` (including root). @param {number} root */
export function processTree(root) {
  /** @type {Map<number, number[]>} */
  const children = new Map();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const st = readStat(pid);
    if (!st) continue;
    const list = children.get(st.ppid);
    if (list) list.push(pid);
    else children.set(st.ppid, [pid]);
  }
  const out = [root];
  for (let i = 0; i < out.length; i++)
    out.push(...(children.get(/** @type {number} */ (out[i])) ?? []));
  return out;
}

/**
 * One sample of a process tree: CPU seconds (root's own + reaped children + live descendants)
 * and summed RSS.
 * @param {number} root
 */
export function sampleTree(root) {
  const pids = processTree(root);
  let cpuTicks = 0;
  let rss = 0;
  let threads = 0;
  for (const pid of pids) {
    const st = readStat(pid);
    if (!st) continue;
    cpuTicks += st.utime + st.stime;
    if (pid === root) cpuTicks += st.cutime + st.cstime;
    rss += st.rssPages * PAGE;
    threads += readStatus(pid).threads;
  }
  return { t: performance.now(), cpuSec: cpuTicks / CLK_TCK, rss, processes: pids.length, threads };
}

/**
 * Samples a server's process tree every `intervalMs` until stopped; reports CPU use over the
 * window and RSS at the start, end and peak.
 */
export class Sampler {
  /** @param {number} pid @param {number} [intervalMs] */
  constructor(pid, intervalMs = 100) {
    this.pid = pid;
    this.first = sampleTree(pid);
    this.machine0 = machineBusySec();
    this.client0 = process.cpuUsage();
    this.last = this.first;
    this.peakRss = this.first.rss;
    this.maxProcesses = this.first.processes;
    this.maxThreads = this.first.threads;
    this.timer = setInterval(() => this.#tick(), intervalMs);
    this.timer.unref();
  }
  #tick() {
    const s = sampleTree(this.pid);
    if (s.processes === 0) return;
    this.last = s;
    if (s.rss > this.peakRss) this.peakRss = s.rss;
    if (s.processes > this.maxProcesses) this.maxProcesses = s.processes;
    if (s.threads > this.maxThreads) this.maxThreads = s.threads;
  }
  stop() {
    clearInterval(this.timer);
    this.#tick();
    const wallSec = (this.last.t - this.first.t) / 1000;
    const cpuSec = this.last.cpuSec - this.first.cpuSec;
    const c = process.cpuUsage(this.client0);
    const clientSec = (c.user + c.system) / 1e6;
    // Everything else that ran on the machine meanwhile (other jobs skew the numbers).
    const otherSec = Math.max(0, machineBusySec() - this.machine0 - cpuSec - clientSec);
    return {
      wallSec: round(wallSec, 3),
      cpuSec: round(cpuSec, 3),
      /** CPU use in % of one core (200% = both cores of this machine). */
      cpuPct: wallSec > 0 ? round((100 * cpuSec) / wallSec, 1) : 0,
      /** The load generator (this process), % of one core. */
      clientCpuPct: wallSec > 0 ? round((100 * clientSec) / wallSec, 1) : 0,
      /** Other processes on the machine, % of one core. */
      otherCpuPct: wallSec > 0 ? round((100 * otherSec) / wallSec, 1) : 0,
      rssStartMB: mb(this.first.rss),
      rssEndMB: mb(this.last.rss),
      rssPeakMB: mb(this.peakRss),
      maxProcesses: this.maxProcesses,
      maxThreads: this.maxThreads,
    };
  }
}

/** @param {number} bytes */
export function mb(bytes) {
  return round(bytes / (1024 * 1024), 1);
}

/** @param {number} x @param {number} digits */
export function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Soft and hard limits on open files of this process. */
export function openFileLimits() {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(
      readFileSync("/proc/self/limits", "utf8"),
    );
    if (m) {
      const n = (/** @type {string} */ s) =>
        s === "unlimited" ? Number.POSITIVE_INFINITY : Number(s);
      return { soft: n(/** @type {string} */ (m[1])), hard: n(/** @type {string} */ (m[2])) };
    }
  } catch {}
  return { soft: 1024, hard: 1024 };
}

/**
 * Run this script again under the hard open-files limit (a bench holding thousands of client
 * sockets): when the soft limit is lower, re-executes `process.argv` under `sh -c ulimit` once
 * (`SWITCHBOARD_BENCH_REEXEC` marks the child) and exits with the child's status. Returns only
 * in the process that is to do the work.
 */
export function runUnderHardFileLimit() {
  const fd = openFileLimits();
  if (fd.soft >= fd.hard || process.env.SWITCHBOARD_BENCH_REEXEC) return;
  const r = spawnSync(
    "/bin/sh",
    [
      "-c",
      'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"',
      process.execPath,
      ...process.argv.slice(1),
    ],
    { stdio: "inherit", env: { ...process.env, SWITCHBOARD_BENCH_REEXEC: "1" } },
  );
  process.exit(r.status ?? 1);
}

/** Busy CPU seconds of the whole machine (all cores) from /proc/stat. */
export function machineBusySec() {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return busy / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Busy CPU of the whole machine over `ms`, in % of one core. @param {number} ms */
export async function machineLoadPct(ms) {
  const a = machineBusySec();
  const t = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  return (100 * (machineBusySec() - a)) / ((performance.now() - t) / 1000);
}

/**
 * Wait, up to `maxMs`, for the machine to be quiet: under 40% of a core busy (other jobs on
 * these cores skew every figure). Returns how long it waited beyond the first 0.5 s sample, and
 * the load it last measured.
 * @param {number} maxMs
 */
export async function waitForQuiet(maxMs) {
  const t0 = Date.now();
  let load = await machineLoadPct(500);
  while (load > 40 && Date.now() - t0 < maxMs) load = await machineLoadPct(1000);
  return { waitedMs: Math.max(0, Date.now() - t0 - 500), load };
}
