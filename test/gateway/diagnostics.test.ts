import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachLogger } from "../../src/gateway/log.js";
import { refusedStatus, TestClient } from "../helpers/client.js";
import { eventually } from "../helpers/eventually.js";
import { type RunningApp, startApp } from "../helpers/server.js";

type Line = Record<string, unknown> & { event: string; level: string };

describe("diagnostics: the log says why (switchboard dev, real sockets, --json lines)", () => {
  let app: RunningApp;
  const lines: Line[] = [];
  const raw: string[] = [];
  const pretty: string[] = [];
  beforeAll(async () => {
    app = await startApp("diagnostics");
    attachLogger(app.gateway, {
      mode: "json",
      payloads: true,
      write: (l) => {
        raw.push(l);
        lines.push(JSON.parse(l) as Line);
      },
    });
    attachLogger(app.gateway, {
      mode: "pretty",
      color: false,
      payloads: true,
      write: (l) => pretty.push(l),
    });
  });
  afterAll(async () => {
    await app?.close();
  });
  const find = (pred: (l: Line) => boolean) => eventually(async () => lines.find(pred));

  it("a handshake on a wrong stage path is logged as refused, with the path", async () => {
    expect((await refusedStatus(`${app.url}/prod?token=ok`)).status).toBe(403);
    const line = await find((l) => l.event === "connect" && l.status === 403);
    expect(line.reason).toBe('path "/prod" is not the WebSocket URL (/ or /test)');
    expect(line.connectionId).toBeUndefined();
  });

  it("an authorizer deny (throw Unauthorized) is a denial: a warning without a stack", async () => {
    expect((await refusedStatus(`${app.url}/test?token=bad`)).status).toBe(401);
    const invoke = await find(
      (l) => l.event === "invoke" && l.routeKey === "$connect (authorizer)",
    );
    expect(invoke).toMatchObject({ outcome: "denied", level: "warn" });
    expect(invoke.error).toBeUndefined();
    const connect = await find((l) => l.event === "connect" && l.status === 401);
    expect(connect.reason).toBe("authorizer: Unauthorized");
    const line = await eventually(async () => pretty.find((l) => l.includes("denied")));
    expect(line).not.toMatch(/\n|at /);
  });

  it("a body that fails its schema logs the issues; the client gets only AWS's frame", async () => {
    const client = await TestClient.connect(`${app.url}/test?token=ok`);
    client.send(JSON.stringify({ action: "typed", count: "three" }));
    const frame = await client.nextJson();
    expect(frame).toMatchObject({ message: "Bad request body" });
    expect(JSON.stringify(frame)).not.toContain("count");
    const invoke = await find((l) => l.event === "invoke" && l.outcome === "bad-request");
    expect(invoke.level).toBe("warn");
    expect(invoke.issues).toEqual([expect.stringMatching(/^count: /)]);
    await client.close();
  });

  it("console output of a handler is tagged with function and connection; --json stays JSON", async () => {
    const client = await TestClient.connect(`${app.url}/test?token=ok`);
    client.send(JSON.stringify({ action: "talk" }));
    await client.next();
    const said = await find((l) => l.event === "output" && l.method === "log");
    expect(said.level).toBe("info");
    expect(said).toMatchObject({
      functionName: "diag-test-talk",
      text: "handler says hello { n: 1 }",
    });
    expect(typeof said.connectionId).toBe("string");
    const complained = await find((l) => l.event === "output" && l.method === "error");
    expect(complained.level).toBe("error");
    expect(complained.text).toBe("and complains");
    // Every line written was one JSON object (the parse in `write` would have thrown).
    expect(raw.length).toBe(lines.length);
    await client.close();
  });

  it("a crash's stack points at the source file, without the gateway's frames", async () => {
    const client = await TestClient.connect(`${app.url}/test?token=ok`);
    client.send(JSON.stringify({ action: "crash" }));
    await client.next();
    const invoke = await find((l) => l.event === "invoke" && l.outcome === "error");
    const stack = String(invoke.error);
    expect(stack).toMatch(/^Error: kaboom\n/);
    expect(stack).toMatch(/diagnostics\/handlers\.ts:32:9\)\n\s+at crash \(.*handlers\.ts:37:3\)/);
    expect(stack).not.toContain(".switchboard/modules");
    expect(stack).not.toContain("node:internal");
    expect(stack).not.toMatch(/src\/invoker|dist\/invoker/);
    await client.close();
  });

  it("--log-payloads: what clients send and receive is on the line, escaped", async () => {
    const client = await TestClient.connect(`${app.url}/test?token=ok`);
    client.send(JSON.stringify({ action: "talk", note: "a\nb\u001b[2J" }));
    await client.next();
    const message = await find((l) => l.event === "message" && String(l.payload).includes("note"));
    expect(JSON.parse(String(message.payload))).toEqual({ action: "talk", note: "a\nb\u001b[2J" });
    const sent = await find((l) => l.event === "send" && String(l.payload).includes("note"));
    expect(sent.via).toBe("route-response");
    const line = await eventually(async () =>
      pretty.find((l) => / message +\S+ talk /.test(l) && l.includes("note")),
    );
    expect(line).not.toContain("\u001b");
    expect(line).toContain("\\u001b[2J");
    await client.close();
  });

  it("without --log-payloads no payload is logged", async () => {
    const plain: string[] = [];
    const detach = attachLogger(app.gateway, { mode: "json", write: (l) => plain.push(l) });
    const client = await TestClient.connect(`${app.url}/test?token=ok`);
    client.send(JSON.stringify({ action: "talk", secret: "s3cr3t" }));
    await client.next();
    await client.close();
    detach();
    expect(plain.length).toBeGreaterThan(0);
    expect(plain.join("\n")).not.toContain("s3cr3t");
  });
});

describe("diagnostics under --isolate: worker threads' console output is tagged too", () => {
  let app: RunningApp;
  const lines: Line[] = [];
  beforeAll(async () => {
    app = await startApp("diagnostics", { isolate: true });
    attachLogger(app.gateway, {
      mode: "json",
      write: (l) => lines.push(JSON.parse(l) as Line),
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it("an output line with the function and the connection, one JSON object", async () => {
    const client = await TestClient.connect(`${app.url}/test?token=ok`);
    client.send(JSON.stringify({ action: "talk" }));
    await client.next();
    const said = await eventually(async () =>
      lines.find((l) => l.event === "output" && l.method === "log"),
    );
    expect(said).toMatchObject({
      functionName: "diag-test-talk",
      connectionId: expect.any(String),
      text: "handler says hello { n: 1 }",
      level: "info",
    });
    await client.close();
  });
});
