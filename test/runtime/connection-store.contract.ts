import { expect, it } from "vitest";
import {
  type ConnectionStore,
  type ConnectionStoreOptions,
  NotAnIndexError,
} from "../../src/runtime/connection-store.js";

/** Makes a fresh, empty store (its own table) with the given TTL, indexes and clock. */
export type MakeStore = (options: Required<ConnectionStoreOptions>) => Promise<ConnectionStore>;

const ids = (rows: Array<{ connectionId: string }>) => rows.map((r) => r.connectionId).sort();

/** A clock the test moves, in ms. */
function clockAt(start: number) {
  const clock = { now: start };
  return { clock, now: () => clock.now };
}

/**
 * The behaviour every ConnectionStore shares (memory, DynamoDB, ...). Index values are
 * strings: DynamoDB index keys are typed, so other values are outside the contract.
 */
export function connectionStoreContract(make: MakeStore): void {
  it("puts, gets and deletes records", async () => {
    const { now } = clockAt(1_000_000);
    const store = await make({ ttlSeconds: 0, indexes: ["room"], now });
    await store.put({ connectionId: "a", room: "r1", user: "alice", joined: 3, tags: ["x"] });
    expect(await store.get("a")).toEqual({
      connectionId: "a",
      room: "r1",
      user: "alice",
      joined: 3,
      tags: ["x"],
    });
    expect(await store.get("missing")).toBeUndefined();
    await store.delete("a");
    expect(await store.get("a")).toBeUndefined();
    await store.delete("a"); // twice is fine
    expect(await store.list()).toEqual([]);
  });

  it("queries an index, following replaced and deleted rows", async () => {
    const { now } = clockAt(0);
    const store = await make({ ttlSeconds: 0, indexes: ["room", "user"], now });
    await store.put({ connectionId: "a", room: "r1", user: "alice" });
    await store.put({ connectionId: "b", room: "r1", user: "bob" });
    await store.put({ connectionId: "c", room: "r2", user: "alice" });
    await store.put({ connectionId: "d" });
    expect(ids(await store.query("room", "r1"))).toEqual(["a", "b"]);
    expect(ids(await store.query("room", "r2"))).toEqual(["c"]);
    expect(ids(await store.query("user", "alice"))).toEqual(["a", "c"]);
    expect(await store.query("room", "r3")).toEqual([]);
    await store.put({ connectionId: "a", room: "r2", user: "alice" });
    expect(ids(await store.query("room", "r1"))).toEqual(["b"]);
    expect(ids(await store.query("room", "r2"))).toEqual(["a", "c"]);
    await store.delete("c");
    expect(ids(await store.query("room", "r2"))).toEqual(["a"]);
    expect(ids(await store.list())).toEqual(["a", "b", "d"]);
  });

  it("refuses to query a field that is not an index, naming the indexes there are", async () => {
    const store = await make({ ttlSeconds: 0, indexes: ["room"], now: Date.now });
    await store.put({ connectionId: "a", room: "r1", user: "alice" });
    const error = await store.query("user", "alice").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotAnIndexError);
    expect((error as Error).name).toBe("NotAnIndexError");
    expect((error as Error).message).toContain('"user" is not an index');
    expect((error as Error).message).toContain("room");
    const none = await make({ ttlSeconds: 0, indexes: [], now: Date.now });
    await expect(none.query("room", "x")).rejects.toThrow(/indexes: none/);
  });

  it("sets expiresAt (epoch seconds) from the TTL and hides expired rows from get, query and list", async () => {
    const { clock, now } = clockAt(1_700_000_000_500);
    const store = await make({ ttlSeconds: 60, indexes: ["room"], now });
    await store.put({ connectionId: "a", room: "r1" });
    expect((await store.get("a"))?.expiresAt).toBe(1_700_000_000 + 60);
    clock.now += 59_000;
    expect(await store.get("a")).toBeDefined();
    expect(ids(await store.query("room", "r1"))).toEqual(["a"]);
    await store.put({ connectionId: "b", room: "r1" });
    expect(ids(await store.query("room", "r1"))).toEqual(["a", "b"]);
    clock.now = (1_700_000_000 + 60) * 1000;
    expect(await store.get("a")).toBeUndefined();
    expect(ids(await store.query("room", "r1"))).toEqual(["b"]);
    expect(ids(await store.list())).toEqual(["b"]);
    clock.now += 3_600_000;
    expect(await store.list()).toEqual([]);
    expect(await store.query("room", "r1")).toEqual([]);
  });

  it("keeps an explicit expiresAt; a TTL of 0 never expires", async () => {
    const { clock, now } = clockAt(10_000_000);
    const store = await make({ ttlSeconds: 60, indexes: [], now });
    await store.put({ connectionId: "pinned", expiresAt: 10_005 });
    expect((await store.get("pinned"))?.expiresAt).toBe(10_005);
    clock.now += 5_000;
    expect(await store.get("pinned")).toBeUndefined();

    const forever = await make({ ttlSeconds: 0, indexes: [], now });
    await forever.put({ connectionId: "x" });
    expect(await forever.get("x")).not.toHaveProperty("expiresAt");
    clock.now += 10 * 365 * 86_400_000;
    expect(await forever.get("x")).toBeDefined();
  });
}
