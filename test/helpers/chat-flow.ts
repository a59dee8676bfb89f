import { expect } from "vitest";
import { refusedStatus, TestClient } from "./client.js";

/**
 * The chat example's end-to-end flow against a running gateway (`url` = `ws://host:port`):
 * known users get in (an unknown one gets 403, none at all 400), a message reaches the whole
 * room, `whoami` answers on the two-way route, an invalid body gets AWS's exact
 * `Bad request body` frame and reaches nobody, an unknown action falls to `$default`, and a
 * disconnect is announced as `left`. Shared by the source app under `switchboard dev` and the
 * built output served from `dist/`, so both run the same assertions.
 */
export async function runChatFlow(url: string, stage = "dev"): Promise<void> {
  const base = `${url}/${stage}`;
  const alice = await TestClient.connect(`${base}?user=alice`);
  const bob = await TestClient.connect(`${base}?user=bob`);
  expect(await alice.nextJson()).toEqual({ type: "joined", user: "bob", room: "lobby" });

  alice.send({ action: "send", text: "hi bob" });
  for (const client of [alice, bob]) {
    const message = await client.nextJson<Record<string, unknown>>();
    expect(message).toMatchObject({ type: "message", from: "alice", text: "hi bob" });
    expect(message.at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  }

  const who = await bob.ask<Record<string, unknown>>({ action: "whoami" });
  expect(who).toMatchObject({ type: "whoami", user: "bob", room: "lobby" });
  expect(who.connectionId).toMatch(/^[A-Za-z0-9_-]{15}=$/);

  alice.send({ action: "send", text: "" });
  const bad = await alice.next();
  expect(bad).toMatch(
    /^\{"message" : "Bad request body", "connectionId": "[^"]+", "messageId": "[^"]+"\}$/,
  );
  expect(await bob.silentFor(100)).toBe(true);

  expect(await alice.ask({ action: "dance" })).toMatchObject({
    type: "error",
    message: 'unknown action "dance"',
  });

  expect((await refusedStatus(`${base}?user=mallory`)).status).toBe(403);
  expect((await refusedStatus(base)).status).toBe(400);

  await bob.close();
  expect(await alice.nextJson()).toEqual({ type: "left", user: "bob", room: "lobby" });
  await alice.close();
}
