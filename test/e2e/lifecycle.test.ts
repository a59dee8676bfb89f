import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiIdFor } from "../../src/app/aws-names.js";
import { isGone } from "../../src/runtime/management.js";
import { refusedStatus, TestClient } from "../helpers/client.js";
import { eventually } from "../helpers/eventually.js";
import { type RunningApp, startApp, tmpdir } from "../helpers/server.js";

type Event = {
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
  body?: string;
  isBase64Encoded: boolean;
  requestContext: Record<string, unknown> & { identity: Record<string, string> };
};

const AWS_ID = /^[A-Za-z0-9_-]{15}=$/;
const CLF = /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/;

describe("connection lifecycle (real ws clients against switchboard dev)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("basic");
  });
  afterAll(() => app.close());

  it("builds $connect and MESSAGE events exactly as API Gateway does", async () => {
    const client = await TestClient.connect(`${app.url}/test?token=abc&tag=1&tag=2`, {
      headers: { "User-Agent": "vitest-agent", "X-Custom": "yes" },
    });
    client.send({ action: "echo", hello: "world" });
    expect(await client.next()).toBe('{"action":"echo","hello":"world"}');
    const [connect, message] = await client.ask<Event[]>({ action: "events" });
    await client.close();

    expect(Object.keys(connect!).sort()).toEqual(
      [
        "headers",
        "isBase64Encoded",
        "multiValueHeaders",
        "multiValueQueryStringParameters",
        "queryStringParameters",
        "requestContext",
      ].sort(),
    );
    expect(connect!.isBase64Encoded).toBe(false);
    expect(connect!.queryStringParameters).toEqual({ token: "abc", tag: "2" });
    expect(connect!.multiValueQueryStringParameters).toEqual({ token: ["abc"], tag: ["1", "2"] });
    const h = connect!.headers!;
    expect(h["X-Custom"]).toBe("yes");
    expect(h["Sec-WebSocket-Key"]).toBeTruthy();
    expect(h["Sec-WebSocket-Version"]).toBe("13");
    expect(h["X-Forwarded-For"]).toBe("127.0.0.1");
    // What the AWS edge forwards, not the local values.
    expect(h["X-Forwarded-Proto"]).toBe("https");
    expect(h["X-Forwarded-Port"]).toBe("443");
    expect(h.Host).toBe(connect!.requestContext.domainName);
    expect(h.Host).toMatch(/^[a-z0-9]{10}\.execute-api\.[a-z0-9-]+\.amazonaws\.com$/);
    expect(connect!.multiValueHeaders!.Host).toEqual([h.Host]);
    expect(h["X-Amzn-Trace-Id"]).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(Object.keys(h).map((k) => k.toLowerCase())).not.toContain("connection");
    expect(Object.keys(h).map((k) => k.toLowerCase())).not.toContain("upgrade");
    expect(connect!.multiValueHeaders!["X-Custom"]).toEqual(["yes"]);

    const rc = connect!.requestContext;
    expect(rc).toMatchObject({
      routeKey: "$connect",
      eventType: "CONNECT",
      messageDirection: "IN",
      stage: "test",
      domainName: `${apiIdFor("basic")}.execute-api.${app.gateway.region}.amazonaws.com`,
      apiId: apiIdFor("basic"),
      identity: { sourceIp: "127.0.0.1", userAgent: "vitest-agent" },
    });
    expect(rc.connectionId).toMatch(AWS_ID);
    expect(rc.requestId).toMatch(AWS_ID);
    expect(rc.extendedRequestId).toBe(rc.requestId);
    expect(rc.requestTime).toMatch(CLF);
    expect(rc.apiId).toMatch(/^[a-z0-9]{10}$/);
    expect(rc).not.toHaveProperty("messageId");
    expect(rc).not.toHaveProperty("disconnectStatusCode");

    expect(Object.keys(message!).sort()).toEqual(["body", "isBase64Encoded", "requestContext"]);
    expect(message!.body).toBe('{"action":"echo","hello":"world"}');
    const mrc = message!.requestContext;
    expect(mrc).toMatchObject({
      routeKey: "echo",
      eventType: "MESSAGE",
      connectionId: rc.connectionId,
    });
    expect(mrc.messageId).toMatch(AWS_ID);
    expect(mrc.requestId).not.toBe(rc.requestId);
    expect(mrc.connectedAt).toBe(rc.connectedAt);
    expect(mrc.requestTimeEpoch as number).toBeGreaterThanOrEqual(rc.connectedAt as number);
    expect(mrc.identity).toEqual({ sourceIp: "127.0.0.1", userAgent: "vitest-agent" });
  });

  it("leaves out queryStringParameters and userAgent when the client sent none", async () => {
    const client = await TestClient.connect(app.url);
    const [connect] = await client.ask<Event[]>({ action: "events" });
    await client.close();
    expect(connect).not.toHaveProperty("queryStringParameters");
    expect(connect).not.toHaveProperty("multiValueQueryStringParameters");
    expect(connect!.requestContext.identity).toEqual({ sourceIp: "127.0.0.1" });
  });

  it("sends $disconnect with the close code and reason, and AWS's fixed headers", async () => {
    const client = await TestClient.connect(app.url);
    const [connect] = await client.ask<Event[]>({ action: "events" });
    const id = connect!.requestContext.connectionId as string;
    await client.close(4001, "bye now");
    const a = await TestClient.connect(app.url);
    await client.close();
    await new Promise((r) => setTimeout(r, 100));
    const disconnects = await a.ask<Event[]>({ action: "disconnects" });
    const mine = disconnects.find((e) => e.requestContext.connectionId === id);
    expect(mine).toBeDefined();
    expect(mine!.requestContext).toMatchObject({
      routeKey: "$disconnect",
      eventType: "DISCONNECT",
      disconnectStatusCode: 4001,
      disconnectReason: "bye now",
      connectedAt: connect!.requestContext.connectedAt,
    });
    // As AWS: the execute-api domain, whatever Host the client connected with.
    expect(mine!.headers).toEqual({
      Host: `${apiIdFor("basic")}.execute-api.${app.gateway.region}.amazonaws.com`,
      "x-api-key": "",
      "X-Forwarded-For": "",
      "x-restapi": "",
    });
    expect(mine).not.toHaveProperty("body");

    // A close frame without a status code: 1005 and AWS's reason text.
    const silent = await TestClient.connect(app.url);
    const [c2] = await silent.ask<Event[]>({ action: "events" });
    await silent.close();
    await new Promise((r) => setTimeout(r, 100));
    const all = await a.ask<Event[]>({ action: "disconnects" });
    const second = all.find(
      (e) => e.requestContext.connectionId === c2!.requestContext.connectionId,
    );
    expect(second!.requestContext).toMatchObject({
      disconnectStatusCode: 1005,
      disconnectReason: "Client-side close frame status not set",
    });
    await a.close();
  });

  it("reports a close with a code and no reason as that code and an empty disconnectReason", async () => {
    // AWS: a browser navigating away closes with 1001 and no reason; $disconnect gets 1001, "".
    const probe = await TestClient.connect(app.url);
    for (const code of [4000, 1001, 1000]) {
      const client = await TestClient.connect(app.url);
      const [connect] = await client.ask<Event[]>({ action: "events" });
      const id = connect!.requestContext.connectionId as string;
      await client.close(code);
      const mine = await eventually(async () =>
        (await probe.ask<Event[]>({ action: "disconnects" })).find(
          (e) => e.requestContext.connectionId === id,
        ),
      );
      expect(mine.requestContext.disconnectStatusCode).toBe(code);
      expect(mine.requestContext).toHaveProperty("disconnectReason", "");
    }
    await probe.close();
  });

  it("accepts on 2xx and refuses with the status $connect returned", async () => {
    expect((await refusedStatus(`${app.url}?status=401`)).status).toBe(401);
    expect((await refusedStatus(`${app.url}?status=301`)).status).toBe(301);
    expect((await refusedStatus(`${app.url}?status=501`)).status).toBe(501);
    const ok = await TestClient.connect(`${app.url}?status=204`);
    await ok.close();
  });

  it("refuses with the status of a thrown Reject, and 502 when $connect throws", async () => {
    expect((await refusedStatus(`${app.url}?reject=403`)).status).toBe(403);
    const thrown = await refusedStatus(`${app.url}?throw=1`);
    expect(thrown.status).toBe(502);
    expect(JSON.parse(thrown.body)).toEqual({ message: "Internal server error" });
  });

  it("holds the handshake until $connect returns; the connection cannot be posted to before", async () => {
    const idfile = path.join(tmpdir(), `sb-held-${process.pid}-${Date.now()}`);
    const started = Date.now();
    let opened = false;
    const connecting = TestClient.connect(
      `${app.url}?wait=300&idfile=${encodeURIComponent(idfile)}`,
    ).then((client) => {
      opened = true;
      return client;
    });
    try {
      // $connect is running: it has written the connection id and still waits.
      const id = await eventually(() => readFile(idfile, "utf8").catch(() => undefined));
      expect(opened).toBe(false);
      const early = await app.gateway.management.send(id, "too early").then(
        () => "sent",
        (error: unknown) => (isGone(error) ? "gone" : String(error)),
      );
      expect(early).toBe("gone");
      expect(opened).toBe(false);
      // The 101 comes only once $connect has returned, and then the connection takes data.
      const client = await connecting;
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      await app.gateway.management.send(id, "now");
      expect(await client.next()).toBe("now");
      expect(client.received).toEqual([]); // "too early" was never delivered
      await client.close();
    } finally {
      await rm(idfile, { force: true });
    }
  });

  it("gives the Lambda context: function name, request id, remaining time", async () => {
    const client = await TestClient.connect(app.url);
    const sent = Date.now();
    const context = await client.ask<Record<string, unknown>>({ action: "context" });
    expect(context).toMatchObject({
      functionName: "basic-test-context",
      envName: "basic-test-context",
      memoryLimitInMB: "512",
    });
    // A request id per invocation.
    expect(context.awsRequestId).toEqual(expect.any(String));
    const again = await client.ask<Record<string, unknown>>({ action: "context" });
    expect(again.awsRequestId).not.toBe(context.awsRequestId);
    // Counted down from the route's 2 s timeout.
    expect(context.remaining as number).toBeLessThanOrEqual(2000);
    expect(context.remaining as number).toBeGreaterThan(2000 - (Date.now() - sent) - 50);
    // Callback-style handlers get the same context (the callback route reports the id's length).
    client.send({ action: "callback" });
    expect(await client.next()).toBe("cb:16");
    await client.close();
  });

  it("sets the functions' environment before their modules are imported (top-level reads)", async () => {
    const client = await TestClient.connect(app.url);
    expect(await client.ask({ action: "topenv" })).toEqual({ topLevel: "seen-at-import" });
    await client.close();
  });

  it("selects the subprotocol $connect returns; a client that asked gets none otherwise", async () => {
    const client = await TestClient.connect(`${app.url}?protocol=chat.v2`, {
      protocols: ["chat.v1", "chat.v2"],
    });
    expect(client.ws.protocol).toBe("chat.v2");
    await client.close();
    await expect(
      TestClient.connect(`${app.url}?protocol=`, { protocols: ["chat.v1"] }),
    ).rejects.toThrow(/subprotocol/i);
  });

  it("answers a plain GET to the WebSocket URL with 426 and unknown paths with 403", async () => {
    const plain = await fetch(`${app.http}/test`);
    expect(plain.status).toBe(426);
    const root = await fetch(`${app.http}/`);
    expect(root.status).toBe(426);
    const other = await fetch(`${app.http}/nope`);
    expect(other.status).toBe(403);
    expect(other.headers.get("x-amzn-errortype")).toBe("ForbiddenException");
    expect((await refusedStatus(`${app.url}/other-stage`)).status).toBe(403);
  });
});

describe('edge: "local" keeps the real Host and X-Forwarded-* values (opt-in)', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("basic", { edge: "local" });
  });
  afterAll(() => app.close());

  it("forwards the Host the client used, http and the local port", async () => {
    const client = await TestClient.connect(`${app.url}/test`);
    const [connect] = await client.ask<Event[]>({ action: "events" });
    const h = connect!.headers!;
    expect(h.Host).toBe(`127.0.0.1:${app.port}`);
    expect(h["X-Forwarded-Proto"]).toBe("http");
    expect(h["X-Forwarded-Port"]).toBe(String(app.port));
    client.ws.close();
  });
});
