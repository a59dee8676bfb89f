import type { Redis } from "ioredis";
import type { App } from "../app/model.js";
import { SwitchboardError } from "../errors.js";
import { RedisConnectionStore } from "../runtime/connection-store-redis.js";
import { Cluster, type LocalConnections } from "./redis-cluster.js";

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
  /** Join the gateways that share this prefix (see `Cluster`). */
  /** Whether the command connection to Redis is up now (`/readyz`, metrics). */
  reachable(): boolean;
  joinCluster(local: LocalConnections, options?: { maxConnectionMs?: number }): Promise<Cluster>;
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
  let cluster: Cluster | undefined;
  let subscriber: Redis | undefined;
  return {
    store,
    keyPrefix,
    reachable: () => redis.status === "ready",
    async joinCluster(local, clusterOptions = {}) {
      // A subscribed connection can run no other command: the bus gets its own.
      subscriber = redis.duplicate();
      subscriber.on("error", () => undefined);
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
      await cluster?.leave();
      await subscriber?.quit().catch(() => subscriber?.disconnect());
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
