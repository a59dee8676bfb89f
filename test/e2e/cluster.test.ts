import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { removeKeys, TEST_REDIS_URL, testKeyPrefix } from "../helpers/redis.js";
import { type RunningApp, startApp } from "../helpers/server.js";

// Several gateways started with the same Redis form one cluster (a real Redis). Each test run
// has its own key prefix, removed afterwards.
const prefix = testKeyPrefix("cluster");

type Event = { requestContext: { connectionId: string } };

async function node(fixture: string, name: string): Promise<RunningApp> {
  return startApp(fixture, { redis: { url: TEST_REDIS_URL, keyPrefix: `${prefix}${name}:` } });
}

/** A client of the basic fixture and its connection id (from its own $connect event). */
async function basicClient(app: RunningApp): Promise<{ client: TestClient; id: string }> {
  const client = await TestClient.connect(app.url);
  const [connect] = await client.ask<Event[]>({ action: "events" });
  return { client, id: connect!.requestContext.connectionId };
}

afterAll(() => removeKeys(prefix));

describe("cluster: gateways sharing one Redis (basic fixture, two nodes)", () => {
  let one: RunningApp;
  let two: RunningApp;
  beforeAll(async () => {
    [one, two] = await Promise.all([node("basic", "basic"), node("basic", "basic")]);
  });
  afterAll(async () => {
    await Promise.all([one?.close(), two?.close()]);
  });

  it("a handler on one node sends to and disconnects a connection held by the other", async () => {
    const a = await basicClient(one);
    const b = await basicClient(two);
    a.client.send({ action: "send-to", to: b.id, data: "hello from node one" });
    expect(await b.client.next()).toBe("hello from node one");
    expect(await a.client.nextJson()).toEqual({ sent: true });
    // And back, the other way round.
    b.client.send({ action: "send-to", to: a.id, data: { n: 2 } });
    expect(await a.client.nextJson()).toEqual({ n: 2 });
    expect(await b.client.nextJson()).toEqual({ sent: true });

    a.client.send({ action: "kick", who: b.id });
    expect(await b.client.closed).toEqual({ code: 1000, reason: "Connection Closed Normally" });
    await a.client.close();
  });

  it("the @connections API of either node serves every connection (AWS SDK v3)", async () => {
    const a = await basicClient(one);
    const sdk = new ApiGatewayManagementApiClient({
      endpoint: `${two.http}/test`,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-a-secret" },
      maxAttempts: 1,
    });
    await sdk.send(new PostToConnectionCommand({ ConnectionId: a.id, Data: "via node two" }));
    expect(await a.client.next()).toBe("via node two");
    const info = await sdk.send(new GetConnectionCommand({ ConnectionId: a.id }));
    expect(info.Identity?.SourceIp).toBe("127.0.0.1");
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    expect(info.LastActiveAt!.getTime()).toBeGreaterThanOrEqual(info.ConnectedAt!.getTime());
    await sdk.send(new DeleteConnectionCommand({ ConnectionId: a.id }));
    expect((await a.client.closed).code).toBe(1000);
    // Gone everywhere now, and so is an id no node ever held.
    for (const id of [a.id, "AAAAAAAAAAAAAAA="]) {
      await expect(
        sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: "x" })),
      ).rejects.toBeInstanceOf(GoneException);
    }
  });

  it("a stopped node's connections are gone; the others keep serving", async () => {
    const three = await node("basic", "basic");
    const c = await basicClient(three);
    await three.close();
    await c.client.closed;
    const a = await basicClient(one);
    a.client.send({ action: "send-to", to: c.id, data: "anyone?" });
    expect(await a.client.nextJson()).toEqual({ sent: false, error: "GoneException" });
    expect(await a.client.ask({ action: "echo", still: "here" })).toEqual({
      action: "echo",
      still: "here",
    });
    await a.client.close();
  });
});

/** A member of a room (typed-api fixture) and its connection id. */
async function join(app: RunningApp, room: string, user: string) {
  const client = await TestClient.connect(`${app.url}?room=${room}&user=${user}`);
  const { connectionId } = await client.ask<{ connectionId: string }>({ action: "about" });
  return { client, id: connectionId };
}

describe("cluster: one connection table for every node (typed-api fixture)", () => {
  let one: RunningApp;
  let two: RunningApp;
  beforeAll(async () => {
    [one, two] = await Promise.all([node("typed-api", "typed"), node("typed-api", "typed")]);
  });
  afterAll(async () => {
    await Promise.all([one?.close(), two?.close()]);
  });

  it("a broadcast from one node reaches the room's members on every node, and none is dropped as gone", async () => {
    const alice = await join(one, "hall", "alice");
    const bob = await join(two, "hall", "bob");
    alice.client.send({ action: "broadcast", room: "hall", data: { news: "hi hall" } });
    expect(await bob.client.nextJson()).toEqual({ news: "hi hall" });
    expect(await alice.client.nextJson()).toEqual({ news: "hi hall" });
    expect(await alice.client.nextJson()).toEqual({
      sent: [alice.id, bob.id].sort(),
      gone: [],
      failed: [],
    });
    await Promise.all([alice.client.close(), bob.client.close()]);
  });

  it("a broadcast sends one bus message per owner node, not one per connection", async () => {
    const alice = await join(one, "batch", "alice");
    const others = await Promise.all(
      Array.from({ length: 20 }, (_, i) => join(two, "batch", `u${i}`)),
    );
    // Watch the bus: every request published to any node's channel (replies carry `re`).
    const watcher = new Redis(TEST_REDIS_URL);
    const requests: string[] = [];
    watcher.on("pmessage", (_pattern: string, channel: string, text: string) => {
      if (!text.includes('"re":')) requests.push(channel);
    });
    await watcher.psubscribe(`${prefix}typed:cluster:node:*`);
    try {
      alice.client.send({ action: "broadcast", room: "batch", data: { news: "to all" } });
      for (const { client } of others) expect(await client.nextJson()).toEqual({ news: "to all" });
      expect(await alice.client.nextJson()).toEqual({ news: "to all" });
      const result = await alice.client.nextJson<{ sent: string[] }>();
      expect(result.sent).toHaveLength(21);
      expect(requests).toHaveLength(1);
    } finally {
      await watcher.quit();
      await Promise.all([alice.client, ...others.map((o) => o.client)].map((c) => c.close()));
    }
  });
});
