import { describe, expect, it } from "vitest";
import { Deadlines } from "../../src/invoker/deadlines.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Deadlines (invocation timeouts on one timer per duration)", () => {
  it("expires entries of one duration in order, no earlier than their deadline", async () => {
    const deadlines = new Deadlines();
    const expired: Array<[number, number]> = [];
    const start = performance.now();
    for (let i = 0; i < 3; i++) {
      deadlines.add(40, () => expired.push([i, performance.now() - start]));
      await sleep(15);
    }
    await sleep(80);
    expect(expired.map(([i]) => i)).toEqual([0, 1, 2]);
    for (const [i, at] of expired) expect(at).toBeGreaterThanOrEqual(40 + i * 15 - 1);
  });

  it("never fires a cancelled entry, and still fires the live one behind it", async () => {
    const deadlines = new Deadlines();
    const fired: string[] = [];
    const a = deadlines.add(30, () => fired.push("a"));
    await sleep(10);
    deadlines.add(30, () => fired.push("b"));
    a.cancel();
    await sleep(60);
    expect(fired).toEqual(["b"]);
  });

  it("keeps durations apart: a short timeout added later fires first", async () => {
    const deadlines = new Deadlines();
    const fired: string[] = [];
    deadlines.add(80, () => fired.push("long"));
    deadlines.add(20, () => fired.push("short"));
    await sleep(50);
    expect(fired).toEqual(["short"]);
    await sleep(60);
    expect(fired).toEqual(["short", "long"]);
  });
});

describe("Deadlines (bookkeeping)", () => {
  it("cancels in any order, twice harmlessly, and fires only what is left, in order", async () => {
    const deadlines = new Deadlines();
    const fired: number[] = [];
    const entries = Array.from({ length: 6 }, (_, i) => deadlines.add(25, () => fired.push(i)));
    // head, middle, tail, and one twice
    for (const i of [0, 3, 5, 3]) entries[i]?.cancel();
    await sleep(60);
    expect(fired).toEqual([1, 2, 4]);
    // An expired entry cancelled afterwards changes nothing; the lane serves new entries.
    entries[1]?.cancel();
    deadlines.add(25, () => fired.push(6));
    await sleep(60);
    expect(fired).toEqual([1, 2, 4, 6]);
  });
});
