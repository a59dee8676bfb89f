import { performance } from "node:perf_hooks";

/**
 * When a server that went quiet after a load drop runs a full garbage collection, so that V8
 * hands back the heap pages it kept committed. V8 shrinks its heap only on a GC that sees a low
 * allocation rate, and an idle process runs none: without this, a gateway that held 5,000
 * connections keeps most of their memory resident after they all left (bench/README.md § Soak).
 * Once per drop, never under load:
 */
export interface MemoryReturnBounds {
  /** How often the open connections and the event loop's utilization are sampled (ms). */
  sampleMs: number;
  /** A drop counts from a peak of at least this many open connections... */
  minPeak: number;
  /** ...down to this fraction of it (or fewer). */
  dropTo: number;
  /** The event loop busy less than this fraction of the time... */
  quietUtilization: number;
  /** ...for this long (ms) before the first GC. */
  quietMs: number;
  /**
   * The second GC this long after the first (ms), or later at the first moment the loop has
   * been quiet for `quietMs` again (none if that does not come within `minIntervalMs`). Two,
   * because the
   * first frees the old generation's pages but V8 shrinks its young generation (up to 32 MB
   * committed after a load) only on a GC that finds a low allocation rate, which it measures
   * between its own GCs over the last 5 s: the first GC still sees the load, the second (more
   * than 5 s later) sees the quiet.
   */
  secondGcMs: number;
  /**
   * At least this long between two returns (ms), whatever the connections do; also the longest
   * the second GC waits for quiet after the first.
   */
  minIntervalMs: number;
}

/**
 * Defaults: a drop to half of a peak of 256 connections or more, 3 s of an event loop busy
 * under 5%, then two GCs 6 s (or more) apart; at most one return a minute. Sampled once a
 * second.
 */
export const MEMORY_RETURN_BOUNDS: Readonly<MemoryReturnBounds> = Object.freeze({
  sampleMs: 1000,
  minPeak: 256,
  dropTo: 0.5,
  quietUtilization: 0.05,
  quietMs: 3000,
  secondGcMs: 6000,
  minIntervalMs: 60_000,
});

/** What one return did (for a log line). */
export interface MemoryReturnReport {
  /** Open connections at the first GC, and the peak they fell from. */
  connections: number;
  peak: number;
  /** Full GCs run (1, or 2 when the loop was quiet again for the second). */
  gcs: number;
  /** Time spent in them (ms): the event loop was stopped that long. */
  gcMs: number;
  /** V8's committed heap (bytes) before the first GC and after the last. */
  heapBefore: number;
  heapAfter: number;
}

export interface MemoryReturnOptions {
  /** A full, synchronous garbage collection (V8's `gc()`, as `--expose-gc` exposes it). */
  gc: () => void;
  /** Open connections now (the gateway's `size`). */
  connections: () => number;
  bounds?: Partial<MemoryReturnBounds>;
  /** Called after each return. */
  onReturn?: (report: MemoryReturnReport) => void;
  /**
   * The event loop's utilization (0..1) since the previous call. Default
   * `performance.eventLoopUtilization()` deltas; tests pass their own.
   * @internal
   */
  utilization?: () => number;
  /** V8's committed heap in bytes. Default `process.memoryUsage().heapTotal`. @internal */
  heapCommitted?: () => number;
}

/** Time since the previous call, as `performance.eventLoopUtilization()` measures it. */
function loopUtilization(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    return utilization;
  };
}

/**
 * Watch for a load drop and give memory back once the server is quiet (see
 * {@link MemoryReturnBounds}). One timer, unref'd (it never keeps the process alive), sampling
 * counts the gateway already keeps: nothing on the message path. Returns what stops it.
 *
 * @example
 * ```ts
 * const stop = returnMemoryWhenQuiet({ gc, connections: () => gateway.size });
 * // ...
 * stop();
 * ```
 */
export function returnMemoryWhenQuiet(options: MemoryReturnOptions): () => void {
  const bounds = { ...MEMORY_RETURN_BOUNDS, ...options.bounds };
  const utilization = options.utilization ?? loopUtilization();
  const heapCommitted = options.heapCommitted ?? (() => process.memoryUsage().heapTotal);
  const ticks = (ms: number) => Math.max(1, Math.ceil(ms / bounds.sampleMs));
  let peak = 0;
  let quietTicks = 0;
  // Ticks since the last return (starts "long ago").
  let sinceReturn = Number.POSITIVE_INFINITY;
  // Between the two GCs: ticks since the first, and its figures.
  let pending: { ticks: number; report: MemoryReturnReport } | undefined;

  const collect = (): number => {
    const started = performance.now();
    options.gc();
    const took = performance.now() - started;
    // The GC's own pause is not load: the next sample starts after it.
    utilization();
    return took;
  };
  const finish = (report: MemoryReturnReport) => {
    pending = undefined;
    sinceReturn = 0;
    // The next drop counts from what is open now.
    peak = options.connections();
    options.onReturn?.({ ...report, heapAfter: heapCommitted() });
  };

  const timer = setInterval(() => {
    const open = options.connections();
    if (open > peak) peak = open;
    quietTicks = utilization() < bounds.quietUtilization ? quietTicks + 1 : 0;
    sinceReturn += 1;
    if (pending) {
      pending.ticks += 1;
      if (pending.ticks < ticks(bounds.secondGcMs)) return;
      const { report } = pending;
      // The second GC at the first quiet moment from `secondGcMs` on; none if the load stayed
      // (what the first GC freed is in use again, and a GC would only pause it).
      if (quietTicks >= ticks(bounds.quietMs)) {
        report.gcMs += collect();
        report.gcs += 1;
        finish(report);
      } else if (pending.ticks >= ticks(bounds.minIntervalMs)) {
        finish(report);
      }
      return;
    }
    if (
      peak >= bounds.minPeak &&
      open <= peak * bounds.dropTo &&
      quietTicks >= ticks(bounds.quietMs) &&
      sinceReturn >= ticks(bounds.minIntervalMs)
    ) {
      const heapBefore = heapCommitted();
      const gcMs = collect();
      pending = {
        ticks: 0,
        report: { connections: open, peak, gcs: 1, gcMs, heapBefore, heapAfter: 0 },
      };
    }
  }, bounds.sampleMs);
  timer.unref();
  return () => clearInterval(timer);
}
