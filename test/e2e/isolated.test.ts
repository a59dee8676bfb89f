import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModuleLoader } from "../../src/app/module-loader.js";
import { IsolatedInvoker } from "../../src/invoker/isolated.js";
import { refusedStatus, TestClient } from "../helpers/client.js";
import { eventually } from "../helpers/eventually.js";
import { FIXTURES, type RunningApp, startApp } from "../helpers/server.js";

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

  it("starts at most 4 workers per function, however many calls arrive at once", async () => {
    const cacheDir = path.join(FIXTURES, "isolated", ".switchboard", "modules");
    const invoker = new IsolatedInvoker(new ModuleLoader({ cacheDir }), { cacheDir });
    const spec = {
      target: { file: path.join(FIXTURES, "isolated", "handlers.mjs"), export: "thread" },
      functionName: "iso-cap-thread",
      timeoutMs: 5000,
      memoryMb: 128,
      environment: {},
    };
    const bindings = { management: app.gateway.management, connections: app.gateway.connections };
    try {
      // Ten calls in the same tick (as a burst of $disconnects or an embedding app makes them).
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => invoker.invoke(spec, {}, bindings, `r${i}`)),
      );
      const threads = outcomes.map((o) =>
        o.kind === "ok" ? (o.result as { body: string }).body : o.kind,
      );
      expect(threads.every((t) => /^\d+$/.test(t))).toBe(true);
      expect(new Set(threads).size).toBeLessThanOrEqual(4);
    } finally {
      await invoker.dispose();
    }
  });

  it("after a reload, a retired invoker finishes queued work on its own code, then frees its workers", async () => {
    const cacheDir = path.join(FIXTURES, "isolated", ".switchboard", "modules");
    const invoker = new IsolatedInvoker(new ModuleLoader({ cacheDir }), { cacheDir });
    const spec = {
      target: { file: path.join(FIXTURES, "isolated", "handlers.mjs"), export: "thread" },
      functionName: "iso-retire-thread",
      timeoutMs: 5000,
      memoryMb: 128,
      environment: {},
    };
    const bindings = { management: app.gateway.management, connections: app.gateway.connections };
    try {
      const first = invoker.invoke(spec, {}, bindings, "r1");
      await new Promise((r) => setTimeout(r, 20));
      invoker.retire(); // the reload happens while `first` runs ...
      expect(invoker.workers).toBe(1); // ... which keeps its worker
      const queued = await invoker.invoke(spec, {}, bindings, "r2"); // selected before the swap
      expect((await first).kind).toBe("ok");
      expect(queued.kind).toBe("ok");
      // Idle and retired: kept a moment for work still queued on its generation, then released.
      expect(invoker.workers).toBe(2); // `queued` ran beside `first`: two warm workers
      await eventually(async () => (invoker.workers === 0 ? true : undefined), 3000);
    } finally {
      await invoker.dispose();
    }
  });

  it("replaces a worker that exited while idle: the next call does not wait for a timeout", async () => {
    const client = await TestClient.connect(app.url);
    client.send({ action: "exit" });
    expect(await client.next()).toBe("bye");
    await new Promise((r) => setTimeout(r, 200)); // the worker is gone by now
    const started = Date.now();
    client.send({ action: "exit" });
    expect(await client.next(3000)).toBe("bye");
    expect(Date.now() - started).toBeLessThan(2000);
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
