import path from "node:path";
import {
  type ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachLogger } from "../../src/gateway/log.js";
import { type CliNode, startCliNode } from "../helpers/cli-node.js";
import { TestClient } from "../helpers/client.js";
import { eventually } from "../helpers/eventually.js";
import { managementClient } from "../helpers/management-client.js";
import { OwnRedis } from "../helpers/redis-server.js";
import { FIXTURES, type RunningApp, startApp } from "../helpers/server.js";

// Faults of the cluster: Redis lost, restarted empty, a node frozen or killed, garbage on the
// bus. Each needs a Redis it can stop: one `redis-server` of this file's own, on a free port
// (the shared one is never touched). Every node uses the default key prefix of the basic
// fixture, `switchboard:{basic:test}:`.
const CLUSTER = "switchboard:{basic:test}:cluster:";

type Event = { requestContext: { connectionId: string } };

let redis: OwnRedis;
let admin: Redis;

beforeAll(async () => {
  redis = await OwnRedis.start();
  admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  admin.on("error", () => undefined);
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.close();
});

const node = () => startApp("basic", { redis: { url: redis.url } });

async function basicClient(url: string): Promise<{ client: TestClient; id: string }> {
  const client = await TestClient.connect(url);
  const [connect] = await client.ask<Event[]>({ action: "events" });
  return { client, id: connect!.requestContext.connectionId };
}

const sdkOf = (http: string) => managementClient(`${http}/test`);

/** The HTTP status PostToConnection answers (200 when it succeeds). */
async function post(sdk: ApiGatewayManagementApiClient, id: string, data: string): Promise<number> {
  try {
    await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: data }));
    return 200;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("cluster faults: Redis outages (a Redis of the test's own)", () => {
  let one: RunningApp;
  let two: RunningApp;
  beforeAll(async () => {
    [one, two] = await Promise.all([node(), node()]);
  });
  afterAll(async () => {
    await Promise.all([one?.close(), two?.close()]);
  });

  it("after Redis restarts empty, every node re-registers what it holds: 40 of 40 reached", async () => {
    const clients = await Promise.all(Array.from({ length: 40 }, () => basicClient(one.url)));
    await redis.stop();
    await redis.start();
    // Each node notices the reconnect and writes its owner keys again.
    await eventually(
      async () => ((await admin.keys(`${CLUSTER}owner:*`)).length === 40 ? true : undefined),
      8000,
    );
    const sdk = sdkOf(two.http);
    const statuses = await Promise.all(clients.map(({ id }) => post(sdk, id, "after restart")));
    expect(statuses.filter((s) => s === 200)).toHaveLength(40);
    for (const { client } of clients) expect(await client.next()).toBe("after restart");
    await Promise.all(clients.map(({ client }) => client.close()));
  }, 20_000);

  it("a connection accepted during an outage is registered, one closed during it is cleared, and the outage is reported once each way", async () => {
    const events: Array<{ up: boolean }> = [];
    one.gateway.on("redis", (state) => events.push(state));
    const logged: string[] = [];
    const detach = attachLogger(one.gateway, { mode: "quiet", write: (l) => logged.push(l) });
    const before = await basicClient(one.url);
    await eventually(async () =>
      (await admin.get(`${CLUSTER}owner:${before.id}`)) ? true : undefined,
    );
    await redis.stop({ keep: true });
    await sleep(300);
    // Accepted while Redis is unreachable (the handshake does not wait for it for long).
    const during = await basicClient(one.url);
    await before.client.close();
    await sleep(1500);
    await redis.start();
    // The closed connection's entry is gone, the new one's is there: the other node serves it.
    await eventually(
      async () =>
        (await admin.get(`${CLUSTER}owner:${before.id}`)) === null &&
        (await admin.get(`${CLUSTER}owner:${during.id}`)) !== null
          ? true
          : undefined,
      5000,
    );
    expect(await post(sdkOf(two.http), during.id, "registered late")).toBe(200);
    expect(await during.client.next()).toBe("registered late");
    expect(await post(sdkOf(two.http), before.id, "closed")).toBe(410);
    // One loss, one recovery (ioredis reports an error per retry: none of them is an event).
    expect(events.map((e) => e.up)).toEqual([false, true]);
    expect(one.redisTable?.health.state.up).toBe(true);
    // The log says so once each way, even with --quiet.
    const lines = logged.filter((l) => l.includes(" redis "));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/unreachable: /);
    expect(lines[1]).toMatch(/reachable again \(back after \d+ms\)/);
    detach();
    await during.client.close();
  }, 30_000);

  it("garbage on a node's channel is dropped and reported; the node keeps serving", async () => {
    const errors: string[] = [];
    one.gateway.on("error", (e) => errors.push(e.message));
    const channels = (await admin.pubsub("CHANNELS", `${CLUSTER}node:*`)) as string[];
    expect(channels).toHaveLength(2);
    const bad = ["null", "5", '"x"', "[1]", "{}", '{"re":1}', '{"id":"a","op":"send"}', "nope"];
    for (const channel of channels) {
      for (const text of bad) await admin.publish(channel, text);
    }
    const a = await basicClient(two.url);
    expect(await post(sdkOf(one.http), a.id, "still serving")).toBe(200);
    expect(await a.client.next()).toBe("still serving");
    await eventually(async () => (errors.length >= bad.length ? true : undefined));
    // (Node two's reports go to its own gateway; node one's are the ones counted here.)
    expect(errors.every((m) => m.startsWith("cluster: dropped a "))).toBe(true);
    await a.client.close();
  });

  it("an owner entry whose node does not hold the connection answers 410, not 500", async () => {
    // Each live node named as the owner of a connection it never held, and a node id with no
    // heartbeat nor channel at all.
    const channels = (await admin.pubsub("CHANNELS", `${CLUSTER}node:*`)) as string[];
    const owners = [...channels.map((c) => c.slice(`${CLUSTER}node:`.length)), "deadbeef0000"];
    for (const [i, owner] of owners.entries()) {
      const id = `AAAAAAAAAAAAAA${i}=`;
      await admin.set(`${CLUSTER}owner:${id}`, owner, "PX", 60_000);
      expect(await post(sdkOf(two.http), id, "x")).toBe(410);
      expect(await post(sdkOf(one.http), id, "x")).toBe(410);
    }
  });
});

