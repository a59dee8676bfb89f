import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { ConfigError } from "../../src/errors.js";
import { Reject, websocketHandler } from "../../src/runtime/index.js";
import {
  HandshakeRefused,
  type TestGateway,
  testApp,
  testHandler,
  testRoutes,
} from "../../src/testing/index.js";

const open: TestGateway[] = [];
async function track<T extends TestGateway>(t: Promise<T>): Promise<T> {
  const gateway = await t;
  open.push(gateway as unknown as TestGateway);
  return gateway;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe("switchboard/testing: a whole app (examples/chat)", () => {
  it("runs $connect, routes, broadcasts, the two-way route and $disconnect without a server", async () => {
    const t = await track(testApp("examples/chat"));
    const alice = await t.connect({ query: { user: "alice", room: "lobby" } });
    const bob = await t.connect({ query: { user: "bob", room: "lobby" } });
    // $connect stored the row; alice heard bob join.
    expect(await t.table.get(bob.id)).toMatchObject({ user: "bob", room: "lobby" });
    expect((await alice.next()).json()).toMatchObject({ type: "joined", user: "bob" });

    await alice.send({ action: "send", text: "hi" });
    for (const c of [alice, bob]) {
      expect(t.sentTo(c.id).at(-1)?.json()).toMatchObject({
        type: "message",
        from: "alice",
        text: "hi",
      });
      expect(t.sentTo(c.id).at(-1)?.via).toBe("management");
    }

    const { response } = await bob.send({ action: "whoami" });
    expect(response?.via).toBe("route-response");
    expect(response?.json()).toMatchObject({ type: "whoami", user: "bob", room: "lobby" });

    await bob.close(1000, "bye");
    expect(bob.closed).toEqual({ code: 1000, reason: "bye", by: "client" });
    expect(await t.table.get(bob.id)).toBeUndefined();
    expect(alice.received.at(-1)?.json()).toMatchObject({ type: "left", user: "bob" });
    expect(t.invocations.map((r) => r.routeKey)).toEqual([
      "$connect",
      "$connect",
      "send",
      "whoami",
      "$disconnect",
    ]);
  });

  it("refuses as $connect decides: status and body of the handshake answer", async () => {
    const t = await track(testApp("examples/chat"));
    const refused = await t.connect({ query: { user: "mallory" } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HandshakeRefused);
    expect((refused as HandshakeRefused).status).toBe(403);
    const noUser = (await t.connect().catch((e: unknown) => e)) as HandshakeRefused;
    expect([noUser.status, noUser.body, noUser.reason]).toEqual([
      400,
      "user is required",
      "$connect returned 400",
    ]);
    // A path that is neither / nor /{stage} is refused as API Gateway does.
    const wrongStage = (await t
      .connect({ path: "/prod", query: { user: "alice" } })
      .catch((e: unknown) => e)) as HandshakeRefused;
    expect(wrongStage.status).toBe(403);
    expect(t.openIds).toEqual([]);
  });

  it("answers a body that fails the route's schema with AWS's Bad request body frame", async () => {
    const t = await track(testApp("examples/chat"));
    const alice = await t.connect({ query: { user: "alice" } });
    const { response } = await alice.send({ action: "send", text: "" });
    expect(response?.via).toBe("error-frame");
    expect(response?.json()).toMatchObject({ message: "Bad request body" });
    expect(t.invocations.at(-1)?.outcome).toBe("bad-request");
  });
});

describe("switchboard/testing: handlers given in code", () => {
  it("testHandler: one route, its answer, the error frame for a throw", async () => {
    const echo = websocketHandler(async (_event, ctx) => ({ echo: ctx.body }));
    const t = await track(testHandler(echo, { route: "echo", routeResponse: true }));
    const c = await t.connect();
    const { response } = await c.send({ action: "echo", n: 1 });
    expect(response?.json()).toEqual({ echo: { action: "echo", n: 1 } });
    // No route for it and no $default: AWS's Forbidden frame.
    const missing = await c.send({ action: "nope" });
    expect(missing.response?.json()).toMatchObject({ message: "Forbidden" });
  });

  it("testRoutes: authorizer, schemas, ctx.disconnect, typed rows and messages", async () => {
    type Row = { connectionId: string; user: string; room: string };
    type Message = { action: "join"; room: string } | { action: "kick"; id: string };
    const Join = z.object({ action: z.literal("join"), room: z.string().min(1) });
    const t = await track(
      testRoutes<Row, Message>(
        {
          $connect: websocketHandler<Row>(async (_e, ctx) => {
            await ctx.connections.put({
              connectionId: ctx.connectionId,
              user: String(ctx.authorizer?.user),
              room: "none",
            });
          }),
          join: {
            handler: websocketHandler({ body: Join }, async (_e, ctx) => {
              const me = await ctx.connections.get(ctx.connectionId);
              if (me) await ctx.connections.put({ ...me, room: ctx.body.room });
              return { joined: ctx.body.room };
            }),
            routeResponse: true,
          },
          kick: websocketHandler(async (_e, ctx) => {
            await ctx.disconnect((ctx.body as { id: string }).id);
          }),
        },
        {
          authorizer: {
            identitySource: ["route.request.header.Authorization"],
            handler: async (event: { headers: Record<string, string>; methodArn: string }) => {
              if (event.headers.Authorization !== "letmein") throw new Error("Unauthorized");
              return {
                principalId: "u1",
                context: { user: "alice" },
                policyDocument: {
                  Version: "2012-10-17",
                  Statement: [
                    { Action: "execute-api:Invoke", Effect: "Allow", Resource: event.methodArn },
                  ],
                },
              };
            },
          },
        },
      ),
    );
    const denied = (await t
      .connect({ headers: { Authorization: "nope" } })
      .catch((e: unknown) => e)) as HandshakeRefused;
    expect([denied.status, denied.reason]).toEqual([401, "authorizer: Unauthorized"]);
    const missing = (await t.connect().catch((e: unknown) => e)) as HandshakeRefused;
    expect([missing.status, missing.reason]).toEqual([401, "identity source missing"]);

    const a = await t.connect({ headers: { Authorization: "letmein" } });
    const b = await t.connect({ headers: { Authorization: "letmein" } });
    expect(a.authorizer).toMatchObject({ user: "alice", principalId: "u1" });
    const joined = await a.send({ action: "join", room: "blue" });
    expect(joined.response?.json()).toEqual({ joined: "blue" });
    const row = await t.table.get(a.id);
    expectTypeOf(row).toEqualTypeOf<Row | undefined>();
    expect(row?.room).toBe("blue");
    const bad = await a.send({ action: "join", room: "" });
    expect(bad.response?.json()).toMatchObject({ message: "Bad request body" });

    await a.send({ action: "kick", id: b.id });
    expect(await b.waitForClose()).toEqual({
      code: 1000,
      reason: "Connection Closed Normally",
      by: "gateway",
    });
    // @ts-expect-error: not a Message of this app
    await a.send({ action: "fly" }).catch(() => undefined);
  });

  it("plain Lambda handlers, binary messages, the idle limit and next() that times out", async () => {
    const t = await track(
      testRoutes(
        {
          $default: async (event: { body: string }) => ({
            statusCode: 200,
            body: event.body.toUpperCase(),
          }),
        },
        { limits: { idleTimeoutMs: 300 }, waitMs: 100 },
      ),
    );
    const c = await t.connect();
    await c.send("hello");
    // $default is one-way unless declared two-way: nothing comes back.
    await expect(c.next()).rejects.toThrow(/no message/);
    // A binary message: API Gateway closes with 1003.
    await c.send(Buffer.from([0xff]));
    expect(await c.waitForClose()).toMatchObject({ code: 1003, by: "gateway" });
    // Idle past the limit: 1001 Going away.
    const d = await t.connect();
    expect(await d.waitForClose(2000)).toMatchObject({ code: 1001, by: "gateway" });
  });

  it("the subprotocol $connect chose is the connection's", async () => {
    const t = await track(
      testRoutes({
        $connect: async (event: { headers: Record<string, string> }) => {
          const offered = event.headers["Sec-WebSocket-Protocol"];
          if (!offered) return { statusCode: 200 };
          return { statusCode: 200, headers: { "Sec-WebSocket-Protocol": offered.split(",")[0] } };
        },
      }),
    );
    const c = await t.connect({ headers: { "Sec-WebSocket-Protocol": "chat.v2,chat.v1" } });
    expect(c.protocol).toBe("chat.v2");
    expect((await t.connect()).protocol).toBeUndefined();
  });

  it("$connect returning a status refuses with it; Reject carries a body", async () => {
    const t = await track(
      testRoutes({
        $connect: websocketHandler(async (_e, ctx) => {
          if (ctx.queryStringParameters.token !== "ok") throw new Reject(403, "bad token");
        }),
      }),
    );
    const refused = (await t
      .connect({ query: "token=no" })
      .catch((e: unknown) => e)) as HandshakeRefused;
    expect([refused.status, refused.body]).toEqual([403, "bad token"]);
    await expect(t.connect({ query: { token: "ok" } })).resolves.toBeDefined();
  });

  it("routes API Gateway would refuse are refused here too, every problem at once", async () => {
    const noop = async () => ({ statusCode: 200 });
    const error = await testRoutes(
      { $conect: noop, send: noop },
      { authorizer: { handler: noop, identitySource: ["header.Authorization"] } },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.map((i) => `${i.path} — ${i.found}`);
    expect(issues).toEqual([
      'routes.$conect — "$conect" (did you mean $connect?)',
      "authorizer — no $connect route (routes: $conect, send)",
      'authorizer.identitySource.0 — a string ("header.Authorization")',
    ]);
  });
});
