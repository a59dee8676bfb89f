import { randomBytes } from "node:crypto";
import { DescribeTableCommand, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectionTableProperties } from "../../src/aws/compile-template.js";
import { DynamoDbConnectionStore } from "../../src/runtime/connection-store-dynamodb.js";
import { type RunningDynalite, startDynalite } from "../helpers/dynalite.js";
import { connectionStoreContract } from "./connection-store.contract.js";

let dynamo: RunningDynalite;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo?.close();
});

/** A fresh table shaped exactly as `switchboard build` declares it. */
async function freshTable(indexes: readonly string[]): Promise<string> {
  const name = `connections-${randomBytes(4).toString("hex")}`;
  await dynamo.createTable(
    name,
    connectionTableProperties({ ttlSeconds: 0, indexes: [...indexes] }),
  );
  return name;
}

describe("ConnectionStore contract: DynamoDbConnectionStore (dynalite, real @aws-sdk/client-dynamodb)", () => {
  connectionStoreContract(async (options) => {
    const tableName = await freshTable(options.indexes);
    return new DynamoDbConnectionStore({ ...options, tableName, client: dynamo.client });
  });
});

describe("DynamoDbConnectionStore", () => {
  it("stores expiresAt as a DynamoDB number (the TTL attribute) and queries through <field>-index", async () => {
    const tableName = await freshTable(["room", "userId"]);
    const described = await dynamo.client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(described.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual([
      "room-index",
      "userId-index",
    ]);
    const store = new DynamoDbConnectionStore({
      tableName,
      client: dynamo.client,
      ttlSeconds: 120,
      indexes: ["room", "userId"],
      now: () => 1_800_000_000_000,
    });
    await store.put({ connectionId: "c1", room: "lobby", userId: "u1" });
    const raw = await dynamo.client.send(
      new GetItemCommand({ TableName: tableName, Key: { connectionId: { S: "c1" } } }),
    );
    expect(raw.Item?.expiresAt).toEqual({ N: String(1_800_000_000 + 120) });
    expect((await store.query("userId", "u1")).map((r) => r.connectionId)).toEqual(["c1"]);
  });

  it("stores non-string index values as strings (index keys are typed S) and finds them either way", async () => {
    const tableName = await freshTable(["userId"]);
    const store = new DynamoDbConnectionStore({
      tableName,
      client: dynamo.client,
      ttlSeconds: 0,
      indexes: ["userId"],
    });
    await store.put({ connectionId: "c1", userId: 42 });
    await store.put({ connectionId: "c2", userId: "" }); // empty keys are left out of the index
    expect(await store.get("c1")).toEqual({ connectionId: "c1", userId: "42" });
    expect((await store.query("userId", 42)).map((r) => r.connectionId)).toEqual(["c1"]);
    expect((await store.query("userId", "42")).map((r) => r.connectionId)).toEqual(["c1"]);
    expect((await store.list()).length).toBe(2);
  });

  it("pages through more rows than one DynamoDB page holds", async () => {
    const tableName = await freshTable(["room"]);
    const store = new DynamoDbConnectionStore({
      tableName,
      client: dynamo.client,
      ttlSeconds: 0,
      indexes: ["room"],
    });
    const pad = "x".repeat(20_000); // ~60 rows per 1 MB page
    await Promise.all(
      Array.from({ length: 120 }, (_, i) => store.put({ connectionId: `c${i}`, room: "big", pad })),
    );
    expect((await store.query("room", "big")).length).toBe(120);
    expect((await store.list()).length).toBe(120);
  });

  it("is configured from the environment a built function gets", () => {
    expect(DynamoDbConnectionStore.fromEnvironment({})).toBeUndefined();
    const store = DynamoDbConnectionStore.fromEnvironment({
      SWITCHBOARD_CONNECTION_TABLE: "chat-connections",
      SWITCHBOARD_CONNECTION_TTL: "7200",
      SWITCHBOARD_CONNECTION_INDEXES: "room, user",
    });
    expect(store?.tableName).toBe("chat-connections");
  });
});
