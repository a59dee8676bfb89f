import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { eventually } from "../helpers/eventually.js";
import { type RunningApp, startApp } from "../helpers/server.js";

/** The connection id, as the `whoami` route answers it (plain text). */
async function whoami(client: TestClient): Promise<string> {
  client.send({ action: "whoami" });
  return client.next();
}

type Counts = { slow: number; disconnected: Array<{ id: string; at: number }> };

describe("per-connection bounds: one client cannot exhaust the gateway", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("bounds", {
      bounds: { queuedMessages: 5, queuedBytes: 64 * 1024, outboundBytes: 256 * 1024 },
    });
  });
  afterAll(() => app?.close());

  const counts = async (): Promise<Counts> => {
    const probe = await TestClient.connect(app.url);
    try {
      return await probe.ask<Counts>({ action: "count" });
    } finally {
      probe.ws.close();
    }
  };

  it("closes a connection that queues more messages than the bound with 1008, and runs none of the excess", async () => {
    const before = (await counts()).slow;
    const bystander = await TestClient.connect(app.url);
    const flood = await TestClient.connect(app.url);
    for (let i = 0; i < 50; i++) flood.send({ action: "slow", ms: 300 });
    const closed = await flood.closed;
    expect(closed).toEqual({ code: 1008, reason: "Too many requests" });
    // The one running, plus at most the five that were allowed to wait: never the 50.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await counts()).slow - before).toBeLessThanOrEqual(1);
    // Everyone else is served as before.
    expect(await bystander.ask<Counts>({ action: "count" })).toHaveProperty("slow");
    bystander.ws.close();
  });

  it("bounds the waiting bytes as well as the count (1008 past queuedBytes)", async () => {
    const flood = await TestClient.connect(app.url);
    flood.send({ action: "slow", ms: 300 });
    const pad = "y".repeat(30 * 1024);
    for (let i = 0; i < 4; i++) flood.send({ action: "slow", ms: 1, pad });
    expect(await flood.closed).toEqual({ code: 1008, reason: "Too many requests" });
  });

  it("drops the messages not yet started when their connection closes, and runs $disconnect right after the one in flight", async () => {
    const before = (await counts()).slow;
    const client = await TestClient.connect(app.url);
    const id = await whoami(client);
    for (let i = 0; i < 4; i++) client.send({ action: "slow", ms: 400 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closedAt = Date.now();
    client.ws.close(1000);
    const gone = await eventually(async () => {
      const now = await counts();
      const entry = now.disconnected.find((d) => d.id === id);
      if (!entry) return undefined;
      return { entry, slow: now.slow };
    }, 3000);
    // Only the invocation in flight ran; the three waiting behind it were dropped.
    expect(gone.slow - before).toBe(1);
    expect(gone.entry.at - closedAt).toBeLessThan(1000);
  });

  it("answers a two-way route whose response is over 128 KiB with the failed-integration frame, and keeps the connection", async () => {
    const client = await TestClient.connect(app.url);
    const frame = await client.ask<Record<string, string>>({ action: "huge", bytes: 200 * 1024 });
    expect(frame.message).toBe("Internal server error");
    expect(frame.connectionId).toEqual(expect.any(String));
    client.send({ action: "huge", bytes: 10 });
    expect(await client.next()).toBe("x".repeat(10));
    client.ws.close();
  });

  it("answers PostToConnection with 429 LimitExceededException once a client that never reads has 256 KiB unread, and keeps the connection", async () => {
    const client = await TestClient.connect(app.url);
    const id = await whoami(client);
    // Stop reading: what the gateway writes piles up in the kernel, then in the gateway.
    (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const chunk = "z".repeat(100 * 1024);
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 400 && !limited; i++) {
      const res = await fetch(`${app.http}/@connections/${encodeURIComponent(id)}`, {
        method: "POST",
        body: chunk,
      });
      statuses.push(res.status);
      if (res.status !== 200) limited = res;
      await res.arrayBuffer();
    }
    expect(limited?.status).toBe(429);
    expect(limited?.headers.get("x-amzn-errortype")).toBe("LimitExceededException");
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    // Still connected: GetConnection answers 200.
    const info = await fetch(`${app.http}/@connections/${encodeURIComponent(id)}`);
    expect(info.status).toBe(200);
    client.ws.terminate();
  });
});
