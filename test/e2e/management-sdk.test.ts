import { randomUUID } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import {
  type ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  ForbiddenException,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refusedStatus, TestClient } from "../helpers/client.js";
import { eventually } from "../helpers/eventually.js";
import { managementClient } from "../helpers/management-client.js";
import { type RunningApp, startApp, tmpdir } from "../helpers/server.js";

type Event = {
  requestContext: Record<string, unknown> & { connectionId: string; connectedAt: number };
};
type SdkError = Error & {
  $metadata: { httpStatusCode?: number; requestId?: string };
  $fault: string;
};

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UNKNOWN_ID = "AAAAAAAAAAAAAAA=";

const sdk = managementClient;

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    return error as SdkError;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** A client plus its connection id (from the $connect event its handlers saw). */
async function connectWithId(url: string, headers: Record<string, string> = {}) {
  const client = await TestClient.connect(url, { headers });
  const [connect] = await client.ask<Event[]>({ action: "events" });
  return { client, id: connect!.requestContext.connectionId, connect: connect! };
}

/** Record whether each frame a client receives is binary. */
function frameKinds(client: TestClient): boolean[] {
  const kinds: boolean[] = [];
  client.ws.on("message", (_data, isBinary) => kinds.push(isBinary));
  return kinds;
}

describe("@connections with the real AWS SDK v3 client", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("basic");
  });
  afterAll(() => app.close());

  describe.each([
    ["with the stage prefix", "/test"],
    ["without a stage prefix", ""],
  ])("endpoint %s", (_label, prefix) => {
    let client: ApiGatewayManagementApiClient;
    beforeAll(() => {
      client = sdk(`${app.http}${prefix}`);
    });
    afterAll(() => client.destroy());

    it("PostToConnection delivers string and Uint8Array Data as text frames", async () => {
      const { client: ws, id } = await connectWithId(app.url);
      const kinds = frameKinds(ws);
      const out = await client.send(
        new PostToConnectionCommand({ ConnectionId: id, Data: "hello ✓" }),
      );
      expect(out.$metadata.httpStatusCode).toBe(200);
      expect(out.$metadata.requestId).toBeTruthy();
      expect(await ws.next()).toBe("hello ✓");
      await client.send(
        new PostToConnectionCommand({
          ConnectionId: id,
          Data: new TextEncoder().encode('{"bytes":"ü"}'),
        }),
      );
      expect(await ws.next()).toBe('{"bytes":"ü"}');
      expect(kinds).toEqual([false, false]);
      await ws.close();
    });

    it("GetConnection returns Dates; LastActiveAt moves after a message", async () => {
      const {
        client: ws,
        id,
        connect,
      } = await connectWithId(app.url, { "User-Agent": "sdk-test/1.0" });
      const first = await client.send(new GetConnectionCommand({ ConnectionId: id }));
      expect(first.ConnectedAt).toBeInstanceOf(Date);
      expect(first.LastActiveAt).toBeInstanceOf(Date);
      expect(first.ConnectedAt!.getTime()).toBe(connect.requestContext.connectedAt);
      expect(first.LastActiveAt!.getTime()).toBeGreaterThanOrEqual(first.ConnectedAt!.getTime());
      expect(first.Identity).toEqual({ SourceIp: "127.0.0.1", UserAgent: "sdk-test/1.0" });

      await new Promise((r) => setTimeout(r, 20));
      expect(await ws.ask({ action: "echo", n: 1 })).toEqual({ action: "echo", n: 1 });
      const second = await client.send(new GetConnectionCommand({ ConnectionId: id }));
      expect(second.LastActiveAt!.getTime()).toBeGreaterThan(first.LastActiveAt!.getTime());
      expect(second.ConnectedAt!.getTime()).toBe(first.ConnectedAt!.getTime());
      await ws.close();
    });

    it("DeleteConnection answers 204, closes the client with 1000 and runs $disconnect", async () => {
      const { client: ws, id } = await connectWithId(app.url);
      const out = await client.send(new DeleteConnectionCommand({ ConnectionId: id }));
      expect(out.$metadata.httpStatusCode).toBe(204); // the Smithy model's status for DeleteConnection
      expect(await ws.closed).toEqual({ code: 1000, reason: "Connection Closed Normally" });

      const watcher = await TestClient.connect(app.url);
      const event = await eventually(async () => {
        const all = await watcher.ask<Event[]>({ action: "disconnects" });
        return all.find((e) => e.requestContext.connectionId === id);
      });
      expect(event.requestContext).toMatchObject({
        routeKey: "$disconnect",
        eventType: "DISCONNECT",
        disconnectStatusCode: 1000,
        disconnectReason: "Connection Closed Normally",
      });
      // Gone now, for every operation.
      const error = await rejection(client.send(new GetConnectionCommand({ ConnectionId: id })));
      expect(error.name).toBe("GoneException");
      await watcher.close();
    });

    it("throws GoneException (410) for an unknown id on all three operations", async () => {
      const calls = [
        () => client.send(new PostToConnectionCommand({ ConnectionId: UNKNOWN_ID, Data: "x" })),
        () => client.send(new GetConnectionCommand({ ConnectionId: UNKNOWN_ID })),
        () => client.send(new DeleteConnectionCommand({ ConnectionId: UNKNOWN_ID })),
      ];
      for (const call of calls) {
        const error = await rejection(call());
        expect(error).toBeInstanceOf(GoneException);
        expect(error.name).toBe("GoneException");
        expect(error.$metadata.httpStatusCode).toBe(410);
        expect(error.$fault).toBe("client");
      }
    });

    it("accepts exactly 128 KiB and throws PayloadTooLargeException past it", async () => {
      const { client: ws, id } = await connectWithId(app.url);
      await client.send(
        new PostToConnectionCommand({ ConnectionId: id, Data: "a".repeat(128 * 1024) }),
      );
      const received = await ws.next();
      expect(received.length).toBe(128 * 1024);
      expect(received).toBe("a".repeat(128 * 1024));

      const error = await rejection(
        client.send(
          new PostToConnectionCommand({ ConnectionId: id, Data: "a".repeat(128 * 1024 + 1) }),
        ),
      );
      expect(error).toBeInstanceOf(PayloadTooLargeException);
      expect(error.name).toBe("PayloadTooLargeException");
      expect(error.$metadata.httpStatusCode).toBe(413);
      expect(await ws.silentFor(100)).toBe(true);
      await ws.close();
    });
  });

  it("throws ForbiddenException (403) for a wrong stage prefix and delivers nothing", async () => {
    const { client: ws, id } = await connectWithId(app.url);
    const wrong = sdk(`${app.http}/prod`);
    for (const command of [
      new PostToConnectionCommand({ ConnectionId: id, Data: "nope" }),
      new GetConnectionCommand({ ConnectionId: id }),
      new DeleteConnectionCommand({ ConnectionId: id }),
    ]) {
      const error = await rejection(wrong.send(command as PostToConnectionCommand));
      expect(error).toBeInstanceOf(ForbiddenException);
      expect(error.name).toBe("ForbiddenException");
      expect(error.$metadata.httpStatusCode).toBe(403);
    }
    wrong.destroy();
    expect(await ws.silentFor(100)).toBe(true);
    expect(ws.ws.readyState).toBe(ws.ws.OPEN);
    await ws.close();
  });

  describe("raw HTTP, as the SDK sees it", () => {
    it("GET answers 200 JSON with ISO-8601 strings and the identity", async () => {
      const {
        client: ws,
        id,
        connect,
      } = await connectWithId(app.url, { "User-Agent": "raw-agent" });
      const res = await fetch(`${app.http}/test/@connections/${encodeURIComponent(id)}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.headers.get("x-amzn-requestid")).toBeTruthy();
      const body = (await res.json()) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(["connectedAt", "identity", "lastActiveAt"]);
      expect(body.connectedAt).toMatch(ISO);
      expect(body.lastActiveAt).toMatch(ISO);
      expect(Date.parse(body.connectedAt as string)).toBe(connect.requestContext.connectedAt);
      expect(body.identity).toEqual({ sourceIp: "127.0.0.1", userAgent: "raw-agent" });
      await ws.close();
    });

    it("410 has x-amzn-ErrorType GoneException and an empty body", async () => {
      for (const method of ["POST", "GET", "DELETE"]) {
        const res = await fetch(`${app.http}/test/@connections/${encodeURIComponent(UNKNOWN_ID)}`, {
          method,
          ...(method === "POST" ? { body: "x" } : {}),
        });
        expect(res.status).toBe(410);
        expect(res.headers.get("x-amzn-errortype")).toBe("GoneException");
        expect(res.headers.get("x-amzn-requestid")).toBeTruthy();
        expect(await res.text()).toBe("");
      }
    });

    it("POST answers 200 with an empty body; DELETE answers 204", async () => {
      const { client: ws, id } = await connectWithId(app.url);
      const post = await fetch(`${app.http}/test/@connections/${encodeURIComponent(id)}`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: "raw post",
      });
      expect(post.status).toBe(200);
      expect(await post.text()).toBe("");
      expect(await ws.next()).toBe("raw post");
      const del = await fetch(`${app.http}/test/@connections/${encodeURIComponent(id)}`, {
        method: "DELETE",
      });
      expect(del.status).toBe(204);
      // Closing already: gone for every operation, even before the close handshake finishes.
      for (const method of ["POST", "GET", "DELETE"]) {
        const again = await fetch(`${app.http}/test/@connections/${encodeURIComponent(id)}`, {
          method,
          ...(method === "POST" ? { body: "too late" } : {}),
        });
        expect(again.status).toBe(410);
      }
      expect((await ws.closed).code).toBe(1000);
      expect(ws.received).not.toContain("too late");
    });

    it("POST over 128 KiB answers 413 PayloadTooLargeException", async () => {
      const { client: ws, id } = await connectWithId(app.url);
      const res = await fetch(`${app.http}/test/@connections/${encodeURIComponent(id)}`, {
        method: "POST",
        body: "b".repeat(128 * 1024 + 1),
      });
      expect(res.status).toBe(413);
      expect(res.headers.get("x-amzn-errortype")).toBe("PayloadTooLargeException");
      expect((await res.json()) as unknown).toHaveProperty("message");
      expect(await ws.silentFor(100)).toBe(true);
      await ws.close();
    });

    it("a wrong stage prefix answers 403 ForbiddenException", async () => {
      const { client: ws, id } = await connectWithId(app.url);
      const res = await fetch(`${app.http}/prod/@connections/${encodeURIComponent(id)}`, {
        method: "POST",
        body: "x",
      });
      expect(res.status).toBe(403);
      expect(res.headers.get("x-amzn-errortype")).toBe("ForbiddenException");
      expect(await res.json()).toEqual({ message: "Forbidden" });
      const put = await fetch(`${app.http}/test/@connections/${encodeURIComponent(id)}`, {
        method: "PUT",
        body: "x",
      });
      expect(put.status).toBe(403);
      expect(put.headers.get("x-amzn-errortype")).toBe("ForbiddenException");
      expect(await ws.silentFor(100)).toBe(true);
      await ws.close();
    });

    it("decodes URL-encoded ids (%3D), as the SDK sends them", async () => {
      const { client: ws, id } = await connectWithId(app.url);
      expect(id.endsWith("=")).toBe(true);
      const encoded = id.replace(/=$/, "%3D");
      const res = await fetch(`${app.http}/test/@connections/${encoded}`, {
        method: "POST",
        body: "encoded",
      });
      expect(res.status).toBe(200);
      expect(await ws.next()).toBe("encoded");
      const literal = await fetch(`${app.http}/@connections/${id}`, {
        method: "POST",
        body: "literal",
      });
      expect(literal.status).toBe(200);
      expect(await ws.next()).toBe("literal");
      await ws.close();
    });
  });

  describe("during $connect (AWS answers 410 until the handshake completes)", () => {
    it("POST, GET and DELETE to a connection whose $connect is still running get 410", async () => {
      const idfile = path.join(tmpdir(), `switchboard-connect-id-${randomUUID()}`);
      const started = Date.now();
      const connecting = TestClient.connect(
        `${app.url}/test?wait=300&idfile=${encodeURIComponent(idfile)}`,
      );
      const id = await eventually(() => readFile(idfile, "utf8").catch(() => undefined));
      await rm(idfile, { force: true });
      expect(app.gateway.management.isPending(id)).toBe(true);

      const client = sdk(`${app.http}/test`);
      const post = await rejection(
        client.send(new PostToConnectionCommand({ ConnectionId: id, Data: "early" })),
      );
      expect(post.name).toBe("GoneException");
      expect(post.$metadata.httpStatusCode).toBe(410);
      expect(
        (await rejection(client.send(new GetConnectionCommand({ ConnectionId: id })))).name,
      ).toBe("GoneException");
      const raw = await fetch(`${app.http}/test/@connections/${encodeURIComponent(id)}`, {
        method: "POST",
        body: "early",
      });
      expect(raw.status).toBe(410);
      expect(raw.headers.get("x-amzn-errortype")).toBe("GoneException");
      // All of that happened while the handshake was still held.
      expect(Date.now() - started).toBeLessThan(300);
      expect(app.gateway.management.isPending(id)).toBe(true);

      const ws = await connecting;
      expect(app.gateway.management.isPending(id)).toBe(false);
      await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: "now" }));
      expect(await ws.next()).toBe("now");
      expect(ws.received).not.toContain("early");
      client.destroy();
      await ws.close();
    });

    it("a $connect handler posting to itself through the SDK gets GoneException", async () => {
      const refused = await refusedStatus(`${app.url}/test?selfpost=1`);
      expect(refused.status).toBe(409);
      expect(refused.body).toBe("GoneException:410");
    });
  });

  describe("handlers using the SDK (endpoint from the event's domainName and stage)", () => {
    it("the sdk route echoes through PostToConnection", async () => {
      const ws = await TestClient.connect(`${app.url}/test`);
      const kinds = frameKinds(ws);
      ws.send({ action: "sdk", text: "round trip" });
      expect(await ws.next()).toBe('{"action":"sdk","text":"round trip"}');
      ws.send("not json");
      expect(await ws.next()).toBe("default:not json");
      expect(kinds).toEqual([false, false]);
      await ws.close();
    });
  });
});
