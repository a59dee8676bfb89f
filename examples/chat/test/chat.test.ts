// The chat example's own test: its real handlers, config and connection table, run by the
// real gateway in memory (`switchboard/testing`): no server, no port, no AWS.

import { type HandshakeRefused, type TestGateway, testApp } from "switchboard/testing";
import { afterEach, beforeEach, expect, it } from "vitest";

type Row = { connectionId: string; user: string; room: string };
type Message = { action: "send"; text: string } | { action: "whoami" };

let chat: TestGateway<Row, Message>;
beforeEach(async () => {
  chat = await testApp<Row, Message>(new URL("..", import.meta.url).pathname);
});
afterEach(() => chat.close());

it("delivers a message to everyone in the room", async () => {
  const alice = await chat.connect({ query: { user: "alice", room: "lobby" } });
  const bob = await chat.connect({ query: { user: "bob", room: "lobby" } });
  await alice.send({ action: "send", text: "hi" });
  expect((await bob.next()).json()).toMatchObject({ type: "message", from: "alice", text: "hi" });
  expect((await chat.table.get(bob.id))?.room).toBe("lobby");
});

it("answers whoami on the two-way route", async () => {
  const carol = await chat.connect({ query: { user: "carol" } });
  const { response } = await carol.send({ action: "whoami" });
  expect(response?.json()).toMatchObject({ type: "whoami", user: "carol", room: "lobby" });
});

it("refuses users it does not know", async () => {
  await expect(chat.connect({ query: { user: "mallory" } })).rejects.toMatchObject({
    status: 403,
  } satisfies Partial<HandshakeRefused>);
});
