import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisConnectionStore } from "../../src/runtime/connection-store-redis.js";
import { removeKeys, TEST_REDIS_URL, testKeyPrefix } from "../helpers/redis.js";
import { connectionStoreContract } from "./connection-store.contract.js";

// A real Redis. Every table gets its own key prefix under this run's namespace, removed
// afterwards.
const namespace = testKeyPrefix("store");
let redis: Redis;

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
});

afterAll(async () => {
  await removeKeys(namespace);
  await redis.quit();
});

let tables = 0;
const freshPrefix = () => `${namespace}${++tables}:`;

describe("ConnectionStore contract: RedisConnectionStore (real Redis, ioredis)", () => {
  connectionStoreContract(
    async (options) => new RedisConnectionStore({ ...options, redis, keyPrefix: freshPrefix() }),
  );
});

describe("RedisConnectionStore", () => {
  it("keeps rows as JSON under its prefix, and lets Redis expire them when the TTL passes", async () => {
    const keyPrefix = freshPrefix();
    const store = new RedisConnectionStore({ redis, keyPrefix, ttlSeconds: 1, indexes: ["room"] });
    await store.put({ connectionId: "a", room: "r1" });
    expect(JSON.parse((await redis.get(`${keyPrefix}row:a`)) ?? "null")).toMatchObject({
      connectionId: "a",
      room: "r1",
    });
    const pttl = await redis.pttl(`${keyPrefix}row:a`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1000);
    expect(await redis.smembers(`${keyPrefix}idx:room:"r1"`)).toEqual(["a"]);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await redis.exists(`${keyPrefix}row:a`)).toBe(0);
    // The read finds the row gone and prunes its id from the sets.
    expect(await store.query("room", "r1")).toEqual([]);
    expect(await redis.smembers(`${keyPrefix}idx:room:"r1"`)).toEqual([]);
    expect(await store.list()).toEqual([]);
    expect(await redis.smembers(`${keyPrefix}all`)).toEqual([]);
  });

  it("expires the Redis key by the row's own expiresAt, not the table TTL (0 included)", async () => {
    const keyPrefix = freshPrefix();
    const nowSeconds = () => Math.floor(Date.now() / 1000);
    // A table TTL of 1 s: a row pinned an hour ahead keeps its hour in Redis too.
    const short = new RedisConnectionStore({ redis, keyPrefix, ttlSeconds: 1, indexes: [] });
    await short.put({ connectionId: "pinned", expiresAt: nowSeconds() + 3600 });
    expect(await redis.pttl(`${keyPrefix}row:pinned`)).toBeGreaterThan(3500_000);
    // A table TTL of 0: no expiry unless the row has its own; then Redis follows the row.
    const forever = new RedisConnectionStore({ redis, keyPrefix, ttlSeconds: 0, indexes: [] });
    await forever.put({ connectionId: "plain" });
    expect(await redis.pttl(`${keyPrefix}row:plain`)).toBe(-1);
    await forever.put({ connectionId: "brief", expiresAt: nowSeconds() + 2 });
    const pttl = await redis.pttl(`${keyPrefix}row:brief`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(2000);
    // Replacing a row without expiresAt in a TTL-0 table lifts the old expiry.
    await forever.put({ connectionId: "brief" });
    expect(await redis.pttl(`${keyPrefix}row:brief`)).toBe(-1);
  });

  it("hides a row whose expiresAt passed by its own clock while Redis still holds the key", async () => {
    const keyPrefix = freshPrefix();
    const writer = new RedisConnectionStore({
      redis,
      keyPrefix,
      ttlSeconds: 60,
      indexes: ["room"],
    });
    await writer.put({ connectionId: "a", room: "r" });
    // Another node whose clock is two minutes ahead (as DynamoDB hides expired items before its
    // sweeper deletes them): the row is expired for it.
    const later = new RedisConnectionStore({
      redis,
      keyPrefix,
      ttlSeconds: 60,
      indexes: ["room"],
      now: () => Date.now() + 120_000,
    });
    expect(await redis.exists(`${keyPrefix}row:a`)).toBe(1);
    expect(await later.get("a")).toBeUndefined();
    expect(await later.list()).toEqual([]);
    expect(await later.query("room", "r")).toEqual([]);
    expect((await writer.get("a"))?.connectionId).toBe("a");
  });

  it("shares one table between two clients (two gateway nodes)", async () => {
    const keyPrefix = freshPrefix();
    const other = new Redis(TEST_REDIS_URL);
    try {
      const nodeA = new RedisConnectionStore({
        redis,
        keyPrefix,
        ttlSeconds: 0,
        indexes: ["room"],
      });
      const nodeB = new RedisConnectionStore({
        redis: other,
        keyPrefix,
        ttlSeconds: 0,
        indexes: ["room"],
      });
      await nodeA.put({ connectionId: "a", room: "lobby" });
      await nodeB.put({ connectionId: "b", room: "lobby" });
      expect((await nodeA.query("room", "lobby")).map((r) => r.connectionId).sort()).toEqual([
        "a",
        "b",
      ]);
      await nodeA.delete("b");
      expect(await nodeB.get("b")).toBeUndefined();
    } finally {
      await other.quit();
    }
  });
});
