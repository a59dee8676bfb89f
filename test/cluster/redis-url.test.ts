import { describe, expect, it } from "vitest";
import { createRedisClient, isRedisCluster } from "../../src/cluster/redis-client.js";
import { parseRedisUrl, RedisUrlError, redactRedisUrl } from "../../src/cluster/redis-url.js";

describe("parseRedisUrl: the three deployments", () => {
  it("one instance: the URL as ioredis reads it", () => {
    expect(parseRedisUrl("redis://127.0.0.1:6379/2")).toEqual({
      kind: "single",
      url: "redis://127.0.0.1:6379/2",
    });
    expect(parseRedisUrl("rediss://:pw@cache.example.com:6380")).toMatchObject({ kind: "single" });
  });

  it("Redis Cluster: seed nodes, credentials, TLS; default port 6379; IPv6", () => {
    expect(parseRedisUrl("redis+cluster://10.0.0.1:7000,10.0.0.2,[::1]:7002")).toEqual({
      kind: "cluster",
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "10.0.0.2", port: 6379 },
        { host: "::1", port: 7002 },
      ],
      tls: false,
    });
    expect(parseRedisUrl("rediss+cluster://app:p%40ss@h1:7000,h2:7001/")).toEqual({
      kind: "cluster",
      nodes: [
        { host: "h1", port: 7000 },
        { host: "h2", port: 7001 },
      ],
      username: "app",
      password: "p@ss",
      tls: true,
    });
  });

  it("Sentinel: the Sentinels (default port 26379), the master's name, the database", () => {
    expect(parseRedisUrl("redis+sentinel://:pw@s1:26379,s2,s3:26380/mymaster/3")).toEqual({
      kind: "sentinel",
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26379 },
        { host: "s3", port: 26380 },
      ],
      name: "mymaster",
      db: 3,
      password: "pw",
      tls: false,
    });
    expect(parseRedisUrl("rediss+sentinel://s1/primary")).toMatchObject({
      kind: "sentinel",
      name: "primary",
      db: 0,
      tls: true,
    });
  });

  it.each([
    ["localhost:6379", /expected a redis:\/\/ or rediss:\/\/ URL/],
    ["http://h:6379", /expected a redis:\/\/ or rediss:\/\/ URL/],
    ["redis+sentinel://s1:26379", /master's name/],
    ["redis+sentinel://s1:26379/m/x", /database number/],
    ["redis+cluster://h1:7000/0", /no databases/],
    ["redis+cluster://h1:99999", /host:port/],
    ["redis+cluster://h1:7000,,h2:7001", /host:port/],
  ])("refuses %s, saying what it expected", (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(RedisUrlError);
    expect(() => parseRedisUrl(url)).toThrow(message);
  });

  it("hides the password in every form", () => {
    expect(redactRedisUrl("redis://:secret@127.0.0.1:6379")).toBe("redis://:***@127.0.0.1:6379");
    expect(redactRedisUrl("redis+cluster://u:secret@h1:7000,h2:7001")).toBe(
      "redis+cluster://u:***@h1:7000,h2:7001",
    );
    expect(redactRedisUrl("redis+sentinel://:s@cr@t@s1/m")).toBe("redis+sentinel://:***@s1/m");
    expect(redactRedisUrl("redis://h:6379")).toBe("redis://h:6379");
  });
});

describe("createRedisClient: the ioredis client each form needs (not connected)", () => {
  it("Sentinel: ioredis's Sentinel options, the password for the Sentinels too", async () => {
    const client = await createRedisClient(
      parseRedisUrl("redis+sentinel://:pw@s1:26379,s2:26380/mymaster/1"),
    );
    expect(isRedisCluster(client)).toBe(false);
    expect(client.options).toMatchObject({
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26380 },
      ],
      name: "mymaster",
      db: 1,
      password: "pw",
      sentinelPassword: "pw",
      lazyConnect: true,
    });
    client.disconnect();
  });

  it("Redis Cluster: a Cluster client; sharded subscribers for the bus's subscriber", async () => {
    const target = parseRedisUrl("redis+cluster://:pw@h1:7000,h2:7001");
    const commands = await createRedisClient(target);
    const subscriber = await createRedisClient(target, { subscriber: true });
    expect(isRedisCluster(commands)).toBe(true);
    expect(commands.options).toMatchObject({
      lazyConnect: true,
      shardedSubscribers: false,
      redisOptions: { password: "pw" },
    });
    expect(subscriber.options).toMatchObject({ shardedSubscribers: true });
    commands.disconnect();
    subscriber.disconnect();
  });
});
