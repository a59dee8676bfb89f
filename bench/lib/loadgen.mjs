// Coordinator of the load-generator threads (loadgen-worker.mjs). Splits connections and load
// over the threads and merges their HDR histograms and counters.
import { createHistogram } from "node:perf_hooks";
import { Worker } from "node:worker_threads";

/** @typedef {import("node:perf_hooks").RecordableHistogram} Histogram */

/** Latency summary in ms from a histogram recorded in µs. @param {Histogram} h */
export function summarize(h) {
  if (h.count === 0) return { count: 0, p50: null, p90: null, p99: null, max: null, mean: null };
  const ms = (/** @type {number} */ v) => Math.round(v) / 1000;
  return {
    count: h.count,
    p50: ms(h.percentile(50)),
    p90: ms(h.percentile(90)),
    p99: ms(h.percentile(99)),
    max: ms(h.max),
    mean: ms(h.mean),
  };
}

/** @param {Histogram[]} hs */
export function mergeHistograms(hs) {
  const m = createHistogram();
  for (const h of hs) if (h && h.count > 0) m.add(h);
  return m;
}

/** @param {Record<string, number>[]} maps */
function mergeCounts(maps) {
  /** @type {Record<string, number>} */
  const out = {};
  for (const m of maps) for (const [k, v] of Object.entries(m ?? {})) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Splits n into `parts` near-equal integers. @param {number} n @param {number} parts */
export function split(n, parts) {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
}

export class LoadGen {
  /** @param {number} threads */
  constructor(threads) {
    this.threads = threads;
    this.nextId = 1;
    /** @type {Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>} */
    this.pending = new Map();
    this.workers = Array.from({ length: threads }, (_, index) => {
      const w = new Worker(new URL("./loadgen-worker.mjs", import.meta.url), {
        workerData: { index },
      });
      w.on("message", (/** @type {{ id: number, result?: unknown, error?: string }} */ m) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.error) p.reject(new Error(m.error));
        else p.resolve(m.result);
      });
      w.on("error", (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      return w;
    });
  }

  /** @param {number} i @param {string} cmd @param {unknown} [args] @returns {Promise<any>} */
  call(i, cmd, args) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      /** @type {Worker} */ (this.workers[i]).postMessage({ id, cmd, args });
    });
  }

  /** @param {string} cmd @param {(i: number) => unknown} args @returns {Promise<any[]>} */
  all(cmd, args) {
    return Promise.all(this.workers.map((_, i) => this.call(i, cmd, args(i))));
  }

  /**
   * Opens `count` connections spread over the threads.
   * @param {{ url: string, count: number, concurrency: number, localAddresses?: string[], timeoutMs?: number, deadlineMs?: number }} o
   */
  async connect(o) {
    const counts = split(o.count, this.threads);
    const conc = split(Math.max(o.concurrency, this.threads), this.threads);
    let offset = 0;
    const offsets = counts.map((c) => {
      const x = offset;
      offset += c;
      return x;
    });
    const rs = await this.all("connect", (i) => ({
      url: o.url,
      count: counts[i],
      concurrency: conc[i],
      localAddresses: o.localAddresses ?? [],
      offset: offsets[i],
      timeoutMs: o.timeoutMs ?? 10_000,
      deadlineMs: o.deadlineMs ?? 120_000,
    }));
    const start = Math.min(...rs.map((r) => r.start));
    const end = Math.max(...rs.map((r) => r.end));
    return {
      requested: o.count,
      opened: rs.reduce((a, r) => a + r.opened, 0),
      failed: rs.reduce((a, r) => a + r.failed, 0),
      errors: mergeCounts(rs.map((r) => r.errors)),
      durationMs: end - start,
      latency: summarize(mergeHistograms(rs.map((r) => r.hist))),
    };
  }

  /** @param {{ timeoutMs?: number }} [o] */
  async closeAll(o = {}) {
    const rs = await this.all("closeAll", () => ({ timeoutMs: o.timeoutMs ?? 5000 }));
    return {
      closed: rs.reduce((a, r) => a + r.closed, 0),
      terminated: rs.reduce((a, r) => a + r.terminated, 0),
      unexpectedCloses: mergeCounts(rs.map((r) => r.unexpectedCloses)),
      strayFrames: rs.reduce((a, r) => a + r.strayFrames, 0),
    };
  }

  /**
   * @param {{ mode: "closed" | "fixed", route: string, warmupMs: number, durationMs: number, depth?: number, rate?: number, drainMs?: number, maxInflight?: number }} o
   */
  async echo(o) {
    const rates = split(Math.round(o.rate ?? 0), this.threads);
    const rs = await this.all("echo", (i) => ({
      mode: o.mode,
      route: o.route,
      warmupMs: o.warmupMs,
      durationMs: o.durationMs,
      depth: o.depth ?? 1,
      rate: rates[i],
      drainMs: o.drainMs ?? 3000,
      maxInflight: o.maxInflight ?? 20_000,
    }));
    const sum = (/** @type {string} */ k) => rs.reduce((a, r) => a + r[k], 0);
    if (sum("sent") === 0) throw new Error("no open connection to send on");
    return {
      sent: sum("sent"),
      received: sum("received"),
      errorFrames: sum("errorFrames"),
      unparsed: sum("unparsed"),
      skipped: sum("skipped"),
      unanswered: sum("unanswered"),
      msgsPerSec: Math.round((sum("inWindow") * 1000) / o.durationMs),
      latency: summarize(mergeHistograms(rs.map((r) => r.hist))),
      ...(o.mode === "fixed"
        ? { latencyFromSend: summarize(mergeHistograms(rs.map((r) => r.histSend))) }
        : {}),
    };
  }

  /** @param {{ route: string, perConn: number, timeoutMs: number }} o */
  async burst(o) {
    const rs = await this.all("burst", () => o);
    const sum = (/** @type {string} */ k) => rs.reduce((a, r) => a + r[k], 0);
    const start = Math.min(...rs.map((r) => r.start));
    const last = Math.max(...rs.map((r) => r.lastAt));
    return {
      sent: sum("sent"),
      received: sum("received"),
      lost: sum("lost"),
      errorFrames: sum("errorFrames"),
      unparsed: sum("unparsed"),
      duplicates: sum("duplicates"),
      durationMs: Math.round(last - start),
      latency: summarize(mergeHistograms(rs.map((r) => r.hist))),
    };
  }

  /**
   * One broadcast: arms every receiver, sends one message from thread 0, waits for all.
   * @param {{ route: string, tag: string, timeoutMs: number }} o
   */
  async broadcast(o) {
    const armed = await this.all("armBroadcast", () => ({ tag: o.tag }));
    const waits = this.all("awaitBroadcast", () => ({ timeoutMs: o.timeoutMs }));
    const { t0 } = await this.call(0, "sendBroadcast", { route: o.route, tag: o.tag });
    const rs = await waits;
    const expected = armed.reduce((a, r) => a + r.armed, 0);
    const received = rs.reduce((a, r) => a + r.received, 0);
    const last = Math.max(...rs.map((r) => r.last));
    return {
      expected,
      received,
      missing: expected - received,
      errorFrames: rs.reduce((a, r) => a + r.errorFrames, 0),
      timeToLastMs: received > 0 ? Math.round((last - t0) * 1000) / 1000 : null,
      latency: summarize(mergeHistograms(rs.map((r) => r.hist))),
    };
  }

  async openCount() {
    const rs = await this.all("count", () => undefined);
    return rs.reduce((a, r) => a + r.open, 0);
  }

  async terminate() {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
