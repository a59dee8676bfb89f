import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { type RunningApp, startApp } from "../helpers/server.js";

const AWS_ID = /^[A-Za-z0-9_-]{15}=$/;

/** The value of `"<field>":"…"` in an error frame (AWS's frames are compared as text, not JSON). */
function field(frame: string, name: string): string {
  const match = new RegExp(`"${name}": ?"([^"]*)"`).exec(frame);
  if (!match?.[1]) throw new Error(`no ${name} in ${frame}`);
  return match[1];
}

/** The connection id of a client of the basic app (from its remembered `$connect` event). */
async function connectionIdOf(client: TestClient): Promise<string> {
  const [connect] = await client.ask<
    Array<{ requestContext: { connectionId: string; routeKey: string } }>
  >({
    action: "events",
  });
  expect(connect?.requestContext.routeKey).toBe("$connect");
  return connect!.requestContext.connectionId;
}

describe("route selection: $request.body.action (basic)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("basic");
  });
  afterAll(() => app.close());

  it("invokes the route whose key matches exactly", async () => {
    const client = await TestClient.connect(app.url);
    client.send('{"action":"echo","n":1}');
    expect(await client.next()).toBe('{"action":"echo","n":1}');
    await client.close();
  });

  it("falls back to $default for an unknown, missing, empty or non-string-matching key and for non-objects", async () => {
    const client = await TestClient.connect(app.url);
    const unmatched = [
      '{"action":"nope"}', // unknown value
      '{"other":"echo"}', // missing key
      '{"action":""}', // empty string
      '{"action":null}', // null selects ""
      '{"action":"Echo"}', // keys match exactly (case)
      '{"action":" echo"}', // ... and whitespace
      "hi", // not JSON
      "42", // JSON, not an object
      "[1]", // JSON array
      '"echo"', // a JSON string is not an object either
      '{"action":"$disconnect"}', // lifecycle routes never match a message
      '{"action":"$connect"}',
    ];
    for (const message of unmatched) {
      client.send(message);
      // The $default handler posts `default:<body>` back through @connections.
      expect(await client.next()).toBe(`default:${message}`);
    }
    await client.close();
  });

  it("sends a two-way route's body back and nothing for a one-way route", async () => {
    const client = await TestClient.connect(app.url);
    client.send({ action: "oneway", x: 1 });
    client.send({ action: "echo", x: 2 });
    // Messages on one connection are handled in order: a reply to `oneway` would come first.
    expect(await client.next()).toBe('{"action":"echo","x":2}');
    expect(await client.silentFor(150)).toBe(true);
    await client.close();
  });

  it("answers a throwing handler with AWS's Internal server error frame and keeps the connection", async () => {
    const client = await TestClient.connect(app.url);
    const id = await connectionIdOf(client);
    client.send({ action: "throw" });
    const frame = await client.next();
    const requestId = field(frame, "requestId");
    expect(requestId).toMatch(AWS_ID);
    expect(frame).toBe(
      `{"message": "Internal server error", "connectionId":"${id}", "requestId":"${requestId}"}`,
    );
    expect(await client.ask({ action: "echo", after: "throw" })).toEqual({
      action: "echo",
      after: "throw",
    });
    await client.close();
  });

  it("answers a handler that outlives its timeout with AWS's timeout frame and keeps the connection", async () => {
    const client = await TestClient.connect(app.url);
    const id = await connectionIdOf(client);
    const started = Date.now();
    client.send({ action: "hang" });
    const frame = await client.next();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(280); // the route's timeout is 0.3 s
    expect(elapsed).toBeLessThan(2000);
    const requestId = field(frame, "requestId");
    expect(requestId).toMatch(AWS_ID);
    expect(frame).toBe(
      `{"message": "Endpoint request timed out", "connectionId":"${id}", "requestId":"${requestId}"}`,
    );
    expect(await client.ask({ action: "echo", after: "hang" })).toEqual({
      action: "echo",
      after: "hang",
    });
    await client.close();
  });

  it("answers a body that fails the route's schema with AWS's Bad request body frame, without calling the handler", async () => {
    const client = await TestClient.connect(app.url);
    const id = await connectionIdOf(client);
    // A valid body reaches the handler (which sends through ctx.send).
    expect(await client.ask({ action: "typed", n: 4 })).toEqual({
      doubled: 8,
      tags: [],
      route: "typed",
    });

    const frames: string[] = [];
    for (const body of [
      { action: "typed", n: "four" },
      { action: "typed" },
      { action: "typed", n: 1.5 },
    ]) {
      client.send(body);
      frames.push(await client.next());
    }
    const messageIds = frames.map((frame) => field(frame, "messageId"));
    for (const [i, frame] of frames.entries()) {
      expect(messageIds[i]).toMatch(AWS_ID);
      expect(frame).toBe(
        `{"message" : "Bad request body", "connectionId": "${id}", "messageId": "${messageIds[i]}"}`,
      );
    }
    expect(new Set(messageIds).size).toBe(3);
    // Had the handler run, its ctx.send would arrive before this echo (messages are handled in order).
    expect(await client.ask({ action: "echo", after: "typed" })).toEqual({
      action: "echo",
      after: "typed",
    });
    expect(await client.silentFor(100)).toBe(true);
    await client.close();
  });

  it("instantiates a method-route class once and runs initialize() once, across calls and connections", async () => {
    const a = await TestClient.connect(app.url);
    const b = await TestClient.connect(app.url);
    const idA = await connectionIdOf(a);
    const idB = await connectionIdOf(b);
    type Count = { count: number; initialized: number; connectionId: string };
    // The first calls race initialize() (which takes 10 ms) from two connections.
    a.send({ action: "counter" });
    b.send({ action: "counter", by: 1 });
    const replies: Count[] = [await a.nextJson<Count>(), await b.nextJson<Count>()];
    for (let i = 0; i < 5; i++) {
      replies.push(await a.ask<Count>({ action: "counter" }));
      replies.push(await b.ask<Count>({ action: "counter" }));
    }
    for (const [i, reply] of replies.entries()) {
      expect(reply.initialized).toBe(1);
      expect(reply.connectionId).toBe(i % 2 === 0 ? idA : idB);
    }
    // One instance: the count is shared, every call adds one.
    const counts = replies.map((r) => r.count).sort((x, y) => x - y);
    const first = counts[0]!;
    expect(counts).toEqual(Array.from({ length: 12 }, (_, i) => first + i));
    expect(await a.ask<Count>({ action: "counter", by: 10 })).toMatchObject({
      count: first + 21,
      initialized: 1,
    });
    await Promise.all([a.close(), b.close()]);
  });

  it("calls a method of an exported object, with `this` bound to it", async () => {
    const client = await TestClient.connect(app.url);
    client.send({ action: "greet", name: "Ada" });
    expect(await client.next()).toBe("hello Ada");
    await client.close();
  });
});

