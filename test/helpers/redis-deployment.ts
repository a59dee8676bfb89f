import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Cluster, Redis } from "ioredis";
import { eventually } from "./eventually.js";
import { startRedisCluster } from "./redis-cluster-server.js";
import { OwnRedis } from "./redis-server.js";
import { freePort } from "./start-node.js";
import { stopChild } from "./stop-child.js";

/**
 * A Redis deployment of a test's own, as `switchboard start --redis` meets it: one instance,
 * a 3-master Redis Cluster, or one instance found through a Sentinel. The same few operations
 * on each, so one suite runs against any of them.
 */
export interface RedisDeployment {
  kind: "single" | "cluster" | "sentinel";
  /** What `--redis` / `REDIS_URL` is given. */
  url: string;
  /** A client for the test's own reads and writes (a `Cluster` on a Redis Cluster). */
  client: Redis | Cluster;
  /** Channels matching `pattern` that have a subscriber (sharded channels on a Redis Cluster). */
  channels(pattern: string): Promise<string[]>;
  /**
   * Every message published on `channels` from now on (`SUBSCRIBE`, or `SSUBSCRIBE` on a Redis
   * Cluster, as the nodes publish there) goes to `listener` until the returned stop is called.
   */
  watch(
    channels: readonly string[],
    listener: (channel: string, message: string) => void,
  ): Promise<() => Promise<void>>;
  /** Stops its servers (only those) and removes their files. */
  stop(): Promise<void>;
}

/** Classic pub/sub over one server (a single instance, or the master a Sentinel names). */
function classic(
  kind: "single" | "sentinel",
  url: string,
  port: number,
  stop: () => Promise<void>,
): RedisDeployment {
  const client = new Redis(port, "127.0.0.1");
  return {
    kind,
    url,
    client,
    channels: async (pattern) => (await client.pubsub("CHANNELS", pattern)) as string[],
    async watch(channels, listener) {
      const watcher = new Redis(port, "127.0.0.1");
      watcher.on("message", listener);
      await watcher.subscribe(...channels);
      return async () => {
        await watcher.quit();
      };
    },
    async stop() {
      client.disconnect();
      await stop();
    },
  };
}

/** One `redis-server` on a free port. */
export async function singleRedis(): Promise<RedisDeployment> {
  const server = await OwnRedis.start();
  return classic("single", server.url, server.port, () => server.close());
}

/** A 3-master Redis Cluster (`redis+cluster://...`): channels are sharded there. */
export async function clusterRedis(): Promise<RedisDeployment> {
  const server = await startRedisCluster();
  const client = new Cluster(server.ports.map((port) => ({ host: "127.0.0.1", port })));
  const masters = () => client.nodes("master");
  return {
    kind: "cluster",
    url: server.url,
    client,
    channels: async (pattern) => {
      const replies = await Promise.all(
        masters().map((node) => node.pubsub("SHARDCHANNELS", pattern) as Promise<string[]>),
      );
      return replies.flat();
    },
    async watch(channels, listener) {
      const watcher = new Cluster(
        server.ports.map((port) => ({ host: "127.0.0.1", port })),
        {
          shardedSubscribers: true,
        },
      );
      watcher.on("smessage", listener);
      await watcher.ssubscribe(...channels);
      return async () => {
        await watcher.quit().catch(() => watcher.disconnect());
      };
    },
    async stop() {
      await client.quit().catch(() => client.disconnect());
      await server.stop();
    },
  };
}

/**
 * A `redis-server` and a `redis-server --sentinel` watching it as `master`
 * (`redis+sentinel://<sentinel>/<master>`); `client` talks to the master directly.
 */
export async function sentinelRedis(master: string): Promise<RedisDeployment> {
  const data = await OwnRedis.start();
  const dir = await mkdtemp(path.join(tmpdir(), "sb-redis-sentinel-"));
  const sentinelPort = await freePort();
  // Sentinel rewrites its configuration file: one of its own in the temporary folder.
  const config = path.join(dir, "sentinel.conf");
  await writeFile(
    config,
    [
      `port ${sentinelPort}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `sentinel monitor ${master} 127.0.0.1 ${data.port} 1`,
      "",
    ].join("\n"),
  );
  const sentinel: ChildProcess = spawn("redis-server", [config, "--sentinel"], {
    stdio: "ignore",
  });
  const stop = async () => {
    await stopChild(sentinel);
    await data.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await eventually(async () => {
      const probe = new Redis(sentinelPort, "127.0.0.1", {
        lazyConnect: true,
        retryStrategy: () => null,
      });
      probe.on("error", () => undefined);
      try {
        await probe.connect();
        return (await probe.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", master)) ? true : undefined;
      } catch {
        return undefined;
      } finally {
        probe.disconnect();
      }
    }, 5000);
  } catch (error) {
    await stop();
    throw error;
  }
  return classic(
    "sentinel",
    `redis+sentinel://127.0.0.1:${sentinelPort}/${master}`,
    data.port,
    stop,
  );
}
