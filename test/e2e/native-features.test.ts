import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { refusedStatus, TestClient } from "../helpers/client.js";
import { FIXTURES, type RunningApp, startApp } from "../helpers/server.js";

const EXAMPLE = path.join(FIXTURES, "..", "..", "examples", "notes");
const TOKEN = "let-me-in#dev"; // examples/notes/.env: a quoted value with # in it

describe("examples/notes under switchboard dev (handler, secrets, seed, tables, stages)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    delete process.env.NOTES_TOKEN;
    app = await startApp(EXAMPLE);
  });
  afterAll(() => app?.close());

  it("runs the seed once loaded, and its rows reach a handler through ctx.tables and the plain SDK", async () => {
    expect(app.seedReport).toMatchObject({ ok: true });
    const client = await TestClient.connect(`${app.url}?token=${encodeURIComponent(TOKEN)}`);
    const typed = await client.ask<{ notes: Array<Record<string, unknown>> }>({ action: "list" });
    expect(typed.notes).toEqual([
      { room: "lobby", id: "0-welcome", text: "Welcome to the dev notebook", author: "seed" },
    ]);
    const plain = await client.ask<{ notes: unknown[] }>({ action: "listSdk" });
    expect(plain.notes).toEqual(typed.notes);
    // The one handler tells routes apart by ctx.routeKey: add, then list sees it.
    expect(await client.ask({ action: "add", text: "hi", author: "ann" })).toMatchObject({
      added: expect.any(String),
    });
    const after = await client.ask<{ notes: Array<{ text: string }> }>({ action: "list" });
    expect(after.notes.map((n) => n.text)).toEqual(["Welcome to the dev notebook", "hi"]);
    expect(await client.ask({ action: "nope" })).toMatchObject({ error: "unknown action" });
    await client.close();
  });

  it("gives the secret from .env to handlers as an environment variable", async () => {
    expect((await refusedStatus(`${app.url}?token=wrong`)).status).toBe(401);
    expect(app.app.environment.TABLE_NOTES).toBe("notes-dev-notes");
  });
});

describe("native features under switchboard dev: stage overrides, missing secrets, a failing seed", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(FIXTURES, "..", ".tmp-notes-"));
    await cp(EXAMPLE, dir, { recursive: true });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  // In-process dev puts the app's environment (secrets included) in process.env: the
  // environment is the first place a secret is looked for, so each case starts without it.
  beforeEach(() => {
    delete process.env.NOTES_TOKEN;
  });

  it("applies --stage overrides and reads .env.<stage> before .env", async () => {
    await writeFile(path.join(dir, ".env.prod"), "NOTES_TOKEN='prod token'\n");
    const app = await startApp(dir, { stage: "prod" });
    try {
      expect(app.app.stage).toBe("prod");
      expect(app.app.limits.timeoutMs).toBe(10_000);
      expect(app.app.environment.LOG_LEVEL).toBe("warn");
      expect(app.app.environment.TABLE_NOTES).toBe("notes-prod-notes");
      const add = app.app.routes.find((r) => r.key === "add");
      expect(add?.memoryMb).toBe(2048);
      expect(add?.target?.export).toBe("handler");
      const client = await TestClient.connect(`${app.url}?token=prod%20token`);
      await client.close();
    } finally {
      await app.close();
    }
  });

  it("stops the start when a secret is missing, naming it and where it was looked for", async () => {
    await writeFile(path.join(dir, ".env"), "# nothing here\n");
    await writeFile(path.join(dir, ".env.prod"), "OTHER=1\n");
    const error = await startApp(dir).then(
      async (app) => {
        await app.close();
        return undefined;
      },
      (e: Error) => e,
    );
    expect(error?.message).toContain("secrets[0]");
    expect(error?.message).toContain("a value for secret NOTES_TOKEN");
    expect(error?.message).toContain(path.join(dir, ".env.dev"));
    expect(error?.message).toContain(path.join(dir, ".env"));
  });

  it("reports a failing seed and keeps serving", async () => {
    await writeFile(path.join(dir, ".env"), "NOTES_TOKEN=x\n");
    await writeFile(
      path.join(dir, "src", "seed.ts"),
      'export const seed = async () => { throw new Error("seed broke"); };\n',
    );
    const app = await startApp(dir);
    try {
      expect(app.seedReport).toMatchObject({ ok: false, error: "seed broke" });
      const client = await TestClient.connect(`${app.url}?token=x`);
      expect(await client.ask({ action: "list" })).toEqual({ notes: [] });
      await client.close();
    } finally {
      await app.close();
    }
  });
});
