import { describe, expect, it } from "vitest";
import { Pacer } from "../../src/gateway/pacer.js";

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("Pacer: a burst of work is spread over event-loop turns", () => {
  it("starts at most perTurn entries per turn, in order, and lets other work run in between", async () => {
    const pacer = new Pacer(3);
    const started: number[] = [];
    const between: number[] = [];
    const done = Array.from({ length: 8 }, (_, i) =>
      pacer.run(async () => {
        started.push(i);
        return i * 10;
      }),
    );
    expect(started).toEqual([]);
    expect(pacer.pending).toBe(8);
    await turn();
    between.push(started.length);
    await turn();
    between.push(started.length);
    await turn();
    between.push(started.length);
    expect(between).toEqual([3, 6, 8]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(await Promise.all(done)).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    expect(pacer.pending).toBe(0);
  });

  it("passes a failure to its caller and keeps going", async () => {
    const pacer = new Pacer(1);
    const failed = pacer.run(async () => {
      throw new Error("boom");
    });
    const next = pacer.run(async () => "after");
    await expect(failed).rejects.toThrow("boom");
    await expect(next).resolves.toBe("after");
  });
});
