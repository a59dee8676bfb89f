import { setImmediate as turn } from "node:timers/promises";
import { runInNewContext } from "node:vm";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { fullGc } from "../src/cli/full-gc.js";

describe("fullGc: V8's gc() for the CLI's server, without --expose-gc (cli/full-gc.ts)", () => {
  it("collects: an object only a WeakRef points to is gone after it", async () => {
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe("undefined");
    const gc = fullGc();
    expect(gc).toBeTypeOf("function");
    const ref = (() => new WeakRef({ big: new Array(1000).fill(1) }))();
    // A WeakRef's target lives until the end of the job that made it.
    await turn();
    gc?.();
    expect(ref.deref()).toBeUndefined();
  });

  it("leaves no gc global behind: not here, not in a new context, not in a worker", async () => {
    fullGc();
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe("undefined");
    expect(runInNewContext("typeof gc")).toBe("undefined");
    const worker = new Worker(
      "require('node:worker_threads').parentPort.postMessage(typeof globalThis.gc)",
      { eval: true },
    );
    const seen = await new Promise((resolve) => worker.once("message", resolve));
    await worker.terminate();
    expect(seen).toBe("undefined");
  });
});
