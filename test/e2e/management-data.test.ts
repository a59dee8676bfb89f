import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "../helpers/eventually.js";
import { type RunningApp, startApp } from "../helpers/server.js";

/** A raw `ws` client recording each message with its type. */
async function open(url: string) {
  const ws = new WebSocket(url);
  const messages: Array<{ data: Buffer; isBinary: boolean }> = [];
  ws.on("message", (data, isBinary) => messages.push({ data: data as Buffer, isBinary }));
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return { ws, messages, closed };
}

describe("@connections POST data that is not UTF-8 (basic)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("basic");
  });
  afterAll(async () => {
    await app?.close();
  });

  const post = (id: string, body: Uint8Array) =>
    fetch(`${app.http}/test/@connections/${encodeURIComponent(id)}`, { method: "POST", body });

  it("arrives as a binary message and the client stays connected", async () => {
    const before = new Set(app.gateway.connectionIds());
    const client = await open(app.url);
    const id = await eventually(async () =>
      app.gateway.connectionIds().find((c) => !before.has(c)),
    );
    const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0xc3]);
    expect((await post(id, bytes)).status).toBe(200);
    expect((await post(id, new TextEncoder().encode("héllo"))).status).toBe(200);
    // Over one frame (32 KiB), fragmented: still one binary message.
    const big = new Uint8Array(70_000).fill(0xff);
    expect((await post(id, big)).status).toBe(200);
    await eventually(async () => (client.messages.length >= 3 ? true : undefined));
    expect(client.messages[0]).toEqual({ data: Buffer.from(bytes), isBinary: true });
    expect(client.messages[1]).toEqual({ data: Buffer.from("héllo"), isBinary: false });
    expect(client.messages[2]?.isBinary).toBe(true);
    expect(client.messages[2]?.data.equals(Buffer.from(big))).toBe(true);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    // Still served: a route answers.
    client.ws.send(JSON.stringify({ action: "echo", n: 1 }));
    await eventually(async () => (client.messages.length >= 4 ? true : undefined));
    expect(JSON.parse(client.messages[3]?.data.toString() ?? "")).toEqual({ action: "echo", n: 1 });
    client.ws.close(1000);
    expect(await client.closed).toBe(1000);
  });
});