describe("cluster faults: a node frozen or killed (child processes)", () => {
  const app = path.join(FIXTURES, "basic");
  let one: RunningApp;
  let other: CliNode | undefined;
  beforeAll(async () => {
    one = await node();
  });
  afterAll(async () => {
    await other?.stop();
    await one?.close();
  });

  it("a node killed with SIGKILL: its connections answer 410 and its entries are swept within seconds", async () => {
    other = await startCliNode(app, redis.url);
    const clients = await Promise.all([basicClient(other.url), basicClient(other.url)]);
    other.child.kill("SIGKILL");
    await Promise.all(clients.map(({ client }) => client.closed));
    const started = Date.now();
    // Nobody asks for them: the survivors' heartbeat finds the node dead and sweeps.
    await eventually(async () => {
      const left = await Promise.all(clients.map(({ id }) => admin.get(`${CLUSTER}owner:${id}`)));
      return left.every((owner) => owner === null) ? true : undefined;
    }, 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const { id } of clients) expect(await post(sdkOf(one.http), id, "x")).toBe(410);
    other = undefined;
  }, 30_000);

  it("a node frozen for 11 s: callers get 503 (not sent, not gone), and nothing is delivered late", async () => {
    other = await startCliNode(app, redis.url);
    const frozen = await basicClient(other.url);
    await eventually(async () =>
      (await admin.get(`${CLUSTER}owner:${frozen.id}`)) ? true : undefined,
    );
    other.child.kill("SIGSTOP");
    const started = Date.now();
    const status = await post(sdkOf(one.http), frozen.id, "late?");
    const waited = Date.now() - started;
    expect(status).toBe(503);
    expect(waited).toBeLessThan(8000);
    // Its heartbeat has stopped by now, but it still holds its Redis subscription: frozen, not
    // dead. Its connections are not reported gone (apps would delete their rows): 503 at once.
    await sleep(Math.max(0, 8000 - waited));
    const asked = Date.now();
    expect(await post(sdkOf(one.http), frozen.id, "later?")).toBe(503);
    expect(Date.now() - asked).toBeLessThan(2000);
    await sleep(Math.max(0, 11_000 - (Date.now() - started)));
    other.child.kill("SIGCONT");
    // The node wakes, drops the expired requests, and beats again: a post succeeds (each 503
    // before that was not sent, so retrying cannot duplicate).
    await eventually(
      async () => ((await post(sdkOf(one.http), frozen.id, "on time")) === 200 ? true : undefined),
      5000,
    );
    expect(await frozen.client.next()).toBe("on time");
    await sleep(300);
    expect(frozen.client.received).toEqual([]);
    await frozen.client.close();
  }, 40_000);
});
