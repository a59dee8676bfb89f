import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refusedStatus, TestClient } from "../helpers/client.js";
import { FAKE_AWS } from "../helpers/dynalite.js";
import { type RunningApp, startApp } from "../helpers/server.js";

// The sample's functions are AWS SDK v2 (DocumentClient, ApiGatewayManagementApi) and v3 code
// that sets no endpoint for DynamoDB and builds https://… endpoints for @connections: they
// reach the local DynamoDB and the gateway unchanged.
describe("SAM template (template.yaml, simple-websockets-chat-app) under switchboard dev", () => {
  let app: RunningApp;
  let db: DynamoDBClient;
  const rows = async () =>
    (await db.send(new ScanCommand({ TableName: "simplechat_connections" }))).Items ?? [];
  beforeAll(async () => {
    app = await startApp("sam-chat");
    db = new DynamoDBClient({ endpoint: app.tables?.endpoint, ...FAKE_AWS });
  });
  afterAll(async () => {
    db?.destroy();
    await app?.close();
  });

  it("reads the template: routes, stage parameter, globals, authorizer, route response", () => {
    expect(app.app.source.format).toBe("cloudformation");
    expect(app.app.name).toBe("SimpleChatWebSocket");
    expect(app.app.stage).toBe("Prod");
    expect(app.app.routes.map((r) => r.key)).toEqual([
      "$connect",
      "$disconnect",
      "sendmessage",
      "whoami",
      "$default",
    ]);
    const byKey = new Map(app.app.routes.map((r) => [r.key, r]));
    expect(byKey.get("sendmessage")).toMatchObject({
      timeoutMs: 20_000,
      memoryMb: 256,
      routeResponse: false,
    });
    // Lambda's 3 s default (no Globals for AWS::Lambda::Function); the integration allows 5 s.
    expect(byKey.get("whoami")).toMatchObject({
      timeoutMs: 3000,
      memoryMb: 512,
      routeResponse: true,
      functionName: "Prod-whoami",
    });
    expect(app.app.authorizer).toMatchObject({
      name: "NameAuthorizer",
      identitySource: ["route.request.querystring.name"],
    });
  });

  it("creates the template's table in the local DynamoDB", () => {
    expect(app.app.tables).toEqual([
      {
        name: "simplechat_connections",
        declaredAs: "ConnectionsTable",
        attributes: { connectionId: "S" },
        key: { hash: "connectionId" },
      },
    ]);
    expect(app.tables?.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("runs the authorizer: missing name 401, Unauthorized 401, Deny 403", async () => {
    expect((await refusedStatus(`${app.url}/Prod`)).status).toBe(401);
    expect((await refusedStatus(`${app.url}/Prod?name=mallory`)).status).toBe(401);
    expect((await refusedStatus(`${app.url}/Prod?name=eve`)).status).toBe(403);
  });

  it("answers the two-way route; environment references resolve to the stack's names", async () => {
    const client = await TestClient.connect(`${app.url}/Prod?name=ann`);
    const me = await client.ask<Record<string, unknown> & { env: Record<string, string> }>({
      action: "whoami",
    });
    expect(me).toMatchObject({
      stage: "Prod",
      functionName: "Prod-whoami",
      memory: "512",
      authorizer: { principalId: "ann", name: "ann" },
    });
    expect(me.env.API_ID).toMatch(/^[a-z0-9]{10}$/);
    expect(me.env).toMatchObject({
      TABLE_NAME: "simplechat_connections",
      TABLE_ARN: "arn:aws:dynamodb:us-east-1:000000000000:table/simplechat_connections",
      ENDPOINT: `https://${me.env.API_ID}.execute-api.us-east-1.amazonaws.com/Prod`,
    });
    await client.close();
  });

  it("sends unmatched messages to $default (SDK v3, https://{apiId}.execute-api.{region}…)", async () => {
    const client = await TestClient.connect(`${app.url}?name=bob`);
    client.send({ action: "nothing-here" });
    expect(await client.next()).toBe("use sendmessage or whoami");
    await client.close();
  });

  it("broadcasts with sendmessage through the table (SDK v2), and $disconnect deletes the row", async () => {
    const names = ["ann", "bob", "cat"];
    const clients = await Promise.all(
      names.map((name) => TestClient.connect(`${app.url}/Prod?name=${name}`)),
    );
    const [a, b, c] = clients as [TestClient, TestClient, TestClient];
    expect((await rows()).map((row) => row.name?.S).sort()).toEqual(names);
    a.send({ action: "sendmessage", data: "hello all" });
    for (const client of clients) expect(await client.next()).toBe("ann: hello all");
    await c.close();
    // Once cat's $disconnect has run, its row is gone and a broadcast reaches the two left.
    await expect
      .poll(async () => (await rows()).map((row) => row.name?.S).sort())
      .toEqual(["ann", "bob"]);
    b.send({ action: "sendmessage", data: "two of us" });
    expect(await a.next()).toBe("bob: two of us");
    expect(await b.next()).toBe("bob: two of us");
    expect(await c.silentFor(100)).toBe(true);
    await Promise.all([a.close(), b.close()]);
    await expect.poll(async () => (await rows()).length).toBe(0);
  });
});