describe("route selection without $default (no-default)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("no-default");
  });
  afterAll(() => app.close());

  it("answers unmatched messages with AWS's Forbidden frame, byte for byte, and keeps the connection open", async () => {
    const client = await TestClient.connect(app.url);
    client.send({ action: "whoami" });
    const id = await client.next();
    expect(id).toMatch(AWS_ID);
    const requestIds: string[] = [];
    for (const message of ['{"action":"nope"}', "hi", "{}", '{"action":""}', "42"]) {
      client.send(message);
      const frame = await client.next();
      const requestId = field(frame, "requestId");
      expect(requestId).toMatch(AWS_ID);
      expect(frame).toBe(
        `{"message": "Forbidden", "connectionId":"${id}", "requestId":"${requestId}"}`,
      );
      requestIds.push(requestId);
    }
    expect(new Set(requestIds).size).toBe(requestIds.length);
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    expect(await client.ask({ action: "echo", still: "open" })).toEqual({
      action: "echo",
      still: "open",
    });
    await client.close();
  });
});

describe("route selection: nested path $request.body.message.type (nested)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("nested");
  });
  afterAll(() => app.close());

  it("selects by the nested value and falls back to $default when any step is missing", async () => {
    const client = await TestClient.connect(app.url);
    const cases: Array<[unknown, string]> = [
      [{ message: { type: "chat", text: "hi" } }, "chat"],
      [{ message: { type: "other" } }, "$default"],
      [{ message: "chat" }, "$default"], // `type` of a string is missing
      [{ type: "chat" }, "$default"], // top-level, not nested
      [{ action: "chat" }, "$default"],
      [{ message: { type: ["a", "b"] } }, "[a, b]"], // arrays select as API Gateway prints them
      ["chat", "$default"],
    ];
    for (const [body, route] of cases) {
      client.send(body);
      expect(await client.next()).toBe(`route:${route}`);
    }
    await client.close();
  });
});

describe("route selection: a template of two paths and static text (template)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("template");
  });
  afterAll(() => app.close());

  it("builds the key from both paths and the static text", async () => {
    const client = await TestClient.connect(app.url);
    const cases: Array<[unknown, string]> = [
      [{ service: "chat", action: "join" }, "chat/join"],
      [{ service: "chat", action: "leave" }, "$default"],
      [{ service: "chat" }, "$default"], // "chat/"
      [{ action: "join" }, "/join"], // a missing path is "" (the static text stays)
      [{ service: "chat/join" }, "$default"], // "chat/join/": evaluated once, exact match
      ["hi", "$default"],
    ];
    for (const [body, route] of cases) {
      client.send(body);
      expect(await client.next()).toBe(`route:${route}`);
    }
    await client.close();
  });
});
