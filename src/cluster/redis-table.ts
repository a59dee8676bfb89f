import type { App } from "../app/model.js";
import { SwitchboardError } from "../errors.js";
import { hasHashTag, RedisConnectionStore } from "../runtime/connection-store-redis.js";
import { redisBus } from "./redis-bus.js";
import { createRedisClient, isRedisCluster, type RedisClient } from "./redis-client.js";
import { Cluster, type ClusterOptions, type LocalConnections } from "./redis-cluster.js";
import { RedisHealth } from "./redis-health.js";
import { parseRedisUrl, type RedisTarget, RedisUrlError, redactRedisUrl } from "./redis-url.js";

/** Redis as the shared engine: the connection table, and the cluster of gateways. */
export interface RedisTableOptions {
  /**
   * `redis://[user:password@]host:port[/db]` (one instance),
   * `redis+cluster://[user:password@]host:port[,host:port...]` (Redis Cluster, Redis 7+),
   * `redis+sentinel://[user:password@]host:port[,host:port...]/<master>[/db]` (Sentinel);
   * `rediss` for TLS (`redis-url.ts`).
   */
  url: string;
  /**
   * Prefix of every key and channel: the table under `<prefix>connections:`, the cluster
   * under `<prefix>cluster:`. Default `switchboard:{<app>:<stage>}:`: the hash tag puts all
   * of one app's keys in one Redis Cluster slot (required there: see `hasHashTag`).
   */
  keyPrefix?: string;
}

export interface RedisTable {
  store: RedisConnectionStore;
  keyPrefix: string;
  /** Whether Redis is reachable: `health.state` for a health check, `change` events for logs. */
  health: RedisHealth;
  /** Join the gateways that share this prefix (see `Cluster`). */
  /** Whether Redis is reachable now (`/readyz`, metrics): the health state. */
  reachable(): boolean;
  joinCluster(
    local: LocalConnections,
    options?: Omit<ClusterOptions, "redis" | "keyPrefix">,
  ): Promise<Cluster>;
  /** The cluster, once joined. */
  readonly cluster: Cluster | undefined;
  close(): Promise<void>;
}

export { redactRedisUrl } from "./redis-url.js";

/**
 * Connects to Redis (failing fast, with the URL in the message, when it cannot) and opens the
 * app's connection table there: what `ctx.connections` reads and writes instead of the
 * in-memory table, shared by every gateway on the same prefix. `joinCluster` then makes those
 * gateways one cluster (`cluster.ts`), so the management API reaches every node's connections.
 */
export async function openRedisTable(app: App, options: RedisTableOptions): Promise<RedisTable> {
  let target: RedisTarget;
  try {
    target = parseRedisUrl(options.url);
  } catch (error) {
    if (!(error instanceof RedisUrlError)) throw error;
    throw new SwitchboardError("SB_ERR_REDIS", `--redis: ${error.message}`);
  }
  const keyPrefix = options.keyPrefix ?? `switchboard:{${app.name}:${app.stage}}:`;
  if (target.kind === "cluster" && !hasHashTag(keyPrefix)) {
    throw new SwitchboardError(
      "SB_ERR_REDIS",
      `the key prefix ${JSON.stringify(keyPrefix)} has no hash tag: on a Redis Cluster every key of the app must share one ({...})`,
    );
  }
  const redis = await connect(target, options.url, {});
  const store = new RedisConnectionStore({
    redis,
    keyPrefix: `${keyPrefix}connections:`,
    ttlSeconds: app.connections.ttlSeconds,
    indexes: app.connections.indexes,
  });
  const health = new RedisHealth();
  health.watch(redis);
  let cluster: Cluster | undefined;
  let subscriber: RedisClient | undefined;
  return {
    store,
    keyPrefix,
    health,
    get cluster() {
      return cluster;
    },
    reachable: () => health.state.up,
    async joinCluster(local, clusterOptions = {}) {
      // A subscribed connection can run no other command: the bus gets its own.
      subscriber = await connect(target, options.url, { subscriber: true });
      health.watch(subscriber);
      cluster = await Cluster.join(
        {
          redis: {
            commands: redis,
            bus: redisBus(redis, subscriber, isRedisCluster(subscriber)),
          },
          keyPrefix: `${keyPrefix}cluster:`,
          ...clusterOptions,
        },
        local,
      );
      return cluster;
    },
    close: async () => {
      health.stop();
      await cluster?.leave();
      await subscriber?.quit().catch(() => subscriber?.disconnect());
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * A connected client, or SB_ERR_REDIS with the URL (password hidden) and the reason. Connecting
 * at start-up is tried once; after that the client reconnects on its own.
 */
async function connect(
  target: RedisTarget,
  url: string,
  role: { subscriber?: boolean },
): Promise<RedisClient> {
  const client = await createRedisClient(target, role);
  // ioredis reports socket errors as events (and reconnects); without a listener Node prints
  // each one. The latest is kept for the start-up message.
  let lastError: Error | undefined;
  client.on("error", (error: Error) => {
    lastError = error;
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    const why = lastError ?? (error as Error);
    throw new SwitchboardError(
      "SB_ERR_REDIS",
      `cannot reach Redis at ${redactRedisUrl(url)}: ${why.message}`,
      { cause: why },
    );
  }
  return client;
}
