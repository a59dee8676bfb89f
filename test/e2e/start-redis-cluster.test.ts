import type { Cluster } from "ioredis";
import { expect, it } from "vitest";
import { clusterRedis } from "../helpers/redis-deployment.js";
import { describeStartSuite, START_PREFIX } from "./start-suite.js";

// The `switchboard start` suite (start-suite.ts) on a 3-master Redis Cluster of this file's own
// (`--redis redis+cluster://...`): the table, ownership and the bus (sharded pub/sub) there.
describeStartSuite(
  "switchboard start: three nodes on a Redis Cluster (3 masters)",
  clusterRedis,
  (suite) => {
    it("the bus is sharded: a shard channel per node, no classic channel on any master", async () => {
      const masters = (suite.redis.client as Cluster).nodes("master");
      expect(masters).toHaveLength(3);
      const classic = await Promise.all(
        masters.map((node) => node.pubsub("CHANNELS", `${START_PREFIX}*`) as Promise<string[]>),
      );
      expect(classic.flat()).toEqual([]);
      expect(await suite.redis.channels(`${START_PREFIX}cluster:node:*`)).toHaveLength(3);
    });
  },
);
