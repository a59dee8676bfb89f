import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiIdFor } from "../../src/app/aws-names.js";
import type { DevServerOptions } from "../../src/dev/dev-server.js";
import { refusedStatus, TestClient } from "../helpers/client.js";
import { eventually } from "../helpers/eventually.js";
import { removeKeys, TEST_REDIS_URL, testKeyPrefix } from "../helpers/redis.js";
import { type RunningApp, startApp } from "../helpers/server.js";

type Event = { requestContext: { connectionId: string; messageId?: string } };
type Row = { connectionId: string; room?: string; user?: string; expiresAt?: number };

const GONE_ID = "GoneGoneGoneGo0=";

describe("websocketHandler context (basic fixture)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("basic");
  });
  afterAll(() => app.close());

  /** A client and its connection id (from its own $connect event). */
  async function open(): Promise<{ client: TestClient; id: string }> {
    const client = await TestClient.connect(app.url);
    const [connect] = await client.ask<Event[]>({ action: "events" });
    return { client, id: connect!.requestContext.connectionId };
  }

  it("validates the body with the route's schema and hands the handler the parsed, typed value", async () => {
    const { client } = await open();
    // ctx.send of an object arrives as JSON; tags comes from the schema's default.
    expect(await client.ask({ action: "typed", n: 21 })).toEqual({
      doubled: 42,
      tags: [],
      route: "typed",
    });
    expect(await client.ask({ action: "typed", n: -4, tags: ["a", "b"] })).toEqual({
      doubled: -8,
      tags: ["a", "b"],
      route: "typed",
    });
    await client.close();
  });

  it("answers an invalid body with AWS's Bad request body frame and does not run the handler", async () => {
    const { client, id } = await open();
    for (const bad of [
      { action: "typed", n: 1.5 },
      { action: "typed", n: "2" },
      { action: "typed" },
    ]) {
      client.send(bad);
      const frame = await client.next();
      expect(frame).toMatch(
        /^\{"message" : "Bad request body", "connectionId": "[^"]+", "messageId": "[A-Za-z0-9_-]{15}="\}$/,
      );
      expect(JSON.parse(frame)).toMatchObject({ message: "Bad request body", connectionId: id });
      expect(await client.silentFor(50)).toBe(true);
    }
    await client.close();
  });

  it("sendTo reaches another connection, and reports GoneException for a gone id", async () => {
    const a = await open();
    const b = await open();
    a.client.send({ action: "send-to", to: b.id, data: { hi: "from a" } });
    expect(await b.client.nextJson()).toEqual({ hi: "from a" });
    expect(await a.client.nextJson()).toEqual({ sent: true });

    a.client.send({ action: "send-to", to: b.id, data: "a plain string" });
    expect(await b.client.next()).toBe("a plain string");
    expect(await a.client.nextJson()).toEqual({ sent: true });

    await b.client.close();
    a.client.send({ action: "send-to", to: b.id, data: { late: true } });
    expect(await a.client.nextJson()).toEqual({ sent: false, error: "GoneException" });
    a.client.send({ action: "send-to", to: GONE_ID, data: "x" });
    expect(await a.client.nextJson()).toEqual({ sent: false, error: "GoneException" });
    await a.client.close();
  });

  it("info() describes this connection", async () => {
    const client = await TestClient.connect(app.url);
    const [connect] = await client.ask<Array<{ requestContext: { connectedAt: number } }>>({
      action: "events",
    });
    const info = await client.ask<{ connectedAt: string; lastActiveAt: string; sourceIp: string }>({
      action: "info",
    });
    expect(Date.parse(info.connectedAt)).toBe(connect!.requestContext.connectedAt);
    expect(Date.parse(info.lastActiveAt)).toBeGreaterThanOrEqual(Date.parse(info.connectedAt));
    expect(info.sourceIp).toBe("127.0.0.1");
    await client.close();
  });

  it("disconnect() closes this connection with 1000", async () => {
    const { client } = await open();
    client.send({ action: "kick" });
    expect(await client.closed).toEqual({ code: 1000, reason: "Connection Closed Normally" });
  });

  it("frames sent in the same tick as disconnect() all arrive, in order, before the close", async () => {
    const { client } = await open();
    client.send({ action: "kick", before: 50 });
    const frames: unknown[] = [];
    for (let i = 0; i < 50; i++) frames.push(JSON.parse(await client.next()));
    expect(frames).toEqual(Array.from({ length: 50 }, (_, n) => ({ n })));
    expect(await client.closed).toEqual({ code: 1000, reason: "Connection Closed Normally" });
  });

  it("disconnect(id) closes another connection and leaves the caller open", async () => {
    const a = await open();
    const b = await open();
    a.client.send({ action: "kick", who: b.id });
    expect((await b.client.closed).code).toBe(1000);
    expect(a.client.ws.readyState).toBe(a.client.ws.OPEN);
    expect(await a.client.ask({ action: "echo", still: "here" })).toEqual({
      action: "echo",
      still: "here",
    });
    await a.client.close();
  });
});

