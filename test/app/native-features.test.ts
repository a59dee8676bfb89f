import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadApp } from "../../src/app/load.js";
import { ModuleLoader } from "../../src/app/module-loader.js";
import { applyStage } from "../../src/app/stage-overrides.js";
import { ConfigError, formatConfigIssue } from "../../src/errors.js";
import { runCli } from "../helpers/cli.js";
import { REPO_ROOT } from "../helpers/repo-paths.js";

const dirs: string[] = [];
const loader = new ModuleLoader({ cacheDir: path.join(os.tmpdir(), "sb-native-features-cache") });
afterAll(async () => {
  await loader.dispose();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const HANDLER = "export async function handler() { return { statusCode: 200 }; }\n";

async function app(yaml: string): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "sb-native-"));
  dirs.push(dir);
  await mkdir(path.join(dir, "src"));
  await writeFile(path.join(dir, "src", "all.ts"), HANDLER);
  await writeFile(path.join(dir, "switchboard.yaml"), yaml);
  return { dir, file: path.join(dir, "switchboard.yaml") };
}

async function problems(dir: string, stage?: string): Promise<string[]> {
  const error = await loadApp(dir, { loader, ...(stage ? { stage } : {}) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).issues.map(formatConfigIssue);
}

describe("native config: handler, secrets, tables, seed, stages", () => {
  it("serves every route without a handler of its own with the top-level handler", async () => {
    const { dir } = await app(
      "name: one\nhandler: src/all.ts#handler\nroutes:\n  $connect: {}\n  send: { routeResponse: true }\n  own: src/all.ts\n",
    );
    const loaded = await loadApp(dir, { loader });
    expect(
      loaded.routes.map((r) => [r.key, r.target?.file, r.target?.export, r.routeResponse]),
    ).toEqual([
      ["$connect", path.join(dir, "src", "all.ts"), "handler", false],
      ["send", path.join(dir, "src", "all.ts"), "handler", true],
      ["own", path.join(dir, "src", "all.ts"), "handler", false],
    ]);
  });

  it("reports each new key's wrong types at its line", async () => {
    const { dir, file } = await app(
      [
        "name: bad", // 1
        "handler: 42", // 2
        "secrets: [MONGODB_URI, 2fa, { name: X, arn: nope }]", // 3
        "seed: []", // 4
        "tables:", // 5
        "  notes:", // 6
        "    partitionKey: 7", // 7
        "    stream: sometimes", // 8
        "    extra: 1", // 9
        "routes:", // 10
        "  send: { handler: src/all.ts, tables: notes }", // 11
        "stages: []", // 12
        "",
      ].join("\n"),
    );
    expect(await problems(dir)).toEqual([
      `${file}:2:1 handler — expected a handler reference ("file#export"), found a number (42)`,
      `${file}:3:24 secrets[1] — expected an environment variable name (letters, digits and _, not starting with a digit), found a string ("2fa")`,
      `${file}:3:40 secrets[2].arn — expected a Secrets Manager ARN (arn:aws:secretsmanager:...), found a string ("nope")`,
      `${file}:4:1 seed — expected a handler reference ("file#export"), found an empty array`,
      `${file}:7:5 tables.notes.partitionKey — expected an attribute name or { name, type }, found a number (7)`,
      `${file}:8:5 tables.notes.stream — expected true, false, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES or KEYS_ONLY, found a string ("sometimes")`,
      `${file}:9:5 tables.notes.extra — expected one of partitionKey, sortKey, indexes, ttl, stream, found unknown key "extra"`,
      `${file}:11:32 routes.send.tables — expected an array of table names, found a string ("notes")`,
      `${file}:12:1 stages — expected an object of stages, found an empty array`,
    ]);
  });

  it("reports a route naming an unknown table, a route with no handler at all, and a bad stage", async () => {
    const { dir, file } = await app(
      [
        "name: bad", // 1
        "tables:", // 2
        "  notes: { partitionKey: id }", // 3
        "routes:", // 4
        "  send: { handler: src/all.ts, tables: [notes, nots] }", // 5
        "  list: { routeResponse: true }", // 6
        "stages:", // 7
        "  prod:", // 8
        "    routes:", // 9
        "      send: { tables: [rooms] }", // 10
        "  my stage: {}", // 11
        "",
      ].join("\n"),
    );
    expect(await problems(dir)).toEqual([
      `${file}:5:48 routes.send.tables[1] — expected one of the declared tables: notes, found "nots" (did you mean notes?)`,
      `${file}:6:3 routes.list.handler — expected a handler ("file#export"), or a top-level handler for every route, found none`,
      `${file}:10:24 stages.prod.routes.send.tables[0] — expected one of the declared tables: notes, found "rooms"`,
      `${file}:11:3 stages["my stage"] — expected a stage name of letters, digits, _ and -, found "my stage"`,
    ]);
  });

  it("names the stage's path when a stage override is wrong, and applies the served stage's", async () => {
    const { dir, file } = await app(
      [
        "name: staged", // 1
        "handler: src/all.ts", // 2
        "routes:", // 3
        "  send: {}", // 4
        "stages:", // 5
        "  prod:", // 6
        "    limits: { timeout: 60 }", // 7
        "    routes:", // 8
        "      send: { memory: 64 }", // 9
        "  beta:", // 10
        "    handler: src/missing.ts", // 11
        "",
      ].join("\n"),
    );
    const found = await problems(dir);
    expect(found).toEqual([
      `${file}:7:15 stages.prod.limits.timeout — expected a number of seconds from 0.05 to 29, found a number (60)`,
      `${file}:9:15 stages.prod.routes.send.memory — expected a whole number of MB from 128 to 10240, found a number (64)`,
    ]);
    const beta = await problems(dir, "beta");
    expect(beta).toContain(
      `${file}:11:5 stages.beta.handler — expected an existing module file, found no file ${path.join(dir, "src", "missing.ts")} (also tried .ts, .mts, .js, .mjs, .cjs and index.*)`,
    );
  });

  it("gives each table's name as TABLE_<NAME> and declares it for the local DynamoDB", async () => {
    const { dir } = await app(
      "name: t\nstage: qa\nhandler: src/all.ts\ntables:\n  chat-rooms: { partitionKey: { name: n, type: number }, ttl: exp }\nroutes:\n  $default: {}\n",
    );
    const loaded = await loadApp(dir, { loader });
    expect(loaded.environment.TABLE_CHAT_ROOMS).toBe("t-qa-chat-rooms");
    expect(loaded.tables).toEqual([
      {
        name: "t-qa-chat-rooms",
        declaredAs: "chat-rooms",
        env: "TABLE_CHAT_ROOMS",
        attributes: { n: "N" },
        key: { hash: "n" },
        ttlAttribute: "exp",
      },
    ]);
  });
});

describe("switchboard validate on the new keys (the CLI)", () => {
  it("prints each problem as file:line path — expected, found and exits 1", async () => {
    const { dir } = await app(
      "name: x\nsecrets: [1BAD, OK]\nhandler: src/all.ts\nroutes:\n  send: { tables: [nope] }\n",
    );
    const result = await runCli(["validate", dir]);
    expect(result.code).toBe(1);
    const file = path.join(dir, "switchboard.yaml");
    expect(result.stderr).toContain(
      `${file}:2:11 secrets[0] — expected an environment variable name (letters, digits and _, not starting with a digit), found a string ("1BAD")`,
    );
    expect(result.stderr).toContain(
      `${file}:5:20 routes.send.tables[0] — expected a table declared under tables (there are none), found "nope"`,
    );
  });

  it("accepts examples/notes", async () => {
    const result = await runCli(["validate", path.join(REPO_ROOT, "examples", "notes")]);
    expect(result.stdout).toContain("valid (6 routes)");
    expect(result.code).toBe(0);
  });
});

describe("applyStage", () => {
  it("merges objects key by key, turns a string route into { handler }, replaces arrays, and keeps schema objects whole", () => {
    class Schema {
      readonly "~standard" = { version: 1 };
      constructor(readonly tag: string) {}
    }
    const base = new Schema("base");
    const over = new Schema("prod");
    const { config } = applyStage(
      {
        name: "a",
        secrets: ["A", "B"],
        routes: { send: "h.ts#send", other: { handler: "h.ts#o", body: base, memory: 256 } },
        stages: {
          prod: { secrets: ["C"], routes: { send: { memory: 2048 }, other: { body: over } } },
        },
      },
      "prod",
    );
    expect(config).toEqual({
      name: "a",
      secrets: ["C"],
      routes: {
        send: { handler: "h.ts#send", memory: 2048 },
        other: { handler: "h.ts#o", body: over, memory: 256 },
      },
    });
    expect((config as { routes: { other: { body: unknown } } }).routes.other.body).toBe(over);
  });
});
