// The app's tests, run with `npm test`: its real config and handlers, served by Switchboard's own
// gateway in memory (`switchboard/testing`). No server, no port, no AWS: each test connects a
// client, sends messages as it, and checks what came back.

import { fileURLToPath } from "node:url";
import { type TestGateway, testApp } from "switchboard/testing";
import { afterEach, beforeEach, expect, it } from "vitest";

/** The project folder: what `switchboard dev` serves. */
const APP = fileURLToPath(new URL("..", import.meta.url));

// A fresh gateway for each test.
let app: TestGateway;
beforeEach(async () => {
  app = await testApp(APP);
});
afterEach(() => app.close());

it("answers ping on its two-way route", async () => {
  const client = await app.connect();
  // A two-way route's return value comes back to the sender as the response.
  const { response } = await client.send({ action: "ping" });
  expect(response?.json()).toMatchObject({ type: "pong" });
});

it("echoes anything else through $default, to the sender only", async () => {
  const client = await app.connect();
  const other = await app.connect();

  // `send` resolves once the handler has run: everything it sent has arrived.
  const { received } = await client.send({ action: "hello", n: 1 });
  expect(received.map((m) => m.json())).toEqual([
    { type: "echo", body: { action: "hello", n: 1 } },
  ]);
  await client.send("not JSON");
  expect(client.received.at(-1)?.json()).toEqual({ type: "echo", body: "not JSON" });
  expect(other.received).toEqual([]);
});
