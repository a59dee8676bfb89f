import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { type RunningApp, startApp } from "../helpers/server.js";

// A connection's queue goes on through callbacks (gateway/connection.ts): the next message may
// start from the previous one's answer, but never while the previous handler is on the stack.
describe("a connection's messages: one at a time, each after the previous handler returned", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("message-order");
  });
  afterAll(() => app.close());

  const pipelined = async (client: TestClient, action: string, count: number) => {
    for (let n = 1; n <= count; n++) client.send({ action, n });
    const answers: unknown[] = [];
    for (let n = 1; n <= count; n++) answers.push(await client.next());
    return answers;
  };

  it.each(["callback", "succeed"])(
    "a handler that answers through %s before returning finishes before the next starts",
    async (action) => {
      const client = await TestClient.connect(app.url);
      expect(await pipelined(client, action, 3)).toEqual(["1", "2", "3"]);
      expect(await client.ask({ action: "trace" })).toEqual([
        "enter 1",
        "exit 1",
        "enter 2",
        "exit 2",
        "enter 3",
        "exit 3",
      ]);
      await client.close();
    },
  );

  it("a handler that answers from its own timer: the next starts after that callback", async () => {
    const client = await TestClient.connect(app.url);
    expect(await pipelined(client, "later", 2)).toEqual(["1", "2"]);
    expect(await client.ask({ action: "trace" })).toEqual([
      "enter 1",
      "exit 1",
      "answer 1",
      "after 1",
      "enter 2",
      "exit 2",
      "answer 2",
      "after 2",
    ]);
    await client.close();
  });
});
