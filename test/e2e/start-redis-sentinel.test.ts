import { randomBytes } from "node:crypto";
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { type RedisDeployment, sentinelRedis } from "../helpers/redis-deployment.js";
import { type StartNode, startNode } from "../helpers/start-node.js";
import { START_APP as APP, START_PREFIX } from "./start-suite.js";

// Two `switchboard start` nodes that find their Redis through a Sentinel
// (`redis+sentinel://<sentinel>/<master>`): a redis-server and a `redis-server --sentinel` of
// this file's own, on free ports, stopped and removed afterwards.
const KEY = {
  accessKeyId: "SBTESTKEY00000000003",
  secretAccessKey: randomBytes(20).toString("hex"),
};
const REGION = "us-east-1";

let redis: RedisDeployment;
const nodes: StartNode[] = [];

beforeAll(async () => {
  redis = await sentinelRedis("sbmaster");
  const env = {
    REDIS_URL: redis.url,
    AWS_REGION: REGION,
    SWITCHBOARD_ACCESS_KEY_ID: KEY.accessKeyId,
    SWITCHBOARD_SECRET_ACCESS_KEY: KEY.secretAccessKey,
  };
  nodes.push(...(await Promise.all(["a", "b"].map((name) => startNode(APP, [], env, name)))));
}, 60_000);

afterAll(async () => {
  for (const node of nodes) if (node.child.exitCode === null) node.child.kill("SIGKILL");
  await redis?.stop();
});

describe("switchboard start through Redis Sentinel", () => {
  it("finds the master through the Sentinel; the SDK on one node reaches a client of the other", async () => {
    const [a, b] = nodes as [StartNode, StartNode];
    const client = await TestClient.connect(b.url);
    const { connectionId } = (await client.ask({ action: "whoami" })) as { connectionId: string };
    await new ApiGatewayManagementApiClient({
      endpoint: `${a.http}/prod`,
      region: REGION,
      credentials: { ...KEY },
      maxAttempts: 1,
    }).send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: "via sentinel" }));
    expect(await client.next()).toBe("via sentinel");
    // The data lives on the master the Sentinel named.
    expect(await redis.client.get(`${START_PREFIX}cluster:owner:${connectionId}`)).toEqual(
      expect.any(String),
    );
    await client.close();
  });
});
