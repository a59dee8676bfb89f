import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refusedStatus, TestClient } from "../helpers/client.js";
import { type RunningApp, startApp } from "../helpers/server.js";

type Stats = {
  calls: number;
  recent: (Record<string, unknown> & {
    headers: Record<string, string>;
    queryStringParameters: Record<string, string>;
    requestContext: Record<string, unknown>;
  })[];
  connects: unknown[];
  disconnects: { connectionId: string; authorizer: Record<string, unknown> }[];
};

describe("REQUEST authorizer on $connect (switchboard.yaml)", () => {
  let app: RunningApp;
  const url = (room?: string) => `${app.url}/test${room === undefined ? "" : `?room=${room}`}`;
  const connect = (token: string, room = "lobby") =>
    TestClient.connect(url(room), { headers: { Authorization: token } });
  /** The authorizer's call count and what handlers recorded, read over an allowed connection. */
  const stats = async (): Promise<Stats> => {
    const client = await connect("allow-observer");
    const result = await client.ask<Stats>({ action: "stats" });
    await client.close();
    return result;
  };

  beforeAll(async () => {
    app = await startApp("authorizer");
  });
  afterAll(() => app?.close());

  it("answers 401 without calling the authorizer when an identity source is missing", async () => {
    const before = (await stats()).calls;
    expect((await refusedStatus(url("lobby"))).status).toBe(401);
    expect((await refusedStatus(url(), { headers: { Authorization: "allow-ann" } })).status).toBe(
      401,
    );
    expect((await refusedStatus(url(""), { headers: { Authorization: "allow-ann" } })).status).toBe(
      401,
    );
    const refused = await refusedStatus(url("lobby"), { headers: { Authorization: "" } });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toEqual({ message: "Unauthorized" });
    // Only the stats connection itself called the authorizer since.
    expect((await stats()).calls).toBe(before + 1);
  });

  it("answers 401 when the authorizer throws Unauthorized", async () => {
    const refused = await refusedStatus(url("lobby"), { headers: { Authorization: "throw" } });
    expect(refused.status).toBe(401);
  });

  it("answers 500 when the authorizer fails otherwise", async () => {
    expect((await refusedStatus(url("lobby"), { headers: { Authorization: "boom" } })).status).toBe(
      500,
    );
  });

  it("answers 403 when the policy denies", async () => {
    const refused = await refusedStatus(url("lobby"), { headers: { Authorization: "deny" } });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toEqual({ message: "Forbidden" });
  });

  it("evaluates the whole policy: an explicit Deny wins over an Allow, whatever the order", async () => {
    const before = await stats();
    for (const token of [
      "policy-allow-then-deny",
      "policy-wildcard-deny",
      "policy-allow-elsewhere",
    ]) {
      const refused = await refusedStatus(url("lobby"), { headers: { Authorization: token } });
      expect({ token, status: refused.status }).toEqual({ token, status: 403 });
      expect(JSON.parse(refused.body)).toEqual({ message: "Forbidden" });
    }
    // A Deny of another route leaves $connect allowed; one Statement object is a list of one.
    for (const token of ["policy-deny-elsewhere", "policy-single-statement"]) {
      const client = await connect(token);
      expect(
        await client.ask<{ authorizer: { principalId: string } }>({ action: "whoami" }),
      ).toMatchObject({ authorizer: { principalId: token } });
      await client.close();
    }
    // The refused handshakes never reached $connect: only the two allowed ones (and stats').
    const after = await stats();
    expect(after.calls).toBe(before.calls + 3 + 2 + 1);
    expect(after.connects.length).toBe(before.connects.length + 2 + 1);
  });

  it("gives the authorizer the AWS REQUEST event", async () => {
    const client = await TestClient.connect(`${app.url}/test?room=blue&x=1`, {
      headers: { Authorization: "allow-eve" },
    });
    await client.close();
    const call = (await stats()).recent.find(
      (event) => event.headers.Authorization === "allow-eve",
    );
    if (!call) throw new Error("the authorizer did not see the allow-eve connection");
    expect(call.type).toBe("REQUEST");
    expect(call.methodArn).toMatch(
      /^arn:aws:execute-api:us-east-1:000000000000:[a-z0-9]{10}\/test\/\$connect$/,
    );
    expect(call.headers.Connection ?? call.headers.connection).toBeTruthy();
    expect(call.queryStringParameters).toEqual({ room: "blue", x: "1" });
    expect(call.multiValueQueryStringParameters).toEqual({ room: ["blue"], x: ["1"] });
    expect(call.requestContext).toMatchObject({
      routeKey: "$connect",
      eventType: "CONNECT",
      stage: "test",
    });
  });

  it("puts principalId and the context (as strings) on $connect, every message and $disconnect", async () => {
    const client = await connect("allow-ann", "red");
    const { connectionId, authorizer } = await client.ask<{
      connectionId: string;
      authorizer: Record<string, unknown>;
    }>({
      action: "whoami",
    });
    expect(authorizer).toMatchObject({
      principalId: "ann",
      user: "ann",
      room: "red",
      level: "3",
      admin: "true",
    });
    expect(typeof authorizer.integrationLatency).toBe("number");
    expect(await client.ask({ action: "whoami" })).toEqual({ connectionId, authorizer });
    await client.close();

    await expect
      .poll(
        async () =>
          (await stats()).disconnects.find((d) => d.connectionId === connectionId)?.authorizer,
      )
      .toEqual(authorizer);
    expect((await stats()).connects).toContainEqual(authorizer);
  });
});

describe("authorizer from a foreign format (serverless.yml, TypeScript handlers)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("serverless-auth");
  });
  afterAll(() => app?.close());

  it("reads the authorizer: function by name, identity sources", () => {
    expect(app.app.authorizer).toMatchObject({
      name: "auth",
      identitySource: ["route.request.querystring.token"],
      target: { export: "handler" },
    });
  });

  it("runs the matrix: missing source 401, Unauthorized 401, Deny 403, Allow with context", async () => {
    expect((await refusedStatus(app.url)).status).toBe(401);
    expect((await refusedStatus(`${app.url}?token=bad`)).status).toBe(401);
    expect((await refusedStatus(`${app.url}?token=deny`)).status).toBe(403);
    const client = await TestClient.connect(`${app.url}/dev?token=abc`);
    expect(await client.ask({ action: "whoami" })).toMatchObject({
      principalId: "user-abc",
      token: "abc",
      score: "42",
    });
    await client.close();
  });
});
