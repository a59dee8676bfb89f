import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { GoneError, isGone, type Management } from "../../src/runtime/management.js";
import { TestClient } from "../helpers/client.js";
import { eventually } from "../helpers/eventually.js";
import { connectRecordingFrames } from "../helpers/frames.js";
import { type RunningApp, startApp } from "../helpers/server.js";

/** A Management reaching the connections of a running `basic` app (the contract starts it). */
export type MakeManagement = (app: RunningApp) => Promise<Management>;

type Event = {
  requestContext: {
    connectionId: string;
    connectedAt: number;
    disconnectStatusCode?: number;
    disconnectReason?: string;
  };
};

const UNKNOWN_ID = "AAAAAAAAAAAAAAA=";
const KiB = 1024;

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** The call rejected as AWS's 410: our GoneError, for the right connection. */
async function expectGone(promise: Promise<unknown>, connectionId: string): Promise<void> {
  const error = await rejection(promise);
  expect(isGone(error)).toBe(true);
  expect(error).toBeInstanceOf(GoneError);
  expect((error as GoneError).connectionId).toBe(connectionId);
}

/** The `$connect` event the basic app's handlers saw for this client. */
async function connectEvent(client: TestClient): Promise<Event["requestContext"]> {
  const [connect] = await client.ask<Event[]>({ action: "events" });
  return connect!.requestContext;
}

/**
 * The behaviour every {@link Management} shares (the gateway in process, the AWS SDK client
 * over HTTP against the `@connections` endpoint, ...), checked with real `ws` clients.
 * `sendMany`: the implementation has the optional batch send (checked too).
 */
