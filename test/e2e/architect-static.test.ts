import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { type RunningApp, startApp } from "../helpers/server.js";

// test/fixtures/architect-lobby: @ws paired with @static (folder www), as Architect apps are.

describe("Architect @static under switchboard dev (as Sandbox serves it)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("architect-lobby");
  });
  afterAll(() => app.close());

  it("serves the @static folder (www), not public/", async () => {
    expect(app.staticDir).toBe(app.app.staticDir);
    expect(app.staticDir?.endsWith("www")).toBe(true);
    const page = await fetch(`${app.http}/index.html`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>Lobby</title>");
  });

  it("the page's WebSocket calls reach @ws, in the @aws region with the @aws memory", async () => {
    const client = await TestClient.connect(`${app.url}/testing`);
    expect(await client.ask({ action: "lobby/join", name: "guest" })).toEqual({
      joined: "guest",
      functionName: "arc-lobby-testing-ws-lobby-join",
      region: "eu-west-3",
      memory: "256",
    });
    await client.close();
  });
});
