import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runtimeSdk } from "../../src/app/lambda-runtime.js";
import { loadApp } from "../../src/app/load.js";
import { ModuleLoader } from "../../src/app/module-loader.js";

let tmp: string;
let loader: ModuleLoader;
let count = 0;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "switchboard-function-runtime-"));
  loader = new ModuleLoader({ cacheDir: path.join(tmp, ".cache") });
});
afterAll(async () => {
  await loader.dispose();
  await rm(tmp, { recursive: true, force: true });
});

const HANDLER = "export const handler = async () => ({ statusCode: 200 });\n";

async function runtimes(files: Record<string, string>): Promise<Record<string, unknown>> {
  const dir = path.join(tmp, `app-${++count}`);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  const app = await loadApp(dir, { loader });
  return Object.fromEntries(app.routes.map((route) => [route.key, route.target?.runtime]));
}

// Which AWS SDK a function's imports fall back to depends on its runtime: each format's own.
describe("each function's Lambda runtime, as its format declares it", () => {
  it("Serverless: the function's runtime over the provider's", async () => {
    expect(
      await runtimes({
        "serverless.yml": [
          "service: s",
          "provider: { name: aws, runtime: nodejs18.x }",
          "functions:",
          "  a: { handler: h.handler, events: [{ websocket: $default }] }",
          "  b: { handler: h.handler, runtime: nodejs16.x, events: [{ websocket: b }] }",
          "",
        ].join("\n"),
        "h.mjs": HANDLER,
      }),
    ).toEqual({ $default: "nodejs18.x", b: "nodejs16.x" });
  });

  it("Architect: a function's config.arc over the app's @aws runtime; aliases mean the default", async () => {
    expect(
      await runtimes({
        "app.arc": "@app\nrt\n\n@ws\nmine\n\n@aws\nruntime nodejs20.x\n",
        "src/ws/connect/index.mjs": HANDLER,
        "src/ws/disconnect/index.mjs": HANDLER,
        "src/ws/default/index.mjs": HANDLER,
        "src/ws/mine/index.mjs": HANDLER,
        "src/ws/mine/config.arc": "@aws\nruntime nodejs16.x\n",
      }),
    ).toMatchObject({ $default: "nodejs20.x", mine: "nodejs16.x" });
    expect(
      await runtimes({
        "app.arc": "@app\nrt\n\n@ws\n\n@aws\nruntime node\n",
        "src/ws/connect/index.mjs": HANDLER,
        "src/ws/disconnect/index.mjs": HANDLER,
        "src/ws/default/index.mjs": HANDLER,
      }),
    ).toMatchObject({ $default: undefined });
  });

  it("LambdaSharp: a Function's Runtime", async () => {
    expect(
      await runtimes({
        "Module.yml": [
          "Module: A.B",
          "Items:",
          "  - Function: Old",
          "    Runtime: nodejs16.x",
          "    Sources:",
          "      - WebSocket: $default",
          "",
        ].join("\n"),
        "Old/index.mjs": HANDLER,
      }),
    ).toEqual({ $default: "nodejs16.x" });
  });

  it("maps runtimes to the SDK they carry: v2 up to nodejs16.x, v3 from nodejs18.x", () => {
    expect(runtimeSdk("nodejs14.x").version).toBe("v2");
    expect(runtimeSdk("nodejs16.x").version).toBe("v2");
    expect(runtimeSdk("nodejs18.x").version).toBe("v3");
    expect(runtimeSdk("nodejs22.x").version).toBe("v3");
    expect(runtimeSdk(undefined)).toMatchObject({ runtime: "nodejs22.x", version: "v3" });
  });
});
