import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisConnectionStore } from "../../src/runtime/connection-store-redis.js";
import { type RedisClusterServer, startRedisCluster } from "../helpers/redis-cluster-server.js";
import { connectionStoreContract } from "./connection-store.contract.js";

// A 3-master Redis Cluster of this file's own (redis-server ×3 on free ports, joined with
// `redis-cli --cluster create`), stopped and removed afterwards.
let server: RedisClusterServer;
let redis: Cluster;

beforeAll(async () => {
  server = await startRedisCluster();
  redis = new Cluster(
    server.ports.map((port) => ({ host: "127.0.0.1", port })),
    { lazyConnect: true, redisOptions: { maxRetriesPerRequest: 1 } },
  );
  await redis.connect();
}, 60_000);

afterAll(async () => {
  await redis?.quit().catch(() => redis.disconnect());
  await server?.stop();
});

let tables = 0;
// The hash tag puts the table's keys (rows, `all`, index sets) in one slot; tables spread.
const freshPrefix = () => `sb-test:{table-${++tables}}:`;

describe("ConnectionStore contract: RedisConnectionStore on a 3-master Redis Cluster", () => {
  connectionStoreContract(
    async (options) => new RedisConnectionStore({ ...options, redis, keyPrefix: freshPrefix() }),
  );
});

describe("RedisConnectionStore on a Redis Cluster", () => {
  it("spreads tables over the masters: their prefixes hash to slots of different nodes", async () => {
    const owners = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const store = new RedisConnectionStore({
        redis,
        keyPrefix: freshPrefix(),
        ttlSeconds: 0,
        indexes: ["room"],
      });
      await store.put({ connectionId: `c${i}`, room: "r" });
    }
    for (const node of redis.nodes("master")) {
      if ((await node.dbsize()) > 0) owners.add(`${node.options.host}:${node.options.port}`);
    }
    expect(owners.size).toBeGreaterThan(1);
  });

  it("refuses a prefix without a hash tag, whose keys would span slots (CROSSSLOT)", async () => {
    expect(
      () => new RedisConnectionStore({ redis, keyPrefix: "plain:", ttlSeconds: 0, indexes: [] }),
    ).toThrow(/no hash tag/);
    // What it prevents: the same MULTI over keys of different slots is refused by Redis.
    await expect(
      redis.multi().set("plain:row:a", "1").sadd("plain:all", "a").exec(),
    ).rejects.toThrow(/CROSSSLOT|same slot|All keys in the pipeline/i);
  });
});
