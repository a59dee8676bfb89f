import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  OUTPUT_CHARS,
  OUTPUT_LINES,
  PENDING_OUTPUTS,
  TIMELINE_ENTRIES,
  Timeline,
  VALUE_CHARS,
} from "../../src/dev/inspector/timeline.js";
import { Gateway } from "../../src/gateway/gateway.js";
import { FRAME_TEXT_CHARS } from "../../src/gateway/gateway-events.js";
import { MemoryConnectionStore } from "../../src/runtime/connection-store.js";
import { TestClient } from "../helpers/client.js";
import { startDevProcess } from "../helpers/dev-process.js";
import { eventually } from "../helpers/eventually.js";
import { copyFixture, FIXTURES, type RunningApp, startApp } from "../helpers/server.js";

interface Entry {
  seq: number;
  kind: string;
  connectionId?: string;
  routeKey?: string;
  summary: string;
  detail: Record<string, unknown>;
}

const state = async (app: RunningApp) =>
  (await (await fetch(`${app.http}/_switchboard/api/state`)).json()) as {
    app: { routes: { key: string }[] };
    entries: Entry[];
    connections: { connectionId: string; authorizer?: Record<string, unknown> }[];
  };

describe("dev inspector API", () => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("records a handler's error with its stack mapped to the TypeScript source (the CLI)", async () => {
    // A real `switchboard dev` process: vitest replaces the stack formatting in its workers.
    const dev = await startDevProcess(path.join(FIXTURES, "inspector"));
    try {
      // Frames and invocations are recorded once the inspector is in use.
      await fetch(`${dev.http}/_switchboard/api/state`);
      const client = await TestClient.connect(dev.url);
      client.send({ action: "boom", why: "testing" });
      expect(JSON.parse(await client.next())).toMatchObject({ message: "Internal server error" });
      const failed = await eventually(async () => {
        const res = await fetch(`${dev.http}/_switchboard/api/state`);
        const found = ((await res.json()) as { entries: Entry[] }).entries.find(
          (e) => e.kind === "invoke" && e.routeKey === "boom",
        );
        if (!found) throw new Error("no boom invocation yet");
        return found;
      });
      const error = failed.detail.error as { message: string; stack: string };
      expect(error.message).toBe("boom: testing");
      // The bundle's line would be elsewhere: this is the source map at work.
      expect(error.stack).toMatch(/handlers\.ts:9:\d+/);
      expect(failed.detail.outcome).toBe("error");
      expect(dev.output().stdout).toContain(`"inspector":"${dev.http}/_switchboard"`);
      client.ws.close();
    } finally {
      dev.kill();
    }
  });

  it("shows the authorizer's context and the handshake of a connection", async () => {
    app = await startApp("authorizer");
    const client = await TestClient.connect(`${app.url}/test?room=lobby`, {
      headers: { Authorization: "allow-alice" },
    });
    const [id] = app.gateway.connectionIds();
    const res = await fetch(
      `${app.http}/_switchboard/api/connections/${encodeURIComponent(id as string)}`,
    );
    const conn = (await res.json()) as Record<string, unknown>;
    expect(conn).toMatchObject({
      open: true,
      queryStringParameters: { room: "lobby" },
      headers: expect.objectContaining({ Authorization: "allow-alice" }),
      authorizer: expect.objectContaining({ principalId: "alice" }),
    });
    client.ws.close();
  });

  it("re-invokes a recorded event with an edited body (the outcome comes back)", async () => {
    app = await startApp("inspector");
    await state(app);
    const client = await TestClient.connect(app.url);
    client.send("plain text");
    const recorded = await eventually(async () => {
      const found = (await state(app as RunningApp)).entries.find(
        (e) => e.kind === "invoke" && e.routeKey === "$default",
      );
      if (!found) throw new Error("no invocation yet");
      return found;
    });
    const replay = (body: unknown, headers = { "Content-Type": "application/json" }) =>
      fetch(`${(app as RunningApp).http}/_switchboard/api/replay`, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
      });
    const res = await replay({ seq: recorded.seq, body: "edited" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      kind: "ok",
      result: { statusCode: 200, body: "edited" },
    });
    expect((await replay({ seq: 999_999, body: "x" })).status).toBe(404);
    client.ws.close();
  });

  it("records frames out: text cut at FRAME_TEXT_CHARS with the exact size, binary data as base64", async () => {
    app = await startApp("inspector");
    await state(app);
    const client = await TestClient.connect(app.url);
    const [id] = app.gateway.connectionIds() as [string];
    const long = "é".repeat(FRAME_TEXT_CHARS + 10);
    await app.gateway.management.send(id, long);
    await app.gateway.management.send(id, new Uint8Array([0xff, 0xfe, 0x00, 0x01]));
    const frames = await eventually(async () => {
      const found = (await state(app as RunningApp)).entries.filter(
        (e) => e.kind === "frame" && e.detail.direction === "out",
      );
      if (found.length < 2) throw new Error("frames not recorded yet");
      return found.map((e) => e.detail);
    });
    expect(frames[0]).toMatchObject({
      connectionId: id,
      bytes: Buffer.byteLength(long),
      truncated: true,
      binary: false,
      via: "management",
    });
    expect(frames[0]?.data).toBe("é".repeat(FRAME_TEXT_CHARS));
    expect(frames[1]).toMatchObject({ data: "//4AAQ==", bytes: 4, binary: true, truncated: false });
    client.ws.close();
  });

  it("streams a snapshot, then live entries, and the new routes after a hot reload (SSE)", async () => {
    const copy = await copyFixture("inspector");
    try {
      app = await startApp(copy.dir);
      const res = await fetch(`${app.http}/_switchboard/events`);
      expect(res.headers.get("content-type")).toBe("text/event-stream");
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = "";
      const until = async (pattern: RegExp) => {
        const deadline = Date.now() + 5000;
        while (!pattern.test(text)) {
          if (Date.now() > deadline) throw new Error(`no ${pattern} in:\n${text.slice(-2000)}`);
          const { value, done } = await reader.read();
          if (done) throw new Error("stream ended");
          text += new TextDecoder().decode(value);
        }
      };
      await until(/event: snapshot\ndata: .*"key":"boom"/);
      const client = await TestClient.connect(app.url);
      client.send({ action: "nothing" });
      await until(/event: entry\ndata: .*"kind":"invoke".*"routeKey":"\$default"/);
      const config = path.join(copy.dir, "switchboard.yaml");
      await writeFile(
        config,
        `${await readFile(config, "utf8")}  added:\n    handler: handlers.ts#echo\n`,
      );
      expect((await app.reload()).ok).toBe(true);
      await until(/event: app\ndata: .*"key":"added"/);
      await reader.cancel();
      client.ws.close();
    } finally {
      await app?.close();
      app = undefined;
      await copy.cleanup();
    }
  });

  it("keeps at most TIMELINE_ENTRIES entries and cuts large values", async () => {
    const gateway = new Gateway({
      app: await startApp("inspector").then(async (a) => {
        app = a;
        return a.app;
      }),
      invoker: {
        invoke: async () => ({ kind: "ok", result: null, durationMs: 0 }),
        bodySchema: async () => undefined,
      },
      connections: new MemoryConnectionStore({ ttlSeconds: 0, indexes: [] }),
    });
    const timeline = new Timeline(gateway);
    // Frames and invocations only while live (the inspector in use): nothing per message before.
    expect(gateway.listenerCount("frame")).toBe(0);
    expect(gateway.listenerCount("invocation")).toBe(0);
    timeline.startLive();
    expect(gateway.listenerCount("frame")).toBe(1);
    for (let i = 0; i < TIMELINE_ENTRIES + 500; i++) {
      gateway.emit("error", { message: `error ${i}` });
    }
    const entries = timeline.entries();
    expect(entries).toHaveLength(TIMELINE_ENTRIES);
    expect(entries[0]?.summary).toBe("error 500");
    expect(entries.at(-1)?.summary).toBe(`error ${TIMELINE_ENTRIES + 499}`);
    gateway.emit("invocation", {
      connectionId: "c",
      routeKey: "$default",
      functionName: "f",
      event: { requestContext: {}, body: "x".repeat(VALUE_CHARS * 4) },
      outcome: { kind: "ok", result: { big: "y".repeat(VALUE_CHARS * 4) }, durationMs: 1 },
      at: Date.now(),
    });
    const last = timeline.entries().at(-1) as { detail: Record<string, unknown> };
    expect(JSON.stringify(last.detail).length).toBeLessThan(VALUE_CHARS * 3 + 1000);
    expect(last.detail.event).toMatchObject({ bodyTruncated: true });
    expect(last.detail.result).toMatchObject({ truncated: true });
    timeline.close();
    // Detached: the gateway builds no rich reports any more
    expect(gateway.listenerCount("frame")).toBe(0);
    expect(gateway.listenerCount("invocation")).toBe(0);
  });
  it("joins a handler's console lines to its invocation, and leaves them to the terminal when no logger takes them", async () => {
    // Spied before the dev server tags console output: the spies stand for the terminal.
    const printed = vi.spyOn(console, "log").mockImplementation(() => {});
    const printedErrors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      app = await startApp("inspector");
      await state(app); // the inspector in use: invocations are recorded
      const client = await TestClient.connect(app.url);
      client.send({ action: "log", text: "hello" });
      const entry = await eventually(async () =>
        (await state(app as RunningApp)).entries.find(
          (e) => e.kind === "invoke" && e.routeKey === "log",
        ),
      );
      expect(entry.detail.output).toEqual([
        { method: "log", text: "log says hello" },
        { method: "error", text: "log warns on stderr" },
      ]);
      expect(entry.summary).toContain("· 2 console lines");
      // No logger listens here (as with --quiet): the inspector reads copies, the lines still print.
      expect(printed).toHaveBeenCalledWith("log says hello");
      expect(printedErrors).toHaveBeenCalledWith("log warns on stderr");
      client.ws.close();
    } finally {
      await app?.close();
      app = undefined;
      printed.mockRestore();
      printedErrors.mockRestore();
    }
  });

  it("keeps at most OUTPUT_LINES lines and OUTPUT_CHARS characters of an invocation's output, waiting for PENDING_OUTPUTS invocations", async () => {
    app = await startApp("inspector");
    const gateway = new Gateway({
      app: app.app,
      invoker: {
        invoke: async () => ({ kind: "ok", result: null, durationMs: 0 }),
        bodySchema: async () => undefined,
      },
      connections: new MemoryConnectionStore({ ttlSeconds: 0, indexes: [] }),
    });
    const timeline = new Timeline(gateway);
    const print = (requestId: string, text: string) =>
      gateway.emit("outputCopy", { functionName: "f", requestId, method: "log", text });
    const ended = (requestId: string) => {
      gateway.emit("invocation", {
        connectionId: "c",
        routeKey: "log",
        functionName: "f",
        event: { requestContext: { requestId } },
        outcome: { kind: "ok", result: null, durationMs: 1 },
        at: Date.now(),
      });
      return timeline.entries().at(-1)?.detail as Record<string, unknown>;
    };
    // Not recorded before the inspector is in use
    expect(gateway.listenerCount("outputCopy")).toBe(0);
    timeline.startLive();
    expect(gateway.listenerCount("outputCopy")).toBe(1);

    for (let i = 0; i < OUTPUT_LINES + 50; i++) print("many", `line ${i}`);
    const many = ended("many");
    expect(many.output).toHaveLength(OUTPUT_LINES);
    expect((many.output as { text: string }[]).at(-1)?.text).toBe(`line ${OUTPUT_LINES - 1}`);
    expect(many.outputDropped).toBe(50);

    print("long", "x".repeat(OUTPUT_CHARS * 2));
    print("long", "after the cut");
    const long = ended("long");
    expect(long.output).toEqual([
      { method: "log", text: `${"x".repeat(OUTPUT_CHARS)}… (${OUTPUT_CHARS} more characters)` },
    ]);
    expect(long.outputDropped).toBe(1);

    // An invocation that printed nothing has no output; lines are joined once only.
    expect(ended("many")).not.toHaveProperty("output");
    // Lines wait for at most PENDING_OUTPUTS invocations: the oldest are forgotten.
    for (let i = 0; i <= PENDING_OUTPUTS; i++) print(`r${i}`, `from r${i}`);
    expect(ended("r0")).not.toHaveProperty("output");
    expect(ended(`r${PENDING_OUTPUTS}`).output).toEqual([
      { method: "log", text: `from r${PENDING_OUTPUTS}` },
    ]);
    timeline.close();
    expect(gateway.listenerCount("outputCopy")).toBe(0);
  });
});
