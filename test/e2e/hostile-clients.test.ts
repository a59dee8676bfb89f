import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { TestClient } from "../helpers/client.js";
import { eventually } from "../helpers/eventually.js";
import { FIXTURES, type RunningApp, startApp, tmpdir } from "../helpers/server.js";

type Event = {
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
  headers?: Record<string, string>;
  requestContext: { connectionId: string };
};

/** Send a raw HTTP request on a fresh socket; resolves with the response head (then hangs up). */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString();
      if (text.includes("\r\n\r\n")) {
        resolve(text);
        socket.destroy();
      }
    });
    socket.on("end", () => resolve(text));
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
  });
}

function upgradeRequest(pathAndQuery: string, headers: Record<string, string>): string {
  const lines = [
    `GET ${pathAndQuery} HTTP/1.1`,
    "Host: 127.0.0.1",
    "Connection: Upgrade",
    "Upgrade: websocket",
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** Send `text` as one message split into frames of `frameBytes` (ASCII). */
function sendFragmented(ws: WebSocket, text: string, frameBytes: number): void {
  for (let offset = 0; offset < text.length; offset += frameBytes) {
    const end = Math.min(offset + frameBytes, text.length);
    ws.send(text.slice(offset, end), { fin: end === text.length });
  }
}

describe("a hostile client never crashes the gateway (basic)", () => {
  let app: RunningApp;
  let scratch: string;
  beforeAll(async () => {
    app = await startApp("basic", { staticDir: path.join(FIXTURES, "basic") });
    scratch = await mkdtemp(path.join(tmpdir(), "switchboard-hostile-"));
  });
  afterAll(async () => {
    await app.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it("accepts __proto__ in the query string, as own keys of the $connect event", async () => {
    const client = await TestClient.connect(`${app.url}/test?__proto__=x&constructor=y&a=1`);
    const [connect] = await client.ask<Event[]>({ action: "events" });
    await client.close();
    expect(connect!.queryStringParameters).toEqual({
      ["__proto__"]: "x",
      constructor: "y",
      a: "1",
    });
    expect(connect!.multiValueQueryStringParameters).toEqual({
      ["__proto__"]: ["x"],
      constructor: ["y"],
      a: ["1"],
    });
  });

  it("survives a raw upgrade whose header is named __proto__", async () => {
    const response = await rawRequest(
      app.port,
      upgradeRequest("/test", {
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
        ["__proto__"]: "1",
      }),
    );
    expect(response).toMatch(/^HTTP\/1\.1 101 /);
    const client = await TestClient.connect(app.url);
    expect(await client.ask({ action: "echo", ok: 1 })).toEqual({ action: "echo", ok: 1 });
    await client.close();
  });

  it("routes a deeply nested selection value instead of overflowing the stack", async () => {
    const client = await TestClient.connect(app.url);
    const depth = 15_000;
    const body = `{"action":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    sendFragmented(client.ws, body, 16 * 1024);
    // Unmatched: $default (which posts back `default:<body>`), and the connection stays open.
    expect(await client.next()).toBe(`default:${body}`);
    expect(await client.ask({ action: "echo", still: "open" })).toEqual({
      action: "echo",
      still: "open",
    });
    await client.close();
  });

  it("refuses an invalid handshake without running $connect (no pending connection left)", async () => {
    const idfile = path.join(scratch, "bad-version");
    const invoked: string[] = [];
    const onInvoke = (r: { routeKey: string }) => invoked.push(r.routeKey);
    app.gateway.on("invoke", onInvoke);
    try {
      const response = await rawRequest(
        app.port,
        upgradeRequest(`/test?idfile=${encodeURIComponent(idfile)}`, {
          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
          "Sec-WebSocket-Version": "7",
        }),
      );
      expect(response).toMatch(/^HTTP\/1\.1 400 /);
      expect(invoked).not.toContain("$connect");
      expect(existsSync(idfile)).toBe(false);
    } finally {
      app.gateway.off("invoke", onInvoke);
    }
  });

  it("cleans up when ws refuses the handshake after $connect ran (bad subprotocol header)", async () => {
    const idfile = path.join(scratch, "bad-protocol");
    const response = await rawRequest(
      app.port,
      upgradeRequest(`/test?idfile=${encodeURIComponent(idfile)}`, {
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Protocol": "a b",
      }),
    );
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    const id = await readFile(idfile, "utf8");
    expect(app.gateway.management.isPending(id)).toBe(false);
    // $connect ran, so $disconnect runs too (as for a client that left during $connect).
    const probe = await TestClient.connect(app.url);
    await eventually(async () => {
      const all = await probe.ask<Event[]>({ action: "disconnects" });
      return all.find((e) => e.requestContext.connectionId === id);
    });
    await probe.close();
  });

  it("answers a malformed percent-encoding in a static path without crashing", async () => {
    const response = await fetch(`${app.http}/%E0%A4%A`);
    // Not a file of ours: the gateway's answer for any other path, AWS's 403 Forbidden.
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: "Forbidden" });
    const ok = await fetch(`${app.http}/switchboard.yaml`);
    expect(ok.status).toBe(200);
  });
});
