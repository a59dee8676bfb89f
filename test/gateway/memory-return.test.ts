import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  MEMORY_RETURN_BOUNDS,
  type MemoryReturnReport,
  returnMemoryWhenQuiet,
} from "../../src/gateway/memory-return.js";

/**
 * The policy with fake timers, a fake gc and a fake event loop: what a real server gives back
 * is measured by test/e2e/memory-return.test.ts (a `switchboard dev` process).
 */
function harness() {
  const state = { open: 0, busy: 0.5, gcs: [] as number[], reports: [] as MemoryReturnReport[] };
  let heap = 80 * 1024 * 1024;
  // As the event loop measures it, a GC's pause is busy time: a 200 ms GC in a 1 s sample.
  let paused = false;
  const stop = returnMemoryWhenQuiet({
    gc: () => {
      state.gcs.push(Date.now());
      heap = 20 * 1024 * 1024;
      paused = true;
    },
    connections: () => state.open,
    utilization: () => {
      const busy = paused ? Math.max(state.busy, 0.2) : state.busy;
      paused = false;
      return busy;
    },
    heapCommitted: () => heap,
    onReturn: (report) => state.reports.push(report),
  });
  const seconds = (n: number) => vi.advanceTimersByTime(n * 1000);
  return { state, stop, seconds };
}

describe("memory back after a load drop, once quiet (gateway/memory-return.ts)", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a drop to half of the peak, then 3 s of quiet: one GC, a second 6 s later, reported once", () => {
    const { state, stop, seconds } = harness();
    state.open = 1000;
    seconds(10);
    state.open = 0;
    seconds(2); // the mass close keeps the loop busy
    expect(state.gcs).toEqual([]);
    state.busy = 0.01;
    seconds(2);
    expect(state.gcs).toHaveLength(0);
    seconds(1);
    expect(state.gcs).toHaveLength(1);
    seconds(5);
    expect(state.gcs).toHaveLength(1);
    seconds(1);
    expect(state.gcs).toHaveLength(2);
    expect((state.gcs[1] as number) - (state.gcs[0] as number)).toBe(6000);
    expect(state.reports).toEqual([
      {
        connections: 0,
        peak: 1000,
        gcs: 2,
        gcMs: expect.any(Number),
        heapBefore: 80 * 1024 * 1024,
        heapAfter: 20 * 1024 * 1024,
      },
    ]);
    // Once per drop: a quiet server left alone runs no more.
    seconds(600);
    expect(state.gcs).toHaveLength(2);
    stop();
  });

  it("never under load: a busy loop after the drop waits, however long", () => {
    const { state, stop, seconds } = harness();
    state.open = 2000;
    seconds(1);
    state.open = 100;
    for (let i = 0; i < 120; i++) {
      // Busy, with one quiet second in every two: never 3 s in a row.
      state.busy = i % 2 === 0 ? 0.3 : 0.01;
      seconds(1);
    }
    expect(state.gcs).toEqual([]);
    state.busy = 0.02;
    seconds(3);
    expect(state.gcs).toHaveLength(1);
    stop();
  });

  it("no drop, no GC: below the minimum peak, or not down to half", () => {
    const small = harness();
    small.state.open = MEMORY_RETURN_BOUNDS.minPeak - 1;
    small.seconds(2);
    small.state.open = 0;
    small.state.busy = 0;
    small.seconds(120);
    expect(small.state.gcs).toEqual([]);
    small.stop();

    const shallow = harness();
    shallow.state.open = 1000;
    shallow.seconds(2);
    shallow.state.open = 501;
    shallow.state.busy = 0;
    shallow.seconds(120);
    expect(shallow.state.gcs).toEqual([]);
    shallow.state.open = 500;
    shallow.seconds(1);
    expect(shallow.state.gcs).toHaveLength(1);
    shallow.stop();
  });

  it("load back after the first GC: the second waits for quiet, and is dropped after a minute", () => {
    const { state, stop, seconds } = harness();
    state.open = 1000;
    seconds(1);
    state.open = 10;
    state.busy = 0;
    seconds(3);
    expect(state.gcs).toHaveLength(1);
    state.busy = 0.4;
    seconds(59);
    expect(state.gcs).toHaveLength(1);
    expect(state.reports).toEqual([]);
    seconds(1);
    expect(state.reports).toMatchObject([{ gcs: 1, connections: 10, peak: 1000 }]);
    state.busy = 0;
    seconds(600);
    expect(state.gcs).toHaveLength(1);
    stop();
  });

  it("a busy second before the second GC (a signal's wakeup, a scrape): it runs after 3 s of quiet", () => {
    const { state, stop, seconds } = harness();
    state.open = 1000;
    seconds(1);
    state.open = 0;
    state.busy = 0;
    seconds(3);
    expect(state.gcs).toHaveLength(1);
    seconds(4);
    state.busy = 0.35;
    seconds(1);
    state.busy = 0;
    seconds(2);
    expect(state.gcs).toHaveLength(1);
    seconds(1);
    expect(state.gcs).toHaveLength(2);
    expect(state.reports).toMatchObject([{ gcs: 2 }]);
    stop();
  });

  it("the GC's own pause does not count as load: the second GC still runs", () => {
    const { state, stop, seconds } = harness();
    state.open = 1000;
    seconds(1);
    state.open = 0;
    state.busy = 0;
    seconds(3 + 6);
    expect(state.gcs).toHaveLength(2);
    stop();
  });

  it("a second drop waits for the minimum interval; the peak counts from the last return", () => {
    const { state, stop, seconds } = harness();
    state.open = 1000;
    seconds(1);
    state.open = 0;
    state.busy = 0;
    seconds(9);
    expect(state.gcs).toHaveLength(2);
    // 300 come and go at once: a drop from a new peak of 300.
    state.open = 300;
    seconds(1);
    state.open = 0;
    seconds(30);
    expect(state.gcs).toHaveLength(2);
    seconds(30);
    expect(state.gcs).toHaveLength(3);
    seconds(6);
    expect(state.gcs).toHaveLength(4);
    expect(state.reports.map((r) => r.peak)).toEqual([1000, 300]);
    stop();
  });

  it("stopped, it runs nothing and holds no timer", () => {
    const { state, stop, seconds } = harness();
    state.open = 1000;
    seconds(1);
    stop();
    expect(vi.getTimerCount()).toBe(0);
    state.open = 0;
    state.busy = 0;
    seconds(60);
    expect(state.gcs).toEqual([]);
  });
});
