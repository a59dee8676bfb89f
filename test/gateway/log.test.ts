import { EventEmitter } from "node:events";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/gateway/gateway.js";
import { attachLogger } from "../../src/gateway/log.js";
import { TestClient } from "../helpers/client.js";
import { eventually } from "../helpers/eventually.js";
import { type RunningApp, startApp } from "../helpers/server.js";

/** A request with the path sent byte for byte. */
function send(port: number, method: string, pathname: string, body = ""): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: pathname, method }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const LINE = /^\d\d:\d\d:\d\d\.\d{3} /;

describe("the pretty log escapes client input (no forged lines, no terminal sequences)", () => {
  let app: RunningApp;
  const lines: string[] = [];
  beforeAll(async () => {
    app = await startApp("basic");
    attachLogger(app.gateway, { mode: "pretty", color: false, write: (l) => lines.push(l) });
  });
  afterAll(async () => {
    await app?.close();
  });

  it("an @connections id with a newline and ESC stays on its line, escaped", async () => {
    const forged = "x%0a12:00:00.000%20connect%20FAKE%201ms%201.2.3.4%1b[31mRED%e2%80%ae";
    expect(await send(app.port, "POST", `/test/@connections/${forged}`, "hi")).toBe(410);
    await send(app.port, "GET", `/@connections/${forged}`);
    await send(app.port, "DELETE", `/@connections/${forged}`);
    const manage = await eventually(async () =>
      lines.length >= 3 && lines.filter((l) => l.includes("@connections/")).length >= 3
        ? lines.filter((l) => l.includes("@connections/"))
        : undefined,
    );
    for (const line of manage) {
      for (const c of ["\n", "\r", "\u001b", "\u202e"]) expect(line).not.toContain(c);
      expect(line).toContain("x\\n12:00:00.000 connect FAKE 1ms 1.2.3.4\\u001b[31mRED\\u202e");
    }
  });

  it("a close reason with control characters is escaped", async () => {
    const client = await TestClient.connect(app.url);
    await client.close(4000, "bye\n12:00:00.000 connect FORGED\u001b[2J");
    const line = await eventually(async () => lines.find((l) => l.includes("4000")));
    for (const c of ["\n", "\u001b"]) expect(line).not.toContain(c);
    expect(line).toContain("bye\\n12:00:00.000 connect FORGED\\u001b[2J");
  });

  it("every line written starts with a time stamp; continuation lines are indented", () => {
    for (const line of lines) {
      const [first, ...rest] = line.split("\n");
      expect(first).toMatch(LINE);
      expect(first).not.toContain("\u001b");
      for (const more of rest) expect(more.startsWith("  ")).toBe(true);
    }
  });
});

describe("error messages carrying client input are escaped", () => {
  it("an error's message or stack cannot forge a line or colour the terminal", () => {
    const lines: string[] = [];
    const gateway = new EventEmitter() as unknown as Gateway;
    attachLogger(gateway, { mode: "pretty", color: false, write: (l) => lines.push(l) });
    const forged = "bad body: \n12:00:00.000 connect FORGED \u001b[31m\r";
    gateway.emit("invoke", {
      connectionId: "c1",
      routeKey: "send\n12:00:00.000 x",
      functionName: "f",
      outcome: "error",
      durationMs: 1,
      error: new Error(forged),
    });
    gateway.emit("error", { connectionId: "c1\u001b[2J", message: `upgrade failed: ${forged}` });
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      for (const c of ["\r", "\u001b"]) expect(line).not.toContain(c);
      for (const more of line.split("\n").slice(1)) expect(more.startsWith("  ")).toBe(true);
    }
    expect(lines[0]).toContain("send\\n12:00:00.000 x");
  });
});

describe("a memory return is one info line (gateway/memory-return.ts)", () => {
  const report = {
    connections: 3,
    peak: 5000,
    gcs: 2,
    gcMs: 61.26,
    heapBefore: 88.9 * 1048576,
    heapAfter: 24.4 * 1048576,
  };

  it("pretty: what fell, what ran, what the heap came back to", () => {
    const lines: string[] = [];
    const gateway = new EventEmitter() as unknown as Gateway;
    attachLogger(gateway, { mode: "pretty", color: false, write: (l) => lines.push(l) });
    gateway.emit("memory", report);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      / memory {5}connections fell from 5000 to 3, quiet: 2 full GCs \(61ms\), V8 heap 88\.9 → 24\.4 MB$/,
    );
  });

  it("json: the figures in MB and ms; quiet mode leaves it out", () => {
    const lines: string[] = [];
    const gateway = new EventEmitter() as unknown as Gateway;
    attachLogger(gateway, { mode: "json", write: (l) => lines.push(l) });
    attachLogger(gateway, { mode: "quiet", write: (l) => lines.push(l) });
    gateway.emit("memory", report);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toEqual({
      time: expect.any(String),
      level: "info",
      event: "memory",
      connections: 3,
      peak: 5000,
      gcs: 2,
      gcMs: 61.3,
      heapBeforeMB: 88.9,
      heapAfterMB: 24.4,
    });
  });
});
