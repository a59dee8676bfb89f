import path from "node:path";
import { fileURLToPath } from "node:url";
import { DevServer } from "switchboard/dev";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "./helpers.js";

const APP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// The app served as `switchboard dev` serves it, on a free port, driven by real WebSocket clients.
describe("chat", () => {
  let server: Awaited<ReturnType<typeof DevServer.start>>;
  beforeAll(async () => {
    server = await DevServer.start({ target: APP, port: 0, watch: false, staticDir: false });
  }, 30_000);
  afterAll(() => server?.close());

  it("refuses a connection without a known token (401)", async () => {
    await expect(connect(server.url)).rejects.toThrow("HTTP 401");
    await expect(connect(`${server.url}?token=nope`)).rejects.toThrow("HTTP 401");
  });

  it("delivers a message to everyone in the room, and only there", async () => {
    const alice = await connect(`${server.url}?token=alice-token&room=r1`);
    const bob = await connect(`${server.url}?token=bob-token&room=r1`);
    expect(await alice.next()).toEqual({ type: "joined", user: "bob", room: "r1" });
    alice.send({ action: "send", text: "hi" });
    const message = { type: "message", from: "alice", text: "hi" };
    expect(await alice.next()).toEqual(message);
    expect(await bob.next()).toEqual(message);

    bob.send({ action: "join", room: "r2" });
    expect(await bob.next()).toEqual({ type: "joined", user: "bob", room: "r2" });
    expect(await alice.next()).toEqual({ type: "left", user: "bob", room: "r1" });
    alice.send({ action: "send", text: "anyone?" });
    expect(await alice.next()).toMatchObject({ text: "anyone?" });
    await expect(bob.next(300)).rejects.toThrow("no frame");
    await Promise.all([alice.close(), bob.close()]);
  });

  it("answers an invalid body with Bad request body, as API Gateway", async () => {
    const alice = await connect(`${server.url}?token=alice-token`);
    alice.send({ action: "send", text: "" });
    expect(await alice.next()).toMatchObject({ message: "Bad request body" });
    alice.send({ action: "whoami" });
    expect(await alice.next()).toMatchObject({ type: "whoami", user: "alice", room: "lobby" });
    await alice.close();
  });
});