export function managementContract(
  make: MakeManagement,
  options: { sendMany?: boolean } = {},
): void {
  let app: RunningApp;
  let management: Management;
  beforeAll(async () => {
    app = await startApp("basic");
    management = await make(app);
  });
  afterAll(() => app.close());

  /** The `$disconnect` event the app recorded for `connectionId` (asked from a fresh client). */
  async function disconnectEventFor(connectionId: string): Promise<Event["requestContext"]> {
    const probe = await TestClient.connect(app.url);
    try {
      return await eventually(async () => {
        const all = await probe.ask<Event[]>({ action: "disconnects" });
        return all.find((e) => e.requestContext.connectionId === connectionId)?.requestContext;
      });
    } finally {
      await probe.close();
    }
  }

  it("send delivers string and byte data to an open connection as text frames", async () => {
    const client = await TestClient.connect(app.url);
    const { connectionId } = await connectEvent(client);
    const kinds: boolean[] = [];
    client.ws.on("message", (_data, isBinary) => kinds.push(isBinary));
    await management.send(connectionId, "hello ☃");
    expect(await client.next()).toBe("hello ☃");
    await management.send(connectionId, new TextEncoder().encode('{"bytes":true}'));
    expect(await client.next()).toBe('{"bytes":true}');
    expect(kinds).toEqual([false, false]);
    await client.close();
  });

  if (options.sendMany) {
    it("sendMany delivers the data to each open connection (twice to an id given twice) and tells what became of every id", async () => {
      const clients = await Promise.all([0, 1, 2].map(() => TestClient.connect(app.url)));
      const [one, two, three] = await Promise.all(
        clients.map(async (client) => (await connectEvent(client)).connectionId),
      );
      const leaver = await TestClient.connect(app.url);
      const left = (await connectEvent(leaver)).connectionId;
      await leaver.close();
      await disconnectEventFor(left);
      const sendMany = management.sendMany?.bind(management);
      expect(sendMany).toBeTypeOf("function");
      const ids = [one, UNKNOWN_ID, two, left, three, one] as string[];
      const result = await sendMany?.(ids, "to many");
      expect(result?.sent.sort()).toEqual([one, one, two, three].sort());
      expect(result?.gone.sort()).toEqual([UNKNOWN_ID, left].sort());
      expect(result?.failed).toEqual([]);
      const [first, second, third] = clients as [TestClient, TestClient, TestClient];
      for (const client of [first, first, second, third])
        expect(await client.next()).toBe("to many");
      expect(await first.silentFor(100)).toBe(true);
      // Bytes go as they are (text frames when they are UTF-8); no ids, an empty result.
      const bytes = await sendMany?.([two as string], new TextEncoder().encode("as bytes"));
      expect(bytes).toEqual({ sent: [two], gone: [], failed: [] });
      expect(await second.next()).toBe("as bytes");
      expect(await sendMany?.([], "nothing")).toEqual({ sent: [], gone: [], failed: [] });
      await Promise.all(clients.map((client) => client.close()));
    });
  }

  it("send, info and disconnect reject as gone for an unknown id", async () => {
    await expectGone(management.send(UNKNOWN_ID, "x"), UNKNOWN_ID);
    await expectGone(management.info(UNKNOWN_ID), UNKNOWN_ID);
    await expectGone(management.disconnect(UNKNOWN_ID), UNKNOWN_ID);
  });

  it("send, info and disconnect reject as gone once the client has closed", async () => {
    const client = await TestClient.connect(app.url);
    const { connectionId } = await connectEvent(client);
    await client.close(4001, "bye");
    // The gateway has seen the close once $disconnect has run.
    expect(await disconnectEventFor(connectionId)).toMatchObject({ disconnectStatusCode: 4001 });
    await expectGone(management.send(connectionId, "late"), connectionId);
    await expectGone(management.info(connectionId), connectionId);
    await expectGone(management.disconnect(connectionId), connectionId);
  });

  it("info tells connectedAt (as $connect saw it), the identity, and lastActiveAt moved by data in and out", async () => {
    const client = await TestClient.connect(app.url, {
      headers: { "User-Agent": "contract-agent/1.0" },
    });
    const connect = await connectEvent(client);
    const first = await management.info(connect.connectionId);
    expect(first.connectedAt).toBeInstanceOf(Date);
    expect(first.connectedAt.getTime()).toBe(connect.connectedAt);
    expect(first.identity).toEqual({ sourceIp: "127.0.0.1", userAgent: "contract-agent/1.0" });
    expect(first.lastActiveAt.getTime()).toBeGreaterThanOrEqual(connect.connectedAt);
    // An inbound message moves lastActiveAt on; connectedAt stays.
    await new Promise((r) => setTimeout(r, 20));
    const before = Date.now();
    expect(await client.ask({ action: "echo", n: 1 })).toEqual({ action: "echo", n: 1 });
    const later = await management.info(connect.connectionId);
    expect(later.connectedAt.getTime()).toBe(connect.connectedAt);
    expect(later.lastActiveAt.getTime()).toBeGreaterThanOrEqual(before);
    // So does data sent to the client with no frame from it (AWS's idle timer counts both ways).
    await new Promise((r) => setTimeout(r, 20));
    const beforeSend = Date.now();
    await management.send(connect.connectionId, "outbound only");
    expect(await client.next()).toBe("outbound only");
    const afterSend = await management.info(connect.connectionId);
    expect(afterSend.lastActiveAt.getTime()).toBeGreaterThanOrEqual(beforeSend);
    await client.close();

    // Without a User-Agent header, the identity has none.
    const bare = new WebSocket(app.url);
    const bareClient = await new Promise<WebSocket>((resolve) =>
      bare.once("open", () => resolve(bare)),
    );
    const ids = new Promise<string>((resolve) =>
      bareClient.once("message", (data) => resolve(data.toString())),
    );
    bareClient.send(JSON.stringify({ action: "events" }));
    const [bareConnect] = JSON.parse(await ids) as Event[];
    const bareInfo = await management.info(bareConnect!.requestContext.connectionId);
    expect(bareInfo.identity).toEqual({ sourceIp: "127.0.0.1" });
    bareClient.close();
  });

  it("disconnect closes with 1000 Connection Closed Normally, and $disconnect sees it", async () => {
    const client = await TestClient.connect(app.url);
    const { connectionId } = await connectEvent(client);
    await management.disconnect(connectionId);
    expect(await client.closed).toEqual({ code: 1000, reason: "Connection Closed Normally" });
    expect(await disconnectEventFor(connectionId)).toMatchObject({
      disconnectStatusCode: 1000,
      disconnectReason: "Connection Closed Normally",
    });
    await expectGone(management.send(connectionId, "after"), connectionId);
  });

  it("splits data over 32 KiB into text frames of at most 32 KiB, delivered as one message", async () => {
    const { client, frames } = await connectRecordingFrames(app.url);
    const { connectionId } = await connectEvent(client);
    frames.length = 0;
    const data = "é".repeat(50 * KiB); // 100 KiB of UTF-8 (multi-byte characters split across frames)
    await management.send(connectionId, data);
    expect(await client.next()).toBe(data);
    expect(frames.length).toBe(4);
    expect(frames.map((f) => f.opcode)).toEqual([1, 0, 0, 0]); // text, then continuations
    expect(frames.map((f) => f.fin)).toEqual([false, false, false, true]);
    expect(frames.every((f) => f.length <= 32 * KiB)).toBe(true);
    expect(frames.reduce((sum, f) => sum + f.length, 0)).toBe(100 * KiB);
    // Exactly 32 KiB stays one frame.
    frames.length = 0;
    await management.send(connectionId, "y".repeat(32 * KiB));
    expect((await client.next()).length).toBe(32 * KiB);
    expect(frames).toEqual([{ opcode: 1, fin: true, length: 32 * KiB }]);
    await client.close();
  });
}
