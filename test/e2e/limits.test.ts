import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { TestClient } from "../helpers/client.js";
import { connectRecordingFrames } from "../helpers/frames.js";
import { type RunningApp, startApp } from "../helpers/server.js";

const KiB = 1024;

type DisconnectEvent = {
  requestContext: { connectionId: string; disconnectStatusCode: number; disconnectReason: string };
};

/** A JSON `echo` message of exactly `bytes` bytes (ASCII). */
function echoMessage(bytes: number, action = "echo"): string {
  const head = `{"action":"${action}","pad":"`;
  const tail = '"}';
  return head + "x".repeat(bytes - head.length - tail.length) + tail;
}

/** Send `text` as one message split into frames of `frameBytes` (ASCII text, so chars = bytes). */
function sendFragmented(ws: WebSocket, text: string, frameBytes: number): void {
  for (let offset = 0; offset < text.length; offset += frameBytes) {
    const end = Math.min(offset + frameBytes, text.length);
    ws.send(text.slice(offset, end), { fin: end === text.length });
  }
}

/** The connection id of a basic-app client (from the `$connect` event its handlers remembered). */
async function connectionIdOf(client: TestClient): Promise<string> {
  const [connect] = await client.ask<Array<{ requestContext: { connectionId: string } }>>({
    action: "events",
  });
  return connect!.requestContext.connectionId;
}