// The typed-api suite runs three times: with the in-memory connection table, with the table in
// a real Redis (`switchboard dev --redis`, under a key prefix of its own), and with functions in
// worker threads (`--isolate`: the context's calls, `broadcast`'s `sendMany` among them, cross
// the thread).
const redisPrefix = testKeyPrefix("typed-api");
const tableStores: Array<[string, Partial<DevServerOptions>]> = [
  ["in-memory table", {}],
  ["table in Redis", { redis: { url: TEST_REDIS_URL, keyPrefix: redisPrefix } }],
  ["isolated functions", { isolate: true }],
];

afterAll(() => removeKeys(redisPrefix));

describe.each(tableStores)(
  "websocketHandler context (typed-api fixture, %s)",
  (_store, options) => {
    let app: RunningApp;
    beforeAll(async () => {
      app = await startApp("typed-api", options);
    });
    afterAll(() => app.close());

    async function join(room: string, user: string): Promise<{ client: TestClient; id: string }> {
      const client = await TestClient.connect(`${app.url}?room=${room}&user=${user}`);
      const about = await client.ask<{ connectionId: string }>({ action: "about" });
      return { client, id: about.connectionId };
    }

    it("a Reject thrown in a typed $connect refuses with its status and body", async () => {
      const denied = await refusedStatus(`${app.url}?deny=403`);
      expect(denied.status).toBe(403);
      expect(denied.body).toBe("denied 403");
      expect((await refusedStatus(`${app.url}?deny=429`)).status).toBe(429);
      expect((await refusedStatus(`${app.url}?status=401`)).status).toBe(401);
      const exploded = await refusedStatus(`${app.url}?explode=1`);
      expect(exploded.status).toBe(502);
      expect(JSON.parse(exploded.body)).toEqual({ message: "Internal server error" });
    });

    it("gives the handler its context: route, event type, ids, parsed and raw body", async () => {
      const client = await TestClient.connect(app.url);
      const about = await client.ask<Record<string, unknown>>({ action: "about", x: [1] });
      expect(about).toMatchObject({
        routeKey: "about",
        eventType: "MESSAGE",
        stage: "test",
        domainName: `${apiIdFor("typed-api")}.execute-api.${app.gateway.region}.amazonaws.com`,
        body: { action: "about", x: [1] },
        rawBody: '{"action":"about","x":[1]}',
        functionName: "typed-api-test-about",
      });
      expect(about.connectionId).toMatch(/^[A-Za-z0-9_-]{15}=$/);
      expect(about.requestId).toMatch(/^[A-Za-z0-9_-]{15}=$/);
      await client.close();
    });

    it("send() passes strings and bytes as they are and sends objects and arrays as JSON text frames", async () => {
      const client = await TestClient.connect(app.url);
      const binary: boolean[] = [];
      client.ws.on("message", (_data, isBinary) => binary.push(isBinary));
      client.send({ action: "say" });
      expect(await client.next()).toBe("plain text");
      expect(await client.next()).toBe('{"an":"object","n":1}');
      expect(await client.next()).toBe('[1,"two"]');
      expect(await client.next()).toBe("bytes");
      expect(binary).toEqual([false, false, false, false]);
      await client.close();
    });

    it("keeps the connection table: put in $connect, get, query by index, list, TTL set", async () => {
      const before = Math.floor(Date.now() / 1000);
      const alice = await join("lobby", "alice");
      const bob = await join("lobby", "bob");
      const carol = await join("kitchen", "carol");

      const own = await alice.client.ask<{ record: Row }>({ action: "table", op: "get" });
      expect(own.record).toMatchObject({ connectionId: alice.id, room: "lobby", user: "alice" });
      expect(own.record.expiresAt).toBeGreaterThanOrEqual(before + 3600);
      expect(own.record.expiresAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600);
      const other = await alice.client.ask<{ record: Row }>({
        action: "table",
        op: "get",
        id: carol.id,
      });
      expect(other.record.user).toBe("carol");
      expect(await alice.client.ask({ action: "table", op: "get", id: GONE_ID })).toEqual({
        record: null,
      });

      const lobby = await alice.client.ask<{ records: Row[] }>({
        action: "table",
        op: "query",
        field: "room",
        value: "lobby",
      });
      expect(lobby.records.map((r) => r.connectionId).sort()).toEqual([alice.id, bob.id].sort());
      const all = await alice.client.ask<{ records: Row[] }>({ action: "table", op: "list" });
      expect(all.records.map((r) => r.connectionId)).toEqual(
        expect.arrayContaining([alice.id, bob.id, carol.id]),
      );

      const notIndexed = await alice.client.ask<{ error: string; message: string }>({
        action: "table",
        op: "query",
        field: "user",
        value: "alice",
      });
      expect(notIndexed.error).toBe("NotAnIndexError");
      expect(notIndexed.message).toContain('"user" is not an index');

      // $disconnect deletes the row.
      await bob.client.close();
      await eventually(async () => {
        const now = await alice.client.ask<{ records: Row[] }>({
          action: "table",
          op: "query",
          field: "room",
          value: "lobby",
        });
        return now.records.length === 1 ? now : undefined;
      });
      await alice.client.close();
      await carol.client.close();
    });

    it("broadcast reaches the room, reports the gone connection and drops it from the table", async () => {
      const a = await join("attic", "a");
      const b = await join("attic", "b");
      const outsider = await join("cellar", "c");
      // A stale row (its $disconnect never ran) in the same room.
      expect(
        await a.client.ask({ action: "put", record: { connectionId: GONE_ID, room: "attic" } }),
      ).toEqual({
        ok: true,
      });

      a.client.send({ action: "broadcast", room: "attic", data: { news: "hello attic" } });
      expect(await b.client.nextJson()).toEqual({ news: "hello attic" });
      // The caller gets the broadcast, then the route's response.
      expect(await a.client.nextJson()).toEqual({ news: "hello attic" });
      const result = await a.client.nextJson<{
        sent: string[];
        gone: string[];
        failed: string[];
      }>();
      expect(result).toEqual({ sent: [a.id, b.id].sort(), gone: [GONE_ID], failed: [] });
      expect(await outsider.client.silentFor(100)).toBe(true);

      const after = await a.client.ask<{ records: Row[] }>({
        action: "table",
        op: "query",
        field: "room",
        value: "attic",
      });
      expect(after.records.map((r) => r.connectionId).sort()).toEqual([a.id, b.id].sort());
      expect(await a.client.ask({ action: "table", op: "get", id: GONE_ID })).toEqual({
        record: null,
      });

      // Ids outside the table are broadcast to as well.
      a.client.send({
        action: "broadcast",
        room: "nobody-here",
        extra: [outsider.id],
        data: "psst",
      });
      expect(await outsider.client.next()).toBe("psst");
      expect(await a.client.nextJson()).toEqual({ sent: [outsider.id], gone: [], failed: [] });

      await Promise.all([a.client.close(), b.client.close(), outsider.client.close()]);
    });
  },
);

