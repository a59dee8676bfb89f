import { access, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReloadReport } from "../../src/dev/dev-server.js";
import { TestClient } from "../helpers/client.js";
import { copyFixture, type RunningApp, startApp } from "../helpers/server.js";

const CONFIG = `# Copied (copyFixture) and edited by the isolated hot-reload suite.
name: reload
stage: test
routeSelectionExpression: $request.body.action
routes:
  echo:
    handler: handlers.ts#echo
    routeResponse: true
  hold:
    handler: handlers.ts#hold
    routeResponse: true
    timeout: 10
`;

/**
 * `hold` writes the file `started` names, then answers once the test creates the file
 * `release` names: the test reloads while it runs.
 */
const handlers = (version: string) => `import { access, writeFile } from "node:fs/promises";

export async function echo(event: { body?: string }) {
  const { text } = JSON.parse(event.body ?? "{}") as { text?: string };
  return { statusCode: 200, body: "${version}:" + text };
}

export async function hold(event: { body?: string }) {
  const { release, started } = JSON.parse(event.body ?? "{}") as { release: string; started: string };
  await writeFile(started, "${version}");
  for (let i = 0; i < 800; i++) {
    try {
      await access(release);
      return { statusCode: 200, body: "${version}:released" };
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return { statusCode: 200, body: "${version}:never released" };
}
`;

describe("hot reload under --isolate (worker threads)", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let app: RunningApp;

  beforeAll(async () => {
    ({ dir, cleanup } = await copyFixture("reload"));
    await writeFile(path.join(dir, "switchboard.yaml"), CONFIG);
    await writeFile(path.join(dir, "handlers.ts"), handlers("v1"));
    app = await startApp(dir, { watch: true, isolate: true });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  /** Write the handlers and wait for the reload (and any that follow within 150 ms). */
  async function reloadTo(version: string): Promise<ReloadReport> {
    const reports: ReloadReport[] = [];
    const onReload = (report: ReloadReport) => reports.push(report);
    app.on("reload", onReload);
    try {
      await writeFile(path.join(dir, "handlers.ts"), handlers(version));
      const deadline = Date.now() + 5000;
      while (reports.length === 0) {
        if (Date.now() > deadline) throw new Error("no reload event");
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

  it("delivers the reply of an invocation running across a reload, and the message queued behind it", async () => {
    const client = await TestClient.connect(app.url);
    expect(await client.next(0).catch(() => "none")).toBe("none");
    client.send({ action: "echo", text: "before" });
    expect(await client.next()).toBe("v1:before");

    const release = path.join(dir, "release");
    const started = path.join(dir, "started");
    client.send({ action: "hold", release, started }); // running in a v1 worker ...
    client.send({ action: "echo", text: "queued" }); // ... and this waits behind it
    for (let i = 0; i < 500; i++) {
      if (
        await access(started).then(
          () => true,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await readFile(started, "utf8")).toBe("v1");
    const report = await reloadTo("v2");
    expect(report.ok).toBe(true);
    await expect(access(release)).rejects.toThrow(); // the invocation is still running
    await writeFile(release, "go");

    // Both answers arrive, in order, from the code they were selected with.
    expect(await client.next(5000)).toBe("v1:released");
    expect(await client.next(5000)).toBe("v1:queued");
    // The connection stayed open, and the next message runs the new code.
    client.send({ action: "echo", text: "after" });
    expect(await client.next()).toBe("v2:after");
    await client.close();
  });
});
