import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reloadSummary } from "../../src/cli/reload-summary.js";
import type { ReloadReport } from "../../src/dev/dev-server.js";
import { copyFixture, type RunningApp, startApp } from "../helpers/server.js";

describe("a reload says what changed", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let app: RunningApp;
  beforeAll(async () => {
    ({ dir, cleanup } = await copyFixture("reload"));
    app = await startApp(dir, { watch: true });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  const reloaded = () =>
    new Promise<ReloadReport>((resolve) => app.once("reload", (report) => resolve(report)));

  it("names the files the watcher saw change, and the routes added and removed", async () => {
    const handlers = path.join(dir, "handlers.ts");
    let next = reloaded();
    await writeFile(handlers, `${await readFile(handlers, "utf8")}\nexport const ping = echo;\n`);
    let report = await next;
    expect(report.ok && report.changed).toEqual([handlers]);
    expect(report.ok && report.routes).toEqual({ added: [], removed: [] });

    const config = path.join(dir, "switchboard.yaml");
    next = reloaded();
    await writeFile(
      config,
      (await readFile(config, "utf8")).replace("routes:", "routes:\n  ping: handlers.ts#ping"),
    );
    report = await next;
    expect(report.ok && report.changed).toEqual([config]);
    expect(report.ok && report.routes).toEqual({ added: ["ping"], removed: [] });
    expect(report.ok && reloadSummary(report.changed, report.routes, dir)).toBe(
      "switchboard.yaml changed; routes +ping",
    );
  });

  it("the summary line is bounded and says nothing when nothing is known", () => {
    const files = Array.from({ length: 8 }, (_, i) => `/app/src/f${i}.ts`);
    expect(reloadSummary(files, { added: [], removed: ["old"] }, "/app")).toBe(
      "src/f0.ts, src/f1.ts, src/f2.ts, src/f3.ts, src/f4.ts and 3 more changed; routes -old",
    );
    expect(reloadSummary([], { added: [], removed: [] })).toBe("");
  });
});
