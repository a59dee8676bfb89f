// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Serverless variables, written as users write them
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAwsApp } from "../../src/aws/build.js";
import type { CfnTemplate } from "../../src/aws/compile-template.js";
import { refusedStatus, TestClient } from "../helpers/client.js";
import { repoScratchDir } from "../helpers/repo-paths.js";
import { FIXTURES, type RunningApp, startApp } from "../helpers/server.js";

// test/fixtures/serverless-relay: a service whose functions declare their own runtime, memory,
// timeout and environment (the authorizer's too), whose region is a variable, and which
// declares the `ping` route on two functions.

describe("serverless-relay under switchboard dev: what the service declares is what runs", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("serverless-relay");
  });
  afterAll(() => app.close());

  it("resolves provider.region from ${opt:region, 'eu-north-1'} and runs the gateway there", () => {
    expect(app.app.region).toBe("eu-north-1");
    expect(app.gateway.region).toBe("eu-north-1");
  });

  it("runs the authorizer with its declared memory, timeout, environment and name", async () => {
    expect((await refusedStatus(`${app.url}/dev?token=wrong`)).status).toBe(403);
    const client = await TestClient.connect(`${app.url}/dev?token=letmein`);
    const seen = await client.ask<{
      authorizer: Record<string, unknown>;
      functionName: string;
      region: string;
    }>({ action: "anything" });
    expect(seen.authorizer).toMatchObject({
      principalId: "relay-user",
      functionName: "relay-dev-auth",
      memory: "1024",
      region: "eu-north-1",
    });
    // 6 s declared (not the gateway's 29 s, not 10 s): what is left when it ran is at most that.
    expect(Number(seen.authorizer.budgetMs)).toBeLessThanOrEqual(6000);
    expect(Number(seen.authorizer.budgetMs)).toBeGreaterThan(5000);
    expect(seen).toMatchObject({ functionName: "relay-dev-relay", region: "eu-north-1" });
    await client.close();
  });

  it("gives `ping` to the later function (pong) and warns naming both", async () => {
    expect(app.app.warnings?.map((w) => w.message)).toEqual([
      'route "ping" is declared by function relay and again by function pong; function pong gets it (the later declaration wins, as in serverless deploy)',
    ]);
    const client = await TestClient.connect(`${app.url}/dev?token=letmein`);
    // pong writes and reads its table through an SDK client in eu-north-1: the local DynamoDB
    // is reached in the region the code uses, not only the gateway's.
    expect(await client.ask({ action: "ping" })).toEqual({
      pong: true,
      functionName: "relay-dev-pong",
      memory: "256",
      region: "eu-north-1",
    });
    await client.close();
  });
});

describe("serverless-relay built for AWS: the template deploys what the service declares", () => {
  const TMP = repoScratchDir("serverless-relay-build");
  let template: CfnTemplate;
  beforeAll(async () => {
    const result = await buildAwsApp({
      target: path.join(FIXTURES, "serverless-relay"),
      outDir: path.join(TMP, "out"),
    });
    template = JSON.parse(await readFile(result.templateFile, "utf8")) as CfnTemplate;
  }, 60_000);
  afterAll(async () => {
    const { rm } = await import("node:fs/promises");
    await rm(TMP, { recursive: true, force: true });
  });

  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
  const fn = (id: string): Record<string, any> =>
    // biome-ignore lint/suspicious/noExplicitAny: as above
    (template.Resources[`${id}Function`]?.Properties ?? {}) as Record<string, any>;

  it("honours each function's runtime, memory, timeout and environment, the authorizer's included", () => {
    expect(fn("Authorizer")).toMatchObject({ Runtime: "nodejs22.x", MemorySize: 1024, Timeout: 6 });
    expect(fn("Authorizer").Environment.Variables).toMatchObject({
      AUTH_SECRET: "letmein",
      RELAY_TABLE: "relay-messages-dev",
    });
    expect(fn("RelayDevConnect")).toMatchObject({
      Runtime: "nodejs20.x",
      MemorySize: 512,
      Timeout: 10,
    });
    expect(fn("RelayDevPong")).toMatchObject({ Runtime: "nodejs20.x", MemorySize: 256 });
  });

  it("creates no connection table: the service never uses Switchboard's", () => {
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).not.toContain("AWS::DynamoDB::Table");
    expect(template.Resources.ConnectionTable).toBeUndefined();
    for (const resource of Object.values(template.Resources)) {
      expect(JSON.stringify(resource)).not.toContain("SWITCHBOARD_CONNECTION_TABLE");
    }
  });
});
