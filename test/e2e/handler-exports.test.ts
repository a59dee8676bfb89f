import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refusedStatus, TestClient } from "../helpers/client.js";
import { type RunningApp, startApp } from "../helpers/server.js";

// Handler strings resolved as the Lambda Node.js runtime does: CommonJS exports on
// module.exports, ES module exports on the namespace, export paths one dot at a time.
describe("handler export shapes (Serverless Framework service) under switchboard dev", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("serverless-exports");
  });
  afterAll(() => app?.close());

  it("reads each handler string as module + export path", () => {
    expect(
      app.app.routes.map((r) => [r.key, r.target?.file.split("/").pop(), r.target?.export]),
    ).toEqual([
      ["$connect", "connect.js", "default"],
      ["echo", "routes.js", "handlers.echo"],
      ["legacy", "legacy.cjs", "handler"],
      ["$default", "fallback.mjs", "default"],
    ]);
  });

  it("runs module.exports.default on $connect (a 403 refuses)", async () => {
    expect((await refusedStatus(`${app.url}/local?name=nobody`)).status).toBe(403);
  });

  it("runs a nested export path, a function-with-handler .cjs and an .mjs default", async () => {
    const client = await TestClient.connect(`${app.url}/local?name=ann`);
    expect(await client.ask({ action: "echo", text: "hi" })).toEqual({ echo: "hi" });
    expect(await client.ask({ action: "legacy" })).toEqual({ legacy: true, route: "legacy" });
    expect(await client.ask({ action: "other" })).toEqual({ unknown: '{"action":"other"}' });
    await client.close();
  });
});
