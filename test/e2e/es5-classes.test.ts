import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { type RunningApp, startApp } from "../helpers/server.js";

// Classes compiled to ES5 are constructor functions with prototype methods. Validation and the
// runtime must both take them for classes: instantiated once, methods called on the instance.
describe("classes compiled to ES5 (LambdaSharp method invocation) under switchboard dev", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("lambdasharp-es5");
  });
  afterAll(() => app?.close());

  it("calls own and inherited prototype methods on an instance kept across messages", async () => {
    const client = await TestClient.connect(app.url);
    expect(await client.ask({ action: "echo", text: "hi" })).toEqual({ echo: "hi", calls: 1 });
    expect(await client.ask({ action: "echo", text: "again" })).toEqual({
      echo: "again",
      calls: 2,
    });
    const me = await client.ask<Record<string, unknown>>({ action: "whoami" });
    // The constructors ran (the base class's counter, the subclass's greeting), and both routes
    // of the function share its one instance, as they share the Lambda function's container.
    expect(me).toMatchObject({ greeting: "hello", calls: 3 });
    expect(typeof me.connectionId).toBe("string");
    await client.close();
  });

  it("takes a class with only inherited methods for a class", async () => {
    const client = await TestClient.connect(app.url);
    expect(await client.ask({ action: "dance" })).toEqual({
      kind: "fallback",
      body: '{"action":"dance"}',
    });
    await client.close();
  });
});
