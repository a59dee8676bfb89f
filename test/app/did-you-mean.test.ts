import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { didYouMean } from "../../src/app/did-you-mean.js";
import { runCli } from "../helpers/cli.js";
import { REPO_ROOT, repoScratchDir } from "../helpers/repo-paths.js";

const TOP = [
  "name",
  "stage",
  "routeSelectionExpression",
  "routes",
  "authorizer",
  "connections",
  "environment",
  "limits",
];

/** Every top-level key of the native format, as `validate` lists them. */
const ALL_TOP = [...TOP, "handler", "secrets", "tables", "seed", "stages"];

describe("didYouMean", () => {
  it.each([
    ["routs", "routes"],
    ["rotues", "routes"],
    ["Routes", "routes"],
    ["stgae", "stage"],
    ["enviroment", "environment"],
    ["routeSelectionExpresion", "routeSelectionExpression"],
    ["authoriser", "authorizer"],
    ["limit", "limits"],
  ])("%s → %s", (written, meant) => {
    expect(didYouMean(written, TOP)).toBe(meant);
  });

  it.each(["colour", "x", "handler", "routing-table", "a".repeat(200)])(
    "%s → no suggestion",
    (written) => {
      expect(didYouMean(written, TOP)).toBeUndefined();
    },
  );

  it("does not suggest a key that is already there, nor between two equally close", () => {
    expect(didYouMean("routs", TOP, ["routes"])).toBeUndefined();
    expect(didYouMean("ab", ["ac", "ad"])).toBeUndefined();
  });
});

describe("switchboard validate: did you mean, in every format that lists its keys", () => {
  const TMP = repoScratchDir("did-you-mean");
  beforeAll(() => mkdirSync(TMP, { recursive: true }));
  afterAll(() => rmSync(TMP, { recursive: true, force: true }));

  const write = (name: string, file: string, text: string) => {
    const dir = path.join(TMP, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, file), text);
    return path.relative(REPO_ROOT, path.join(dir, file));
  };

  it("switchboard.yaml: routs (routes missing)", async () => {
    const file = write("yaml-routs", "switchboard.yaml", "name: chat\nrouts:\n  a: h.mjs#a\n");
    const result = await runCli(["validate", path.dirname(file)]);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split("\n").slice(1)).toEqual([
      `  ${file}:1:1 routes — expected an object of routes, found nothing`,
      `  ${file}:2:1 routs — expected one of ${ALL_TOP.join(", ")}, found unknown key "routs" (did you mean routes?)`,
    ]);
  });

  it("switchboard.yaml: routeResponce, $conect", async () => {
    const file = write(
      "yaml",
      "switchboard.yaml",
      "name: chat\nroutes:\n  $conect: h.mjs#c\n  send:\n    handler: h.mjs#s\n    routeResponce: true\n",
    );
    const result = await runCli(["validate", path.dirname(file)]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split("\n").slice(1);
    expect(lines).toEqual(
      expect.arrayContaining([
        `  ${file}:3:3 routes.$conect — expected $connect, $disconnect, $default or a custom route key not starting with "$", found "$conect" (did you mean $connect?)`,
        `  ${file}:6:5 routes.send.routeResponce — expected one of handler, method, routeResponse, body, timeout, memory, environment, secrets, tables, found unknown key "routeResponce" (did you mean routeResponse?)`,
      ]),
    );
  });

  it("switchboard.json: stgae", async () => {
    const file = write(
      "json",
      "switchboard.json",
      `${JSON.stringify({ name: "chat", stgae: "dev", routes: { $default: "h.mjs#d" } }, null, 2)}\n`,
    );
    const result = await runCli(["validate", path.dirname(file)]);
    expect(result.stderr).toContain(
      `${file}:3:3 stgae — expected one of ${ALL_TOP.join(", ")}, found unknown key "stgae" (did you mean stage?)`,
    );
  });

  it("serverless.yml: a websocket event's rout", async () => {
    const original = readFileSync(
      path.join(REPO_ROOT, "test/fixtures/serverless-chat/serverless.yml"),
      "utf8",
    );
    const text = original.replace(/- websocket:\n(\s+)route:/, "- websocket:\n$1rout:");
    expect(text).not.toBe(original);
    const file = write("serverless", "serverless.yml", text);
    const result = await runCli(["validate", path.dirname(file)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /\.rout — expected one of route, routeResponseSelectionExpression, authorizer, found unknown key "rout" \(did you mean route\?\)/,
    );
  });
});
