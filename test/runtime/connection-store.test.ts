import { describe, expect, it } from "vitest";
import { MemoryConnectionStore } from "../../src/runtime/connection-store.js";
import { connectionStoreContract } from "./connection-store.contract.js";

/** A store with a clock the test moves (ms). */
function storeAt(start: number, options: { ttlSeconds?: number; indexes?: string[] } = {}) {
  const clock = { now: start };
  const store = new MemoryConnectionStore({
    ttlSeconds: options.ttlSeconds ?? 0,
    indexes: options.indexes ?? ["room"],
    now: () => clock.now,
  });
  return { store, clock };
}

const ids = (rows: Array<{ connectionId: string }>) => rows.map((r) => r.connectionId).sort();

describe("ConnectionStore contract: MemoryConnectionStore", () => {
  connectionStoreContract(async (options) => new MemoryConnectionStore(options));
});

// What the memory store promises beyond the contract (which runs against it above).
describe("MemoryConnectionStore", () => {
  it("gets copies, never the stored row", async () => {
    const { store } = storeAt(1_000_000);
    await store.put({ connectionId: "a", room: "r1", user: "alice" });
    const row = await store.get("a");
    expect(row).toEqual({ connectionId: "a", room: "r1", user: "alice" });
    row!.room = "mutated";
    expect((await store.get("a"))!.room).toBe("r1");
  });

  it("matches index values exactly (no string coercion)", async () => {
    const { store } = storeAt(0, { indexes: ["n"] });
    await store.put({ connectionId: "a", n: 1 });
    await store.put({ connectionId: "b", n: "1" });
    expect(ids(await store.query("n", 1))).toEqual(["a"]);
    expect(ids(await store.query("n", "1"))).toEqual(["b"]);
  });

  it("a put after expiry revives the id with a fresh expiry", async () => {
    const { store, clock } = storeAt(0, { ttlSeconds: 10 });
    await store.put({ connectionId: "a", room: "r1" });
    clock.now = 20_000;
    expect(await store.get("a")).toBeUndefined();
    await store.put({ connectionId: "a", room: "r2" });
    expect(await store.get("a")).toMatchObject({ room: "r2", expiresAt: 30 });
    expect(await store.query("room", "r1")).toEqual([]);
    expect(ids(await store.query("room", "r2"))).toEqual(["a"]);
  });
});
