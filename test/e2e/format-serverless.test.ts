// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Serverless and CloudFormation variables, written as users write them
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { type RunningApp, startApp } from "../helpers/server.js";

// The fixture's handlers build their SDK client without credentials, as Lambda code does;
// a developer's shell (or CI) provides some. Any values work against the dev gateway.
const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

describe("Serverless Framework service (serverless.yml) under switchboard dev", () => {
  let app: RunningApp;
  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID ??= "local";
    process.env.AWS_SECRET_ACCESS_KEY ??= "local";
    app = await startApp("serverless-chat");
  });
  afterAll(async () => {
    await app?.close();
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
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
      connections: 1,
    });
    expect(me.apiId).toMatch(/^[a-z0-9]{10}$/);
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
    await c.close();
    // $disconnect runs after the close; wait until the count shows it.
    await expect
      .poll(async () => (await a.ask<{ connections: number }>({ action: "whoami" })).connections)
      .toBe(2);
    b.send({ action: "broadcast", text: "still here?" });
    expect((await a.nextJson()).text).toBe("[all] still here?");
    expect((await b.nextJson()).text).toBe("[all] still here?");
    expect(await c.silentFor(100)).toBe(true);
    await Promise.all([a.close(), b.close()]);
  });
});
