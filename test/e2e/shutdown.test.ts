import { afterEach, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { type DevProcess, startDevProcess } from "../helpers/dev-process.js";
import { FIXTURES, type RunningApp, startApp } from "../helpers/server.js";

/** Queue `count` slow messages (each `ms` long) on one connection. */
async function queueSlowWork(url: string, count: number, ms: number): Promise<TestClient> {
  const client = await TestClient.connect(url);
  for (let n = 0; n < count; n++) client.send({ action: "slow", ms, n });
  // The first is running.
  await new Promise((r) => setTimeout(r, 100));
  return client;
}

describe("shutdown finishes within its bound whatever is queued", () => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("close() returns within shutdownTimeoutMs (+1 s for clients) with 30 s of work queued", async () => {
    app = await startApp("basic", { shutdownTimeoutMs: 500 });
    const client = await queueSlowWork(app.url, 60, 500);
    const other = await TestClient.connect(app.url);
    const started = performance.now();
    await app.close();
    const took = performance.now() - started;
    app = undefined;
    expect(took).toBeLessThan(2500);
    expect((await client.closed).code).toBe(1001);
    expect((await other.closed).code).toBe(1001);
  });

  it("queued work within the bound still runs (its $disconnect too)", async () => {
    app = await startApp("basic", { shutdownTimeoutMs: 5000 });
    const client = await queueSlowWork(app.url, 3, 50);
    const started = performance.now();
    await app.close();
    expect(performance.now() - started).toBeLessThan(3000);
    await client.closed;
  });
});

describe("switchboard dev stops on SIGTERM / SIGINT within --shutdown-timeout", () => {
  let dev: DevProcess | undefined;
  afterEach(() => dev?.kill());

  it.each(["SIGTERM", "SIGINT"] as const)(
    "%s with a long queue exits 0 within the bound",
    async (signal) => {
      dev = await startDevProcess(`${FIXTURES}/basic`, ["--shutdown-timeout", "0.5"]);
      const client = await queueSlowWork(dev.url, 60, 500);
      const started = performance.now();
      dev.child.kill(signal);
      const exit = await dev.exited;
      expect(performance.now() - started).toBeLessThan(3000);
      expect(exit.code).toBe(0);
      expect((await client.closed).code).toBe(1001);
    },
  );

  it("a second signal stops at once", async () => {
    dev = await startDevProcess(`${FIXTURES}/basic`, ["--shutdown-timeout", "30"]);
    await queueSlowWork(dev.url, 60, 500);
    dev.child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 200));
    const started = performance.now();
    dev.child.kill("SIGINT");
    const exit = await dev.exited;
    expect(performance.now() - started).toBeLessThan(1500);
    expect(exit.code).toBe(130);
  });

  it("refuses a --shutdown-timeout that is not a number, saying what it expects", async () => {
    await expect(
      startDevProcess(`${FIXTURES}/basic`, ["--shutdown-timeout", "soon"]),
    ).rejects.toThrow(/--shutdown-timeout expects a number of seconds/);
  });
});
