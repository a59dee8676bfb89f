import { describe, expect, it } from "vitest";
import { MemoryConnectionStore, NotAnIndexError } from "../../src/runtime/connection-store.js";

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

describe("MemoryConnectionStore", () => {
  it("puts, gets and deletes records (copies, never the stored row)", async () => {
    const { store } = storeAt(1_000_000);
    await store.put({ connectionId: "a", room: "r1", user: "alice" });
    const row = await store.get("a");
    expect(row).toEqual({ connectionId: "a", room: "r1", user: "alice" });
    row!.room = "mutated";
    expect((await store.get("a"))!.room).toBe("r1");
    expect(await store.get("missing")).toBeUndefined();
    await store.delete("a");
    expect(await store.get("a")).toBeUndefined();
    await store.delete("a"); // deleting twice is fine
    expect(await store.list()).toEqual([]);
  });

  it("queries by an index and keeps the index in step with replaced and deleted rows", async () => {
    const { store } = storeAt(0);
    await store.put({ connectionId: "a", room: "r1" });
    await store.put({ connectionId: "b", room: "r1" });
    await store.put({ connectionId: "c", room: "r2" });
    await store.put({ connectionId: "d" }); // no room: in no index bucket
    expect(ids(await store.query("room", "r1"))).toEqual(["a", "b"]);
    expect(ids(await store.query("room", "r2"))).toEqual(["c"]);
    expect(await store.query("room", "r3")).toEqual([]);

    // Replacing a row moves it between index buckets.
    await store.put({ connectionId: "a", room: "r2" });
    expect(ids(await store.query("room", "r1"))).toEqual(["b"]);
    expect(ids(await store.query("room", "r2"))).toEqual(["a", "c"]);
    await store.delete("c");
    expect(ids(await store.query("room", "r2"))).toEqual(["a"]);
    expect(ids(await store.list())).toEqual(["a", "b", "d"]);
  });

  it("matches index values exactly (no string coercion)", async () => {
    const { store } = storeAt(0, { indexes: ["n"] });
    await store.put({ connectionId: "a", n: 1 });
    await store.put({ connectionId: "b", n: "1" });
    expect(ids(await store.query("n", 1))).toEqual(["a"]);
    expect(ids(await store.query("n", "1"))).toEqual(["b"]);
  });

  it("throws NotAnIndexError when querying a field that is not an index", async () => {
    const { store } = storeAt(0, { indexes: ["room"] });
    await store.put({ connectionId: "a", room: "r1", user: "alice" });
    const error = await store.query("user", "alice").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotAnIndexError);
    expect((error as Error).name).toBe("NotAnIndexError");
    expect((error as Error).message).toContain('"user" is not an index');
    expect((error as Error).message).toContain("room");
    const none = new MemoryConnectionStore({ ttlSeconds: 0, indexes: [] });
    await expect(none.query("room", "x")).rejects.toThrow(/indexes: none/);
  });

  it("sets expiresAt (epoch seconds) from the TTL and hides expired rows from get, query and list", async () => {
    const { store, clock } = storeAt(1_700_000_000_500, { ttlSeconds: 60 });
    await store.put({ connectionId: "a", room: "r1" });
    const row = await store.get("a");
    expect(row!.expiresAt).toBe(1_700_000_000 + 60);

    clock.now += 59_000;
    expect(await store.get("a")).toBeDefined();
    expect(ids(await store.query("room", "r1"))).toEqual(["a"]);

    await store.put({ connectionId: "b", room: "r1" }); // expires 59 s later than a
    clock.now = (1_700_000_000 + 60) * 1000; // a's expiresAt reached
    expect(await store.get("a")).toBeUndefined();
    expect(ids(await store.query("room", "r1"))).toEqual(["b"]);
    expect(ids(await store.list())).toEqual(["b"]);

    clock.now += 3_600_000;
    expect(await store.list()).toEqual([]);
    expect(await store.query("room", "r1")).toEqual([]);
  });

  it("keeps an explicit expiresAt, and never expires rows when the TTL is 0", async () => {
    const { store, clock } = storeAt(10_000_000, { ttlSeconds: 60 });
    await store.put({ connectionId: "pinned", expiresAt: 10_000 + 5 });
    expect((await store.get("pinned"))!.expiresAt).toBe(10_005);
    clock.now += 5_000;
    expect(await store.get("pinned")).toBeUndefined();

    const forever = storeAt(0, { ttlSeconds: 0 });
    await forever.store.put({ connectionId: "x" });
    expect((await forever.store.get("x"))!).not.toHaveProperty("expiresAt");
    forever.clock.now += 10 * 365 * 86_400_000;
    expect(await forever.store.get("x")).toBeDefined();
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
