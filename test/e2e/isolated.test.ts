import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refusedStatus, TestClient } from "../helpers/client.js";
import { type RunningApp, startApp } from "../helpers/server.js";

describe("isolated invoker (worker threads, real sockets)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("isolated", { isolate: true });
  });
  afterAll(() => app.close());

  it("gives each function its own environment and a Lambda function name", async () => {
    const client = await TestClient.connect(app.url);
    const env = await client.ask<Record<string, unknown>>({ action: "env" });
    const env2 = await client.ask<Record<string, unknown>>({ action: "env2" });
    expect(env).toMatchObject({ onlyHere: "env-route", shared: "app-level", name: "iso-test-env" });
    expect(env2).toMatchObject({ onlyHere: null, shared: "app-level", name: "iso-test-env2" });
    // warm reuse: the same worker answers the second call to a function
    const again = await client.ask<Record<string, unknown>>({ action: "env" });
    expect(again.calls).toBe(2);
    expect(process.env.ONLY_HERE).toBeUndefined();
    await client.close();
  });

  it("survives a synchronous infinite loop: timeout frame, and everyone else keeps being served", async () => {
    const spinner = await TestClient.connect(app.url);
    const other = await TestClient.connect(app.url);
    spinner.send({ action: "spin" });
    // While the worker spins, the gateway still answers another connection.
    expect(await other.ask({ action: "echo", n: 1 })).toEqual({ action: "echo", n: 1 });
    const frame = await spinner.nextJson<{ message: string }>();
    expect(frame.message).toBe("Endpoint request timed out");
    // The function starts cold again and the connection still works.
    expect(await spinner.ask({ action: "echo", n: 2 })).toEqual({ action: "echo", n: 2 });
    await Promise.all([spinner.close(), other.close()]);
  });

  it("proxies management and the connection table to the gateway; errors and Reject cross threads", async () => {
    const client = await TestClient.connect(app.url);
    const answer = await client.ask<Record<string, unknown>>({ action: "typed", x: 1 });
    expect(answer).toMatchObject({ sourceIp: "127.0.0.1", body: { action: "typed", x: 1 } });
    expect(answer.rows).toBeGreaterThanOrEqual(1);
    client.send({ action: "throw" });
    expect((await client.nextJson<{ message: string }>()).message).toBe("Internal server error");
    expect((await refusedStatus(`${app.url}?deny=1`)).status).toBe(403);
    await client.close();
  });
});
