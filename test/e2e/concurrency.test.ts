import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { type RunningApp, startApp } from "../helpers/server.js";

/** Collect `count` messages from a client, in arrival order. */
async function collect(client: TestClient, count: number, timeoutMs = 5000): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(await client.next(timeoutMs));
  return out;
}

describe("concurrency and ordering (basic)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("basic");
  });
  afterAll(() => app.close());

  it("handles one connection's messages one at a time, in the order sent", async () => {
    const client = await TestClient.connect(app.url);
    const started = Date.now();
    const delays = [60, 40, 20, 0];
    for (const [n, ms] of delays.entries()) client.send({ action: "slow", ms, n });
    const replies = await collect(client, delays.length);
    expect(replies.map((r) => JSON.parse(r) as { n: number })).toEqual([
      { n: 0 },
      { n: 1 },
      { n: 2 },
      { n: 3 },
    ]);
    // One after the other, not in parallel (which would take ~60 ms).
    expect(Date.now() - started).toBeGreaterThanOrEqual(115);
    await client.close();
  });

  it("runs different connections concurrently: a slow message on A does not delay B", async () => {
    const a = await TestClient.connect(app.url);
    const b = await TestClient.connect(app.url);
    const arrivals: string[] = [];
    const started = Date.now();
    a.send({ action: "slow", ms: 300, n: "a" });
    await new Promise((r) => setTimeout(r, 10)); // A's handler is running
    b.send({ action: "slow", ms: 0, n: "b" });
    const bDone = b.next().then((reply) => {
      arrivals.push(reply);
      return Date.now() - started;
    });
    const aDone = a.next().then((reply) => {
      arrivals.push(reply);
      return Date.now() - started;
    });
    const [aMs, bMs] = await Promise.all([aDone, bDone]);
    expect(arrivals).toEqual(['{"n":"b"}', '{"n":"a"}']);
    expect(bMs).toBeLessThan(200);
    expect(aMs).toBeGreaterThanOrEqual(290);
    await Promise.all([a.close(), b.close()]);
  });

  it("keeps other connections answering while one connection's handler throws or hangs", async () => {
    const a = await TestClient.connect(app.url);
    const b = await TestClient.connect(app.url);
    const started = Date.now();
    a.send({ action: "throw" });
    a.send({ action: "hang" }); // 0.3 s timeout
    a.send({ action: "echo", a: "after" }); // queued behind the hang on A only
    for (let i = 0; i < 5; i++) {
      expect(await b.ask({ action: "echo", i })).toEqual({ action: "echo", i });
    }
    expect(Date.now() - started).toBeLessThan(250); // B never waited for A's timeout
    expect(JSON.parse(await a.next()).message).toBe("Internal server error");
    expect(JSON.parse(await a.next()).message).toBe("Endpoint request timed out");
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(await a.nextJson()).toEqual({ action: "echo", a: "after" });
    expect(await b.ask({ action: "echo", i: 5 })).toEqual({ action: "echo", i: 5 });
    await Promise.all([a.close(), b.close()]);
  });

  it("answers 50 concurrent connections sending 20 messages each, every reply in order", async () => {
    const clients = await Promise.all(
      Array.from({ length: 50 }, () => TestClient.connect(app.url)),
    );
    const results = await Promise.all(
      clients.map(async (client, c) => {
        for (let i = 0; i < 20; i++) client.send({ action: "echo", c, i });
        return collect(client, 20);
      }),
    );
    for (const [c, replies] of results.entries()) {
      expect(replies).toEqual(
        Array.from({ length: 20 }, (_, i) => JSON.stringify({ action: "echo", c, i })),
      );
    }
    for (const client of clients) expect(await client.silentFor(0)).toBe(true);
    await Promise.all(clients.map((client) => client.close()));
  });

  it("loses none of a burst of 1000 messages over 10 connections", async () => {
    const clients = await Promise.all(
      Array.from({ length: 10 }, () => TestClient.connect(app.url)),
    );
    // Everything is written before any reply is read.
    for (let i = 0; i < 100; i++) {
      for (const [c, client] of clients.entries()) client.send({ action: "echo", c, i });
    }
    const results = await Promise.all(clients.map((client) => collect(client, 100)));
    let total = 0;
    for (const [c, replies] of results.entries()) {
      expect(replies).toEqual(
        Array.from({ length: 100 }, (_, i) => JSON.stringify({ action: "echo", c, i })),
      );
      total += replies.length;
    }
    expect(total).toBe(1000);
    // Nothing extra, nothing late.
    expect(await clients[0]!.silentFor(100)).toBe(true);
    await Promise.all(clients.map((client) => client.close()));
  });
});
