import { randomBytes } from "node:crypto";
import path from "node:path";
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { type RedisClusterServer, startRedisCluster } from "../helpers/redis-cluster-server.js";
import { REPO_ROOT } from "../helpers/repo-paths.js";
import { type StartNode, startNode } from "../helpers/start-node.js";

// Three `switchboard start` nodes on a 3-master Redis Cluster of this file's own
// (`--redis redis+cluster://...`): the table, ownership and the bus (sharded pub/sub) there.
const APP = path.join(REPO_ROOT, "test", "fixtures", "start");
const KEY = {
  accessKeyId: "SBTESTKEY00000000002",
  secretAccessKey: randomBytes(20).toString("hex"),
};
const REGION = "us-east-1";
// The app's keys, all under one hash tag (one slot): `switchboard:{<app>:<stage>}:`.
const PREFIX = "switchboard:{start-fixture:prod}:";

let server: RedisClusterServer;
let redis: Cluster;
const nodes: StartNode[] = [];

function sdk(node: StartNode): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({
    endpoint: `${node.http}/prod`,
    region: REGION,
    credentials: { ...KEY },
    maxAttempts: 1,
  });
}

async function whoami(client: TestClient): Promise<string> {
  return ((await client.ask({ action: "whoami" })) as { connectionId: string }).connectionId;
}

/** The same command on every master (channels and keys live on the one owning their slot). */
async function onMasters(...args: string[]): Promise<string[]> {
  const replies = await Promise.all(
    redis.nodes("master").map((node) => node.call(args[0] as string, ...args.slice(1))),
  );
  return (replies as string[][]).flat();
}

beforeAll(async () => {
  server = await startRedisCluster();
  redis = new Cluster(server.ports.map((port) => ({ host: "127.0.0.1", port })));
  const env = {
    REDIS_URL: server.url,
    AWS_REGION: REGION,
    SWITCHBOARD_ACCESS_KEY_ID: KEY.accessKeyId,
    SWITCHBOARD_SECRET_ACCESS_KEY: KEY.secretAccessKey,
  };
  nodes.push(
    ...(await Promise.all(
      ["a", "b", "c"].map((name) => startNode(APP, ["--drain-timeout", "5"], env, name)),
    )),
  );
}, 90_000);

afterAll(async () => {
  for (const node of nodes) if (node.child.exitCode === null) node.child.kill("SIGKILL");
  await redis?.quit().catch(() => redis.disconnect());
  await server?.stop();
});

describe("switchboard start on a Redis Cluster (3 masters)", () => {
  it("logs the cluster URL and the app's hash-tagged prefix; every node listens on a shard channel", async () => {
    expect(nodes[0]?.lines[0]).toMatchObject({
      event: "listening",
      redis: server.url,
      keyPrefix: PREFIX,
    });
    // Ready: both clients (commands, and the sharded subscriber) are connected.
    const ready = await fetch(`${nodes[0]?.admin}/readyz`);
    expect(await ready.json()).toEqual({
      status: "ready",
      checks: { app: true, redis: true, draining: true },
    });
    const shard = await onMasters("PUBSUB", "SHARDCHANNELS", `${PREFIX}cluster:node:*`);
    expect(shard).toHaveLength(3);
    expect(await onMasters("PUBSUB", "CHANNELS", `${PREFIX}*`)).toEqual([]);
  });

  it("posts, gets and deletes across nodes with the AWS SDK; a handler relays through the cluster", async () => {
    const [a, b, c] = nodes as [StartNode, StartNode, StartNode];
    const clients = await Promise.all([a, b, c].map((n) => TestClient.connect(n.url)));
    const [onA, onB, onC] = clients as [TestClient, TestClient, TestClient];
    const [idA, idB, idC] = (await Promise.all(clients.map(whoami))) as [string, string, string];

    await sdk(a).send(new PostToConnectionCommand({ ConnectionId: idC, Data: "to c via a" }));
    expect(await onC.next()).toBe("to c via a");
    await sdk(c).send(new PostToConnectionCommand({ ConnectionId: idB, Data: "to b via c" }));
    expect(await onB.next()).toBe("to b via c");
    const info = await sdk(b).send(new GetConnectionCommand({ ConnectionId: idA }));
    expect(info.Identity?.SourceIp).toBe("127.0.0.1");

    await sdk(b).send(new DeleteConnectionCommand({ ConnectionId: idA }));
    expect(await onA.closed).toEqual({ code: 1000, reason: "Connection Closed Normally" });
    await expect(
      sdk(c).send(new PostToConnectionCommand({ ConnectionId: idA, Data: "x" })),
    ).rejects.toMatchObject({ name: "GoneException", $metadata: { httpStatusCode: 410 } });
    await Promise.all([onB.close(), onC.close()]);
  });

  it("drains a node on SIGTERM: its clients see 1001, it leaves the cluster, the others answer 410", async () => {
    const [a, , c] = nodes as [StartNode, StartNode, StartNode];
    const clients = await Promise.all([TestClient.connect(c.url), TestClient.connect(c.url)]);
    const ids = await Promise.all(clients.map(whoami));
    expect(await redis.get(`${PREFIX}cluster:owner:${ids[0]}`)).toEqual(expect.any(String));
    c.child.kill("SIGTERM");
    expect(await Promise.all(clients.map((client) => client.closed))).toEqual([
      { code: 1001, reason: "Going away" },
      { code: 1001, reason: "Going away" },
    ]);
    expect((await c.exited).code).toBe(0);
    await expect(
      sdk(a).send(new PostToConnectionCommand({ ConnectionId: ids[1], Data: "x" })),
    ).rejects.toMatchObject({ name: "GoneException", $metadata: { httpStatusCode: 410 } });
    for (const id of ids) expect(await redis.exists(`${PREFIX}cluster:owner:${id}`)).toBe(0);
    expect(await redis.smembers(`${PREFIX}cluster:nodes`)).toHaveLength(2);
    expect(await onMasters("PUBSUB", "SHARDCHANNELS", `${PREFIX}cluster:node:*`)).toHaveLength(2);
  });
});
