import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReloadReport } from "../../src/dev/dev-server.js";
import { ConfigError, formatConfigIssue } from "../../src/errors.js";
import { TestClient } from "../helpers/client.js";
import { copyFixture, type RunningApp, startApp } from "../helpers/server.js";

const CONFIG = `# Copied (copyFixture) and edited by the hot-reload suite.
name: reload
stage: test
routeSelectionExpression: $request.body.action
routes:
  echo:
    handler: handlers.ts#echo
    routeResponse: true
`;

const handlers = (prefix: string) => `import { decorate } from "./decorate.js";

const PREFIX = "${prefix}";

export async function echo(event: { body?: string }) {
  const { text } = JSON.parse(event.body ?? "{}") as { text?: string };
  return { statusCode: 200, body: decorate(\`\${PREFIX}:\${text}\`) };
}
`;

describe("hot reload (switchboard dev with watch: true)", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let app: RunningApp;
  let client: TestClient;
  let closes = 0;

  beforeAll(async () => {
    ({ dir, cleanup } = await copyFixture("reload"));
    app = await startApp(dir, { watch: true });
    client = await TestClient.connect(app.url);
    client.ws.on("close", () => closes++);
  });
  afterAll(async () => {
    await client?.close();
    await app?.close();
    await cleanup?.();
  });

  /**
   * Write files, then wait for the reload they cause. A write can fire more than one watcher
   * event; reloads that follow within a short quiet period are folded in (the last one wins).
   */
  async function edit(files: Record<string, string | null>): Promise<ReloadReport> {
    const reports: ReloadReport[] = [];
    const onReload = (report: ReloadReport) => reports.push(report);
    app.on("reload", onReload);
    try {
      for (const [name, text] of Object.entries(files)) {
        if (text === null) await rm(path.join(dir, name), { force: true });
        else await writeFile(path.join(dir, name), text);
      }
      const deadline = Date.now() + 5000;
      while (reports.length === 0) {
        if (Date.now() > deadline)
          throw new Error(`no reload event after editing ${Object.keys(files).join(", ")}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      let seen = 0;
      while (seen !== reports.length) {
        seen = reports.length;
        await new Promise((r) => setTimeout(r, 150));
      }
      return reports[reports.length - 1] as ReloadReport;
    } finally {
      app.off("reload", onReload);
    }
  }

  const echo = (text: string) => {
    client.send({ action: "echo", text });
    return client.next();
  };

  it("serves the original code first", async () => {
    expect(await echo("hello")).toBe("v1:hello");
  });

  it("an edited handler answers the next message on the same open connection", async () => {
    const report = await edit({ "handlers.ts": handlers("v2") });
    expect(report.ok).toBe(true);
    expect(await echo("hello")).toBe("v2:hello");
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    expect(closes).toBe(0);
  });

  it("an edited module the handler imports is reloaded too", async () => {
    const report = await edit({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the edited file's own template literal
      "decorate.ts": "export function decorate(text: string): string {\n  return `[${text}]`;\n}\n",
    });
    expect(report.ok).toBe(true);
    expect(await echo("hi")).toBe("[v2:hi]");
    expect(closes).toBe(0);
  });

  it("a route added to the config works on the open connection", async () => {
    const report = await edit({
      "shout.ts":
        "export async function shout(event: { body?: string }) {\n  return { statusCode: 200, body: (event.body ?? '').toUpperCase() };\n}\n",
      "switchboard.yaml": `${CONFIG}  shout:\n    handler: shout.ts#shout\n    routeResponse: true\n`,
    });
    expect(report.ok).toBe(true);
    expect(report.ok && report.app.routes.map((r) => r.key).sort()).toEqual(["echo", "shout"]);
    client.send({ action: "shout", text: "quiet" });
    expect(await client.next()).toBe('{"ACTION":"SHOUT","TEXT":"QUIET"}');
    expect(await echo("still")).toBe("[v2:still]");
    expect(closes).toBe(0);
  });

  it("an invalid config reports a ConfigError naming file, path, expected and found; the last good app keeps serving", async () => {
    const file = path.join(dir, "switchboard.yaml");
    const report = await edit({
      "switchboard.yaml": `${CONFIG}  shout:\n    handler: shout.ts#shout\n    routeResponse: true\n  gone:\n    handler: missing.ts#handler\ncolour: red\n`,
    });
    expect(report.ok).toBe(false);
    const error = (report as { ok: false; error: unknown }).error;
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    const unknownKey = issues.find((i) => i.path === "colour");
    expect(unknownKey).toBeDefined();
    const missing = issues.find((i) => i.path.startsWith("routes.gone"));
    expect(missing).toBeDefined();
    for (const issue of [unknownKey!, missing!]) {
      expect(path.resolve(issue.file)).toBe(file);
      expect(issue.line).toBeGreaterThan(0);
      expect(issue.expected).not.toBe("");
      expect(issue.found).not.toBe("");
      expect((error as ConfigError).message).toContain(formatConfigIssue(issue));
    }
    expect(missing!.found).toMatch(/missing\.ts/);
    expect((error as ConfigError).message).toMatch(
      /switchboard\.yaml:\d+:\d+ colour — expected .+, found .+/,
    );

    // Still the last good app: both routes, new code.
    expect(await echo("kept")).toBe("[v2:kept]");
    client.send({ action: "shout", text: "kept" });
    expect(await client.next()).toBe('{"ACTION":"SHOUT","TEXT":"KEPT"}');
    expect(app.app.routes.map((r) => r.key).sort()).toEqual(["echo", "shout"]);
    expect(closes).toBe(0);
  });

  it("fixing the config serves again", async () => {
    const report = await edit({ "switchboard.yaml": CONFIG });
    expect(report.ok).toBe(true);
    expect(app.app.routes.map((r) => r.key)).toEqual(["echo"]);
    expect(await echo("fixed")).toBe("[v2:fixed]");
    // The removed route falls through: no $default, so AWS's Forbidden frame.
    client.send({ action: "shout", text: "x" });
    expect(JSON.parse(await client.next())).toMatchObject({ message: "Forbidden" });
    expect(closes).toBe(0);
  });

  it("a handler that no longer compiles reports esbuild's file:line message; the old code keeps serving", async () => {
    const broken = handlers("v3").replace("const PREFIX", "const PREFIX =");
    const report = await edit({ "handlers.ts": broken });
    expect(report.ok).toBe(false);
    const { error } = report as { ok: false; error: unknown };
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    // esbuild's location of the error, under the route that uses the module.
    expect(message).toMatch(/handlers\.ts:3:\d+ Unexpected "="/);
    expect(message).toContain("routes.echo.handler");
    expect(await echo("old")).toBe("[v2:old]");

    const fixed = await edit({ "handlers.ts": handlers("v4") });
    expect(fixed.ok).toBe(true);
    expect(await echo("new")).toBe("[v4:new]");
    expect(await readFile(path.join(dir, "handlers.ts"), "utf8")).toContain('"v4"');
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    expect(closes).toBe(0);
  });
});
