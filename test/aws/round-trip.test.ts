import { mkdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadApp } from "../../src/app/load.js";
import { ModuleLoader } from "../../src/app/module-loader.js";
import { buildAwsApp } from "../../src/aws/build.js";
import { runChatFlow } from "../helpers/chat-flow.js";
import { CHAT_EXAMPLE, repoScratchDir } from "../helpers/repo-paths.js";
import { type RunningApp, startApp } from "../helpers/server.js";

const TMP = repoScratchDir("round-trip");
const OUT = path.join(TMP, "dist");

beforeAll(async () => {
  await mkdir(TMP, { recursive: true });
  await buildAwsApp({ target: CHAT_EXAMPLE, outDir: OUT });
});

afterAll(async () => {
  await rm(TMP, { recursive: true, force: true });
});

describe("round trip: the build output loads as an app", () => {
  it("reads routes, functions, route responses, stage and environment from template.json and the zips", async () => {
    const loader = new ModuleLoader({ cacheDir: path.join(TMP, "modules") });
    try {
      const app = await loadApp(OUT, { loader });
      expect(app.source).toEqual({
        file: path.join(OUT, "manifest.json"),
        format: "switchboard-build",
      });
      expect(app.name).toBe("chat");
      expect(app.stage).toBe("dev");
      expect(app.routeSelectionExpression).toBe("$request.body.action");
      expect(
        app.routes.map((r) => [r.key, r.functionName, r.routeResponse, r.timeoutMs, r.memoryMb]),
      ).toEqual([
        ["$connect", "Connect", false, 29_000, 1024],
        ["$disconnect", "Disconnect", false, 29_000, 1024],
        ["send", "Send", false, 29_000, 1024],
        ["whoami", "Whoami", true, 29_000, 1024],
        ["$default", "Default", false, 29_000, 1024],
      ]);
      for (const route of app.routes) {
        expect(route.target).toEqual({
          file: path.join(
            OUT,
            ".switchboard",
            "functions",
            route.functionName as string,
            "index.mjs",
          ),
          export: "handler",
        });
        expect((await stat(route.target?.file ?? "")).isFile()).toBe(true);
        expect(route.environment).toEqual({});
      }
      // The AWS-only variables (table, @connections endpoint, NODE_OPTIONS) are the gateway's business.
      expect(app.environment).toEqual({ CHAT_USERS: "alice,bob,carol,dave,erin" });
      expect(app.connections).toEqual({ ttlSeconds: 7200, indexes: ["room", "user"] });
      expect(app.authorizer).toBeUndefined();
      // Loading again keeps the unpacked code (same sha256).
      const marker = path.join(OUT, ".switchboard", "functions", "Send", ".sha256");
      const before = (await stat(marker)).mtimeMs;
      await loadApp(path.join(OUT, "manifest.json"), { loader, stage: "local" }).then((again) =>
        expect(again.stage).toBe("local"),
      );
      expect((await stat(marker)).mtimeMs).toBe(before);
      const manifest = JSON.parse(await readFile(path.join(OUT, "manifest.json"), "utf8"));
      expect(await readFile(marker, "utf8")).toBe(
        manifest.functions.find((f: { name: string }) => f.name === "Send").sha256,
      );
    } finally {
      await loader.dispose();
    }
  });
});

describe("round trip: examples/chat built, then served from dist/ by the dev gateway", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp(OUT);
  });
  afterAll(() => app?.close());

  it("passes the same chat flow as the source app under switchboard dev", async () => {
    expect(app.app.source.format).toBe("switchboard-build");
    await runChatFlow(app.url);
  });
});

describe("the chat flow on the source app (switchboard dev examples/chat)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp(CHAT_EXAMPLE);
  });
  afterAll(() => app?.close());

  it("passes the chat flow", async () => {
    expect(app.app.source.format).toBe("switchboard-ts");
    await runChatFlow(app.url);
  });
});
