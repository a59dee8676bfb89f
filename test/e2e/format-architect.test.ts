import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { FAKE_AWS } from "../helpers/dynalite.js";
import { type RunningApp, startApp } from "../helpers/server.js";

const TABLE = "arc-chat-staging-connections";

describe("Architect app (app.arc, @architect/functions) under switchboard dev", () => {
  let app: RunningApp;
  let db: DynamoDBClient;
  const ids = async () =>
    ((await db.send(new ScanCommand({ TableName: TABLE }))).Items ?? [])
      .map((item) => item.connectionId?.S)
      .sort();
  beforeAll(async () => {
    app = await startApp("architect-chat");
    db = new DynamoDBClient({ endpoint: app.tables?.endpoint, ...FAKE_AWS });
  });
  afterAll(async () => {
    db?.destroy();
    await app?.close();
  });

  it("reads @ws: lifecycle routes, custom routes, a custom src folder and config.arc", () => {
    expect(app.app.source.format).toBe("architect");
    expect(app.app.stage).toBe("testing");
    expect(app.app.routes.map((r) => r.key)).toEqual([
      "$connect",
      "$disconnect",
      "$default",
      "broadcast",
      "whoami",
      "kick",
    ]);
    const kick = app.app.routes.find((r) => r.key === "kick");
    expect(kick?.target?.file).toMatch(/lib\/kick\/index\.js$/);
    expect(kick).toMatchObject({ timeoutMs: 2000, memoryMb: 256 });
    expect(app.app.routes.find((r) => r.key === "whoami")).toMatchObject({
      timeoutMs: 10_000,
      memoryMb: 1152,
    });
    // The Sandbox variables point at the port the gateway is bound to.
    const sandbox = JSON.parse(app.app.environment.ARC_SANDBOX as string);
    expect(sandbox.ports._arc).toBe(app.port);
    expect(sandbox.ports.tables).toBe(app.tables?.port);
    expect(process.env.ARC_ENV).toBe("testing");
  });

  it("reads @tables and @tables-indexes, named as Sandbox names them", () => {
    expect(app.app.tables).toEqual([
      {
        name: TABLE,
        declaredAs: "connections",
        attributes: { connectionId: "S", room: "S" },
        key: { hash: "connectionId" },
        ttlAttribute: "expires",
        globalIndexes: [{ name: "byRoom", key: { hash: "room" }, projection: { type: "ALL" } }],
      },
    ]);
  });

  it("arc.ws.send and arc.ws.info reach the dev gateway", async () => {
    const client = await TestClient.connect(app.url);
    const me = await client.ask({ action: "whoami" });
    expect(me).toMatchObject({
      stage: "testing",
      arcEnv: "testing",
      wssUrl: `ws://127.0.0.1:${app.port}/testing`,
      sourceIp: "127.0.0.1",
      connections: 1,
      inLobby: 1,
      tableName: TABLE,
      functionName: "arc-chat-testing-ws-whoami",
    });
    expect(await ids()).toEqual([me.id]);
    expect(Date.parse(me.connectedAt as string)).toBeGreaterThan(Date.now() - 60_000);
    expect(me.remainingMs as number).toBeGreaterThan(5000);
    await client.close();
  });

  it("sends other messages to the default function", async () => {
    const client = await TestClient.connect(`${app.url}/testing`);
    expect(await client.ask({ action: "unknown", n: 1 })).toEqual({
      echo: '{"action":"unknown","n":1}',
    });
    expect(await client.ask("plain text")).toEqual({ echo: "plain text" });
    await client.close();
  });

  it("broadcasts to every client, and $disconnect cleans up", async () => {
    const clients = await Promise.all([1, 2, 3].map(() => TestClient.connect(app.url)));
    const [a, b, c] = clients as [TestClient, TestClient, TestClient];
    const { id } = await a.ask<{ id: string }>({ action: "whoami" });
    a.send({ action: "broadcast", text: "hello" });
    for (const client of clients)
      expect(await client.nextJson()).toEqual({ from: id, text: "hello" });
    const { id: cId } = await c.ask<{ id: string }>({ action: "whoami" });
    await c.close();
    // arc.tables() in $disconnect deleted the row.
    await expect.poll(async () => (await ids()).includes(cId)).toBe(false);
    expect((await a.ask<{ connections: number }>({ action: "whoami" })).connections).toBe(2);
    b.send({ action: "broadcast", text: "two left" });
    expect(await a.nextJson()).toEqual({ from: expect.any(String), text: "two left" });
    expect(await b.nextJson()).toEqual({ from: expect.any(String), text: "two left" });
    await Promise.all([a.close(), b.close()]);
  });

  it("arc.ws.close disconnects the client (CommonJS handler in a custom src folder)", async () => {
    const client = await TestClient.connect(app.url);
    client.send({ action: "kick" });
    expect(await client.next()).toBe("bye");
    expect((await client.closed).code).toBe(1000);
  });
});