describe("switchboard dev --redis", () => {
  it("keeps the rows in Redis under the app's prefix, and a restarted server reads them back", async () => {
    const keyPrefix = `${redisPrefix}restart:`;
    const first = await startApp("typed-api", { redis: { url: TEST_REDIS_URL, keyPrefix } });
    const client = await TestClient.connect(`${first.url}?room=den&user=dee`);
    const { connectionId } = await client.ask<{ connectionId: string }>({ action: "about" });
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const row = JSON.parse(
        (await redis.get(`${keyPrefix}connections:row:${connectionId}`)) ?? "null",
      );
      expect(row).toMatchObject({ connectionId, room: "den", user: "dee" });
      // The client's $disconnect deletes its own row; a row whose connection dropped unseen
      // (put by hand here) outlives the restart.
      await client.ask({ action: "put", record: { connectionId: GONE_ID, room: "den" } });
      await client.close();
      await first.close();
      const second = await startApp("typed-api", { redis: { url: TEST_REDIS_URL, keyPrefix } });
      try {
        const reader = await TestClient.connect(`${second.url}?room=den&user=eve`);
        const den = await reader.ask<{ records: Row[] }>({
          action: "table",
          op: "query",
          field: "room",
          value: "den",
        });
        expect(den.records.map((r) => r.user ?? r.connectionId).sort()).toEqual([GONE_ID, "eve"]);
        expect(await redis.exists(`${keyPrefix}connections:row:${connectionId}`)).toBe(0);
        await reader.close();
      } finally {
        await second.close();
      }
    } finally {
      await redis.quit();
    }
  });

  it("fails to start with the URL (password hidden) when Redis cannot be reached", async () => {
    const error = await startApp("typed-api", {
      redis: { url: "redis://:hunter2@127.0.0.1:1" },
    }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(error?.code).toBe("SB_ERR_REDIS");
    expect(error?.message).toMatch(/^cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1: /);
    expect(error?.message).not.toContain("hunter2");
  });
});
