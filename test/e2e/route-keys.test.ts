// biome-ignore-all lint/suspicious/noTemplateCurlyInString: route keys containing "${" are what this suite is about
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { type RunningApp, startApp } from "../helpers/server.js";

describe("route keys that look like syntax ('${', '.', '/')", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("route-keys");
  });
  afterAll(() => app.close());

  it("are valid route keys, kept as written", () => {
    expect(app.app.routes.map((route) => route.key)).toEqual([
      "$default",
      "chat.send",
      "chat/join",
      "echo ${request.body.k}",
      "say ${name}",
    ]);
  });

  it("are selected by exact text; a selected value is never evaluated again", async () => {
    const client = await TestClient.connect(app.url);
    const selected = async (body: unknown) =>
      ((await client.ask(body)) as { routeKey: string }).routeKey;
    expect(await selected({ action: "chat.send" })).toBe("chat.send");
    expect(await selected({ action: "chat/join" })).toBe("chat/join");
    // A selected value is text: "${request.body.k}" inside it is not looked up in the body.
    expect(await selected({ action: "echo ${request.body.k}", k: "chat.send" })).toBe(
      "echo ${request.body.k}",
    );
    expect(await selected({ action: "echo chat.send", k: "chat.send" })).toBe("$default");
    expect(await selected({ action: "${request.body.k}", k: "chat.send" })).toBe("$default");
    expect(await selected({ action: "say ${name}" })).toBe("say ${name}");
    // Nothing in a route key is a placeholder: "say Bob" is no match for "say ${name}".
    expect(await selected({ action: "say Bob", name: "Bob" })).toBe("$default");
    expect(await selected({ action: "chat" })).toBe("$default");
    await client.close();
  });
});
