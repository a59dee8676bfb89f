import type { App } from "../app/model.js";
import { SwitchboardError } from "../errors.js";
import { RedisConnectionStore } from "../runtime/connection-store-redis.js";

/** Where the gateway keeps the connection table when it is shared through Redis. */
export interface RedisTableOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  url: string;
  /** Key prefix of the table. Default: `switchboard:<app>:<stage>:connections:`. */
  keyPrefix?: string;
}

export interface RedisTable {
  store: RedisConnectionStore;
  keyPrefix: string;
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
 * in-memory table, shared by every process that opens the same prefix.
 */
export async function openRedisTable(app: App, options: RedisTableOptions): Promise<RedisTable> {
  const { Redis } = await import("ioredis");
  const redis = new Redis(options.url, {
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
  const keyPrefix = options.keyPrefix ?? `switchboard:${app.name}:${app.stage}:connections:`;
  const store = new RedisConnectionStore({
    redis,
    keyPrefix,
    ttlSeconds: app.connections.ttlSeconds,
    indexes: app.connections.indexes,
  });
  return {
    store,
    keyPrefix,
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
