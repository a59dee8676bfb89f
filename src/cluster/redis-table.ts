import type { Redis } from "ioredis";
import type { App } from "../app/model.js";
import { SwitchboardError } from "../errors.js";
import { RedisConnectionStore } from "../runtime/connection-store-redis.js";
import { Cluster, type ClusterOptions, type LocalConnections } from "./redis-cluster.js";
import { RedisHealth } from "./redis-health.js";

/** Redis as the shared engine: the connection table, and the cluster of gateways. */
export interface RedisTableOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  url: string;
  /**
   * Prefix of every key and channel: the table under `<prefix>connections:`, the cluster
   * under `<prefix>cluster:`. Default `switchboard:<app>:<stage>:`.
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

/** The URL without its password, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * Connects to Redis (failing fast, with the URL in the message, when it cannot) and opens the
 * app's connection table there: what `ctx.connections` reads and writes instead of the
 * in-memory table, shared by every gateway on the same prefix. `joinCluster` then makes those
 * gateways one cluster (`cluster.ts`), so the management API reaches every node's connections.
 */
export async function openRedisTable(app: App, options: RedisTableOptions): Promise<RedisTable> {
  const { Redis: RedisClient } = await import("ioredis");
  const redis = new RedisClient(options.url, {
    lazyConnect: true,
    connectTimeout: 5000,
    maxRetriesPerRequest: 2,
    // Connecting at start-up is tried once; after that ioredis reconnects on its own.
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  // ioredis reports socket errors as events (and reconnects); without a listener Node prints
  // each one. The latest is kept for the start-up message.
  let lastError: Error | undefined;
  redis.on("error", (error: Error) => {
    lastError = error;
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    const why = lastError ?? (error as Error);
    throw new SwitchboardError(
      "SB_ERR_REDIS",
      `cannot reach Redis at ${redactRedisUrl(options.url)}: ${why.message}`,
      { cause: why },
    );
  }
  const keyPrefix = options.keyPrefix ?? `switchboard:${app.name}:${app.stage}:`;
  const store = new RedisConnectionStore({
    redis,
    keyPrefix: `${keyPrefix}connections:`,
    ttlSeconds: app.connections.ttlSeconds,
    indexes: app.connections.indexes,
  });
  const health = new RedisHealth();
  health.watch(redis);
  let cluster: Cluster | undefined;
  let subscriber: Redis | undefined;
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
      subscriber = redis.duplicate();
      subscriber.on("error", () => undefined);
      health.watch(subscriber);
      cluster = await Cluster.join(
        {
          redis: { commands: redis, subscriber },
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
