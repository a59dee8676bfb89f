import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { FAKE_AWS } from "../helpers/dynalite.js";
import { type RunningApp, startApp } from "../helpers/server.js";

const TABLE = "sls-chat-local-connections";

function client(app: RunningApp): DynamoDBClient {
  return new DynamoDBClient({ endpoint: app.tables?.endpoint, ...FAKE_AWS });
}

describe("the local DynamoDB of switchboard dev", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "switchboard-data-"));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it("keeps tables in --data between runs, and starts empty in memory by default", async () => {
    const first = await startApp("serverless-chat", { dataDir });
    expect(first.tables?.dataDir).toBe(dataDir);
    let db = client(first);
    await db.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { connectionId: { S: "kept" }, n: { N: "1" } },
      }),
    );
    db.destroy();
    await first.close();

    const second = await startApp("serverless-chat", { dataDir });
    db = client(second);
    const { Item } = await db.send(
      new GetItemCommand({ TableName: TABLE, Key: { connectionId: { S: "kept" } } }),
    );
    expect(Item).toEqual({ connectionId: { S: "kept" }, n: { N: "1" } });
    db.destroy();
    await second.close();

    const memory = await startApp("serverless-chat");
    expect(memory.tables?.dataDir).toBeUndefined();
    db = client(memory);
    expect((await db.send(new ScanCommand({ TableName: TABLE }))).Items).toEqual([]);
    db.destroy();
    await memory.close();
  });

  it("with --isolate, worker threads reach the tables and the gateway the same way", async () => {
    const app = await startApp("serverless-chat", { isolate: true });
    const db = client(app);
    try {
      const [a, b] = await Promise.all([TestClient.connect(app.url), TestClient.connect(app.url)]);
      const me = await a.ask<Record<string, unknown>>({ action: "whoami" });
      expect(me).toMatchObject({
        functionName: "sls-chat-local-whoami",
        envFunctionName: "sls-chat-local-whoami",
        region: app.gateway.region,
        connections: 2,
      });
      b.send({ action: "broadcast", text: "from a worker" });
      expect(await a.nextJson()).toMatchObject({ text: "[all] from a worker" });
      expect(await b.nextJson()).toMatchObject({ text: "[all] from a worker" });
      await b.close();
      await expect
        .poll(async () => (await db.send(new ScanCommand({ TableName: TABLE }))).Items?.length)
        .toBe(1);
      await a.close();
    } finally {
      db.destroy();
      await app.close();
    }
  });
});
