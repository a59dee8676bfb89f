import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { type RunningApp, startApp } from "../helpers/server.js";

describe("LambdaSharp-style module (Module.yml, method invocation) under switchboard dev", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("lambdasharp-chat");
  });
  afterAll(() => app?.close());

  it("reads Function items (in namespaces too), their sources, Invoke methods and settings", () => {
    expect(app.app.source.format).toBe("lambdasharp");
    expect(app.app.name).toBe("Sample.WebSockets");
    expect(app.app.routes.map((r) => [r.key, r.target?.export, r.target?.method])).toEqual([
      ["$connect", "Function", "OpenConnectionAsync"],
      ["$disconnect", "Function", "CloseConnectionAsync"],
      ["send", "Function", "SendMessageAsync"],
      ["whoami", "Function", "WhoAmIAsync"],
      ["$default", "Function", "UnrecognizedRequest"],
      ["ping", "handler", undefined],
    ]);
    const byKey = new Map(app.app.routes.map((r) => [r.key, r]));
    expect(byKey.get("$connect")).toMatchObject({
      memoryMb: 256,
      timeoutMs: 29_000,
      environment: { GREETING: "welcome" },
    });
    expect(byKey.get("send")).toMatchObject({
      memoryMb: 512,
      timeoutMs: 10_000,
      functionName: "MessageFunction",
    });
    expect(byKey.get("whoami")?.target?.file).toMatch(/MessageFunction\/Function\.ts$/);
  });

  it("connects, and a method's return value comes back", async () => {
    const client = await TestClient.connect(`${app.url}?name=ann`);
    expect(await client.ask({ action: "whoami" })).toEqual({
      name: "ann",
      greeting: "welcome",
      connections: 1,
      functionName: "MessageFunction",
      memory: "512",
    });
    await client.close();
  });

  it("sends other messages to $default's method, and plain handlers work too", async () => {
    const client = await TestClient.connect(app.url);
    expect(await client.ask({ action: "dance" })).toEqual({
      error: "unrecognized request",
      body: '{"action":"dance"}',
    });
    client.send({ action: "ping" });
    expect(await client.next()).toBe("pong");
    await client.close();
  });

  it("broadcasts to every client, and $disconnect cleans up", async () => {
    const clients = await Promise.all(
      ["ann", "bob", "cat"].map((name) => TestClient.connect(`${app.url}/dev?name=${name}`)),
    );
    const [a, b, c] = clients as [TestClient, TestClient, TestClient];
    b.send({ action: "send", text: "hi all" });
    for (const client of clients)
      expect(await client.nextJson()).toEqual({ from: "bob", text: "hi all" });
    await c.close();
    await expect
      .poll(async () => (await a.ask<{ connections: number }>({ action: "whoami" })).connections)
      .toBe(2);
    a.send({ action: "send", text: "two" });
    expect(await a.nextJson()).toEqual({ from: "ann", text: "two" });
    expect(await b.nextJson()).toEqual({ from: "ann", text: "two" });
    await Promise.all([a.close(), b.close()]);
  });
});
