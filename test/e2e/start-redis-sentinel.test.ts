import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { eventually } from "../helpers/eventually.js";
import { REPO_ROOT } from "../helpers/repo-paths.js";
import { freePort, type StartNode, startNode } from "../helpers/start-node.js";
import { stopChild } from "../helpers/stop-child.js";

// Two `switchboard start` nodes that find their Redis through a Sentinel
// (`redis+sentinel://<sentinel>/<master>`): a redis-server and a `redis-server --sentinel` of
// this file's own, on free ports, stopped and removed afterwards.
const APP = path.join(REPO_ROOT, "test", "fixtures", "start");
const KEY = {
  accessKeyId: "SBTESTKEY00000000003",
  secretAccessKey: randomBytes(20).toString("hex"),
};
const REGION = "us-east-1";
const MASTER = "sbmaster";

const dir = mkdtempSync(path.join(tmpdir(), "sb-redis-sentinel-"));
const processes: ChildProcess[] = [];
const nodes: StartNode[] = [];
let dataPort: number;

async function reachable(port: number, command: string[]): Promise<true | undefined> {
  const probe = new Redis(port, "127.0.0.1", { lazyConnect: true, retryStrategy: () => null });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    return (await probe.call(command[0] as string, ...command.slice(1))) ? true : undefined;
  } catch {
    return undefined;
  } finally {
    probe.disconnect();
  }
}

beforeAll(async () => {
  dataPort = await freePort();
  const sentinelPort = await freePort();
  processes.push(
    spawn(
      "redis-server",
      ["--port", String(dataPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    ),
  );
  await eventually(() => reachable(dataPort, ["PING"]), 5000);
  // Sentinel rewrites its configuration file: one of its own in the temporary folder.
  const config = path.join(dir, "sentinel.conf");
  writeFileSync(
    config,
    [
      `port ${sentinelPort}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `sentinel monitor ${MASTER} 127.0.0.1 ${dataPort} 1`,
      "",
    ].join("\n"),
  );
  processes.push(spawn("redis-server", [config, "--sentinel"], { stdio: "ignore" }));
  await eventually(
    () => reachable(sentinelPort, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER]),
    5000,
  );
  const env = {
    REDIS_URL: `redis+sentinel://127.0.0.1:${sentinelPort}/${MASTER}`,
    AWS_REGION: REGION,
    SWITCHBOARD_ACCESS_KEY_ID: KEY.accessKeyId,
    SWITCHBOARD_SECRET_ACCESS_KEY: KEY.secretAccessKey,
  };
  nodes.push(...(await Promise.all(["a", "b"].map((name) => startNode(APP, [], env, name)))));
}, 60_000);

afterAll(async () => {
  for (const node of nodes) if (node.child.exitCode === null) node.child.kill("SIGKILL");
  await Promise.all(processes.map(stopChild));
  rmSync(dir, { recursive: true, force: true });
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
    const master = new Redis(dataPort, "127.0.0.1");
    try {
      expect(
        await master.get(`switchboard:{start-fixture:prod}:cluster:owner:${connectionId}`),
      ).toEqual(expect.any(String));
    } finally {
      master.disconnect();
    }
    await client.close();
  });
});
