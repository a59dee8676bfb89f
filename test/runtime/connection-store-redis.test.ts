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
