import path from "node:path";
import { fileURLToPath } from "node:url";
import { DevServer } from "switchboard/dev";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "./helpers.js";

const APP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// The app served as `switchboard dev` serves it, on a free port, driven by a real WebSocket client.
describe("the app", () => {
  let server: Awaited<ReturnType<typeof DevServer.start>>;
  beforeAll(async () => {
    server = await DevServer.start({ target: APP, port: 0, watch: false, staticDir: false });
  }, 30_000);
  afterAll(() => server?.close());

  it("answers ping on the two-way route", async () => {
    const client = await connect(server.url);
    client.send({ action: "ping" });
    expect(await client.next()).toMatchObject({ type: "pong" });
    await client.close();
  });

  it("echoes anything else through $default", async () => {
    const client = await connect(server.url);
    client.send({ action: "hello", n: 1 });
    expect(await client.next()).toEqual({ type: "echo", body: { action: "hello", n: 1 } });
    client.send("not JSON");
    expect(await client.next()).toEqual({ type: "echo", body: "not JSON" });
    await client.close();
  });
});
