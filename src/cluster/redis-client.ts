import type { Cluster as IORedisCluster, Redis } from "ioredis";
import type { RedisTarget } from "./redis-url.js";

/** An `ioredis` client of any deployment: one instance or Sentinel (`Redis`), or a `Cluster`. */
export type RedisClient = Redis | IORedisCluster;

/** Whether a client talks to a Redis Cluster (keys of one operation must share a slot there). */
export function isRedisCluster(client: unknown): client is IORedisCluster {
  return (client as { isCluster?: unknown } | null)?.isCluster === true;
}

/**
 * How the node's clients behave, whatever the deployment: a connect timeout, two retries per
 * command before it fails (the caller answers 503 rather than waiting), and reconnection every
 * 0.2-2 s after the first successful connect.
 */
const retryStrategy = (times: number) => Math.min(times * 200, 2000);
const COMMON = { connectTimeout: 5000, maxRetriesPerRequest: 2 } as const;

/**
 * A client for the target, not connected yet (`lazyConnect`: the caller connects and reports a
 * failure with the URL). `subscriber`: the client carries a pub/sub subscription; on a Redis
 * Cluster it then subscribes per shard (`SSUBSCRIBE` on the master owning each channel's slot).
 */
export async function createRedisClient(
  target: RedisTarget,
  role: { subscriber?: boolean } = {},
): Promise<RedisClient> {
  const { Redis: RedisClass, Cluster } = await import("ioredis");
  switch (target.kind) {
    case "single":
      return new RedisClass(target.url, { ...COMMON, lazyConnect: true, retryStrategy });
    case "sentinel":
      return new RedisClass({
        ...COMMON,
        lazyConnect: true,
        retryStrategy,
        sentinels: target.sentinels,
        name: target.name,
        db: target.db,
        ...(target.username
          ? { username: target.username, sentinelUsername: target.username }
          : {}),
        ...(target.password
          ? { password: target.password, sentinelPassword: target.password }
          : {}),
        ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
        sentinelRetryStrategy: retryStrategy,
      });
    case "cluster":
      return new Cluster(target.nodes, {
        lazyConnect: true,
        clusterRetryStrategy: retryStrategy,
        // Redis 7 sharded pub/sub: each node's channel lives on the master owning its slot, so
        // SPUBLISH reaches only that shard and counts its subscribers exactly.
        ...(role.subscriber ? { shardedSubscribers: true } : {}),
        redisOptions: {
          ...COMMON,
          ...(target.username ? { username: target.username } : {}),
          ...(target.password ? { password: target.password } : {}),
          ...(target.tls ? { tls: {} } : {}),
        },
      });
  }
}
