// The chat's tests, run with `npm test`: its real config, handlers and connection table, served
// by Switchboard's own gateway in memory (`switchboard/testing`). No server, no port, no AWS:
// each test connects clients, sends messages as them, and checks what reached whom.

import { fileURLToPath } from "node:url";
import { type TestGateway, testApp } from "switchboard/testing";
import { afterEach, beforeEach, expect, it } from "vitest";

/** A row of the connection table, as `src/connect.ts` writes it. */
type Row = { connectionId: string; user: string; room: string };
/** What a client sends (a string is accepted too, for malformed input). */
type Message =
  | { action: "send"; text: string }
  | { action: "join"; room: string }
  | { action: "whoami" };

/** The project folder: what `switchboard dev` serves. */
const APP = fileURLToPath(new URL("..", import.meta.url));

// A fresh gateway for each test: no connections, an empty table.
let chat: TestGateway<Row, Message>;
beforeEach(async () => {
  chat = await testApp<Row, Message>(APP);
});
afterEach(() => chat.close());

it("refuses a connection without a known token (401, as API Gateway answers)", async () => {
  await expect(chat.connect()).rejects.toMatchObject({ status: 401 });
  await expect(chat.connect({ query: { token: "nope" } })).rejects.toMatchObject({ status: 401 });
});

it("delivers a message to everyone in the sender's room, and nowhere else", async () => {
  const alice = await chat.connect({ query: { token: "alice-token", room: "r1" } });
  const bob = await chat.connect({ query: { token: "bob-token", room: "r1" } });
  const elsewhere = await chat.connect({ query: { token: "bob-token", room: "r2" } });

  // `send` resolves once the handler has run: everything it sent has arrived.
  await alice.send({ action: "send", text: "hi" });

  const message = { type: "message", from: "alice", text: "hi" };
  expect(alice.received.map((m) => m.json())).toEqual([
    { type: "joined", user: "bob", room: "r1" },
    message,
  ]);
  expect(bob.received.map((m) => m.json())).toEqual([message]);
  expect(elsewhere.received).toEqual([]);
});

it("answers join and whoami on their two-way routes, and keeps the table up to date", async () => {
  const alice = await chat.connect({ query: { token: "alice-token" } });
  const bob = await chat.connect({ query: { token: "bob-token" } });
  expect(await chat.table.get(bob.id)).toMatchObject({ user: "bob", room: "lobby" });

  // A two-way route's return value comes back to the sender as the response.
  const { response } = await bob.send({ action: "join", room: "games" });
  expect(response?.json()).toEqual({ type: "joined", user: "bob", room: "games" });
  expect(await chat.table.get(bob.id)).toMatchObject({ room: "games" });
  expect((await chat.table.query("room", "lobby")).map((row) => row.user)).toEqual(["alice"]);
  expect(alice.received.at(-1)?.json()).toEqual({ type: "left", user: "bob", room: "lobby" });

  const whoami = await bob.send({ action: "whoami" });
  expect(whoami.response?.json()).toEqual({
    type: "whoami",
    connectionId: bob.id,
    user: "bob",
    room: "games",
  });

  // Closing runs $disconnect: the row is gone.
  await bob.close();
  expect(await chat.table.get(bob.id)).toBeUndefined();
});

it("answers a body that fails its schema with Bad request body, without running the handler", async () => {
  const alice = await chat.connect({ query: { token: "alice-token" } });
  const bob = await chat.connect({ query: { token: "bob-token" } });
  const { response } = await alice.send({ action: "send", text: "" });
  expect(response?.json()).toMatchObject({ message: "Bad request body" });
  expect(bob.received).toEqual([]);

  // Anything without a route of its own goes to $default.
  const unknown = await alice.send("not JSON");
  expect(unknown.received.map((m) => m.json())).toEqual([
    { type: "error", message: "unknown message", actions: ["send", "join", "whoami"] },
  ]);
});
