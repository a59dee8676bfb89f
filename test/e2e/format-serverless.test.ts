// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Serverless and CloudFormation variables, written as users write them
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { FAKE_AWS } from "../helpers/dynalite.js";
import { type RunningApp, startApp } from "../helpers/server.js";

// The handlers are Lambda code as deployed: SDK v3 clients with no endpoint, region or
// credentials for DynamoDB, and `https://${domainName}/${stage}` for @connections.
describe("Serverless Framework service (serverless.yml) under switchboard dev", () => {
  let app: RunningApp;
  let db: DynamoDBClient;
  const ids = async () =>
    ((await db.send(new ScanCommand({ TableName: "sls-chat-local-connections" }))).Items ?? [])
      .map((item) => item.connectionId?.S)
      .sort();
  beforeAll(async () => {
    app = await startApp("serverless-chat");
    db = new DynamoDBClient({ endpoint: app.tables?.endpoint, ...FAKE_AWS });
  });
  afterAll(async () => {
    db?.destroy();
    await app?.close();
  });

  it("reads the service: routes, stage from ${opt:stage, 'local'}, function names and settings", () => {
    expect(app.app.source.format).toBe("serverless");
    expect(app.app.name).toBe("sls-chat");
    expect(app.app.stage).toBe("local");
    expect(app.app.routes.map((r) => r.key)).toEqual([
      "$connect",
      "$disconnect",
      "broadcast",
      "whoami",
      "$default",
    ]);
    const byKey = new Map(app.app.routes.map((r) => [r.key, r]));
    expect(byKey.get("whoami")).toMatchObject({
      routeResponse: true,
      timeoutMs: 3000,
      functionName: "sls-chat-local-whoami",
    });
    expect(byKey.get("$default")).toMatchObject({
      routeResponse: false,
      memoryMb: 256,
      timeoutMs: 10_000,
    });
    expect(byKey.get("broadcast")?.environment).toEqual({ PREFIX: "[all]" });
    // resources.Resources: the table, its name resolved from variables.
    expect(app.app.tables).toEqual([
      {
        name: "sls-chat-local-connections",
        declaredAs: "ConnectionsTable",
        attributes: { connectionId: "S" },
        key: { hash: "connectionId" },
      },
    ]);
  });

  it("connects, answers a two-way route with variables and CloudFormation refs resolved", async () => {
    const client = await TestClient.connect(`${app.url}/local`);
    const me = await client.ask({ action: "whoami" });
    expect(me).toMatchObject({
      stage: "local",
      greeting: "hello from sls-chat",
      stageName: "local",
      table: "sls-chat-local-connections",
      functionName: "sls-chat-local-whoami",
      envFunctionName: "sls-chat-local-whoami",
      region: app.gateway.region,
      connections: 1,
    });
    expect(me.apiId).toMatch(/^[a-z0-9]{10}$/);
    expect(me.requestId).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    expect(me.remainingMs).toBeGreaterThan(2000);
    expect(me.remainingMs).toBeLessThanOrEqual(3000);
    expect(await ids()).toEqual([me.connectionId]);
    await client.close();
  });

  it("sends unmatched messages to $default, which answers through the SDK v3 client", async () => {
    const client = await TestClient.connect(app.url);
    expect(await client.ask("not json")).toEqual({ echo: "not json", route: "$default" });
    expect(await client.ask({ action: "nope" })).toEqual({
      echo: '{"action":"nope"}',
      route: "$default",
    });
    await client.close();
  });

  it("broadcasts to every client, and $disconnect cleans up", async () => {
    const clients = await Promise.all([1, 2, 3].map(() => TestClient.connect(app.url)));
    const [a, b, c] = clients as [TestClient, TestClient, TestClient];
    const { connectionId: aId } = await a.ask<{ connectionId: string }>({ action: "whoami" });
    a.send({ action: "broadcast", text: "hi" });
    for (const client of clients) {
      expect(await client.nextJson()).toEqual({ from: aId, text: "[all] hi" });
    }
    const { connectionId: cId } = await c.ask<{ connectionId: string }>({ action: "whoami" });
    expect(await ids()).toContain(cId);
    await c.close();
    // $disconnect runs after the close and deletes the row.
    await expect.poll(async () => (await ids()).includes(cId)).toBe(false);
    expect((await a.ask<{ connections: number }>({ action: "whoami" })).connections).toBe(2);
    b.send({ action: "broadcast", text: "still here?" });
    expect((await a.nextJson()).text).toBe("[all] still here?");
    expect((await b.nextJson()).text).toBe("[all] still here?");
    expect(await c.silentFor(100)).toBe(true);
    await Promise.all([a.close(), b.close()]);
    await expect.poll(ids).toEqual([]);
  });
});