/** The `$disconnect` event the app's handler recorded for `connectionId` (asked from a fresh client). */
async function disconnectEventFor(
  app: RunningApp,
  connectionId: string,
): Promise<DisconnectEvent["requestContext"]> {
  const deadline = Date.now() + 2000;
  const probe = await TestClient.connect(app.url);
  try {
    for (;;) {
      const all = await probe.ask<DisconnectEvent[]>({ action: "disconnects" });
      const mine = all.find((e) => e.requestContext.connectionId === connectionId);
      if (mine) return mine.requestContext;
      if (Date.now() > deadline) throw new Error(`no $disconnect for ${connectionId}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await probe.close();
  }
}

describe("message and frame size, binary frames (basic: AWS default limits)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("basic");
  });
  afterAll(() => app.close());

  it("closes with 1009 for a message over 128 KiB, even in small frames; $disconnect gets 1009", async () => {
    const client = await TestClient.connect(app.url);
    const id = await connectionIdOf(client);
    sendFragmented(client.ws, echoMessage(128 * KiB + 1), 16 * KiB);
    expect((await client.closed).code).toBe(1009);
    expect(await disconnectEventFor(app, id)).toMatchObject({ disconnectStatusCode: 1009 });

    // The same message in one frame (over both limits) closes the same way.
    const single = await TestClient.connect(app.url);
    const singleId = await connectionIdOf(single);
    single.send(echoMessage(200 * KiB));
    expect((await single.closed).code).toBe(1009);
    expect(await disconnectEventFor(app, singleId)).toMatchObject({ disconnectStatusCode: 1009 });
  });

  it("closes with 1009 for a single frame over 32 KiB, though the message is under 128 KiB", async () => {
    for (const size of [40 * KiB, 32 * KiB + 1]) {
      const client = await TestClient.connect(app.url);
      const id = await connectionIdOf(client);
      client.send(echoMessage(size));
      expect((await client.closed).code).toBe(1009);
      expect(client.received).toEqual([]); // never handled
      expect(await disconnectEventFor(app, id)).toMatchObject({ disconnectStatusCode: 1009 });
    }
  });

  it("accepts a 100 KiB message sent as 16 KiB fragments, and a frame of exactly 32 KiB", async () => {
    const client = await TestClient.connect(app.url);
    const big = echoMessage(100 * KiB);
    sendFragmented(client.ws, big, 16 * KiB);
    expect(await client.next()).toBe(big);
    const frame = echoMessage(32 * KiB);
    client.send(frame);
    expect(await client.next()).toBe(frame);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    await client.close();
  });

  it("closes with 1003 on a binary frame; $disconnect gets 1003", async () => {
    const client = await TestClient.connect(app.url);
    const id = await connectionIdOf(client);
    client.ws.send(Buffer.from('{"action":"echo"}'), { binary: true });
    expect((await client.closed).code).toBe(1003);
    expect(client.received).toEqual([]);
    expect(await disconnectEventFor(app, id)).toMatchObject({ disconnectStatusCode: 1003 });
  });

  it("delivers replies over 32 KiB intact, as text frames of at most 32 KiB", async () => {
    const { client, frames } = await connectRecordingFrames(app.url);
    client.send({ action: "big", size: 100_000 });
    const reply = await client.next();
    expect(reply.length).toBe(100_000);
    expect(reply).toBe("x".repeat(100_000));
    expect(frames.length).toBeGreaterThanOrEqual(4);
    expect(frames.every((f) => f.length <= 32 * KiB)).toBe(true);
    expect(frames[0]!.opcode).toBe(1); // text
    expect(frames.slice(1).every((f) => f.opcode === 0)).toBe(true); // continuations
    expect(frames.map((f) => f.fin)).toEqual([...frames.slice(1).map(() => false), true]);
    expect(frames.reduce((sum, f) => sum + f.length, 0)).toBe(100_000);

    // Multi-byte text split across frames still arrives whole (UTF-8 is checked per message).
    frames.length = 0;
    const text = JSON.stringify({ action: "echo", text: "é€😀ü".repeat(5000) }); // ~55 KiB
    expect(Buffer.byteLength(text)).toBeGreaterThan(32 * KiB);
    sendFragmented(client.ws, text, 8 * KiB); // JS chars: each fragment stays < 32 KiB of UTF-8
    expect(await client.next()).toBe(text);
    expect(frames.every((f) => f.length <= 32 * KiB)).toBe(true);
    expect(frames.length).toBeGreaterThan(1);
    await client.close();
  });

  it("keeps other connections working while neighbours are closed for 1009 and 1003", async () => {
    const bystander = await TestClient.connect(app.url);
    expect(await bystander.ask({ action: "echo", n: 0 })).toEqual({ action: "echo", n: 0 });
    const offenders = await Promise.all([1, 2, 3].map(() => TestClient.connect(app.url)));
    offenders[0]!.send(echoMessage(40 * KiB));
    sendFragmented(offenders[1]!.ws, echoMessage(130 * KiB), 16 * KiB);
    offenders[2]!.ws.send(Buffer.alloc(10), { binary: true });
    // The bystander is answered while its neighbours are being closed...
    expect(await bystander.ask({ action: "echo", n: 1 })).toEqual({ action: "echo", n: 1 });
    const codes = await Promise.all(offenders.map(async (o) => (await o.closed).code));
    expect(codes).toEqual([1009, 1009, 1003]);
    // ... and after.
    expect(await bystander.ask({ action: "echo", n: 2 })).toEqual({ action: "echo", n: 2 });
    const fresh = await TestClient.connect(app.url);
    expect(await fresh.ask({ action: "echo", n: 3 })).toEqual({ action: "echo", n: 3 });
    await Promise.all([bystander.close(), fresh.close()]);
  });
});

describe("idle timeout and connection lifetime (limits: idle 0.3 s, lifetime 0.6 s)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("limits");
  });
  afterAll(() => app.close());

  it("closes an idle connection with 1001; $disconnect gets 1001", async () => {
    const client = await TestClient.connect(app.url);
    client.send({ action: "whoami" });
    const id = await client.next();
    const quietSince = Date.now();
    const { code } = await client.closed;
    const elapsed = Date.now() - quietSince;
    expect(code).toBe(1001);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(550); // the idle timeout, not the 0.6 s lifetime
    expect(await disconnectEventFor(app, id)).toMatchObject({ disconnectStatusCode: 1001 });
  });

  it("counts inbound data frames as activity", async () => {
    const started = Date.now();
    const client = await TestClient.connect(app.url);
    client.send({ action: "whoami" });
    const id = await client.next();
    // One-way messages (no outbound traffic) every 100 ms for 450 ms keep it open past 0.3 s.
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 100));
      expect(client.ws.readyState).toBe(WebSocket.OPEN);
      client.send({ action: "oneway", i });
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    expect(Date.now() - started).toBeGreaterThan(400);
    expect((await client.closed).code).toBe(1001);
    expect(await disconnectEventFor(app, id)).toMatchObject({ disconnectStatusCode: 1001 });
  });

  it("counts outbound data frames as activity: PostToConnection keeps a silent client open", async () => {
    const started = Date.now();
    const client = await TestClient.connect(app.url);
    client.send({ action: "whoami" }); // the only frame the client ever sends
    const id = await client.next();
    // The server posts every 100 ms for 450 ms; the client stays silent past the 0.3 s idle time.
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 100));
      expect(client.ws.readyState).toBe(WebSocket.OPEN);
      await app.gateway.management.send(id, `tick ${i}`);
      expect(await client.next()).toBe(`tick ${i}`);
    }
    const info = await app.gateway.management.info(id);
    expect(info.lastActiveAt.getTime()).toBeGreaterThan(started + 300);
    await new Promise((r) => setTimeout(r, 50));
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    // It lived past 0.3 s of client silence; the 0.6 s lifetime ends it.
    const { code } = await client.closed;
    expect(code).toBe(1001);
    expect(Date.now() - started).toBeGreaterThanOrEqual(580);
    expect(await disconnectEventFor(app, id)).toMatchObject({ disconnectStatusCode: 1001 });
  });

  it("does not count pings as activity", async () => {
    const started = Date.now();
    const client = await TestClient.connect(app.url);
    let pongs = 0;
    client.ws.on("pong", () => pongs++);
    const pinger = setInterval(
      () => client.ws.readyState === WebSocket.OPEN && client.ws.ping(),
      50,
    );
    try {
      const { code } = await client.closed;
      const elapsed = Date.now() - started;
      expect(code).toBe(1001);
      expect(elapsed).toBeGreaterThanOrEqual(280);
      expect(elapsed).toBeLessThan(550);
      expect(pongs).toBeGreaterThanOrEqual(3); // the pings did reach the gateway
    } finally {
      clearInterval(pinger);
    }
  });

  it("closes with 1001 at the maximum connection duration, even when active", async () => {
    const started = Date.now();
    const client = await TestClient.connect(app.url);
    client.send({ action: "whoami" });
    const id = await client.next();
    let answered = 0;
    const talker = setInterval(() => {
      if (client.ws.readyState !== WebSocket.OPEN) return;
      client.ask({ action: "echo" }).then(
        () => answered++,
        () => undefined,
      );
    }, 50);
    try {
      const { code } = await client.closed;
      const elapsed = Date.now() - started;
      expect(code).toBe(1001);
      expect(elapsed).toBeGreaterThanOrEqual(580);
      expect(elapsed).toBeLessThan(1000);
      expect(answered).toBeGreaterThanOrEqual(5); // it was active all along
    } finally {
      clearInterval(talker);
    }
    expect(await disconnectEventFor(app, id)).toMatchObject({ disconnectStatusCode: 1001 });
  });
});
