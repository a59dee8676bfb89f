// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Serverless variables (${...}) are mutations to try
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { validateCommand } from "../src/cli/validate.js";
import { runCli } from "./helpers/cli.js";
import { REPO_ROOT, repoScratchDir } from "./helpers/repo-paths.js";

/*
 * Mutation fuzz of `switchboard validate`: every config format's fixture, mutated line- and
 * character-wise (seeded, so a failure replays), must give exit 0 or 1 and a clean message:
 * no stack frame, no "unexpected error". In-process through the function the CLI's validate
 * command runs (same printer); a handful through the real CLI.
 */

const TMP = repoScratchDir("validate-fuzz");
/** Explore beyond the committed runs: FUZZ_SEED=<n> FUZZ_SCALE=<k> npx vitest run <this file>. */
const SEED = Number(process.env.FUZZ_SEED ?? 0x5b0a2d);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);

/** Each config format: the fixture folder, its config file, and the mutations to try. */
const FORMATS: Array<{ name: string; from: string; file: string; runs: number }> = [
  { name: "switchboard.yaml", from: "test/fixtures/basic", file: "switchboard.yaml", runs: 60 },
  { name: "switchboard.json", from: "test/fixtures/basic", file: "switchboard.json", runs: 40 },
  {
    name: "switchboard.config.ts",
    from: "examples/chat",
    file: "switchboard.config.ts",
    runs: 20,
  },
  {
    name: "serverless.yml",
    from: "test/fixtures/serverless-chat",
    file: "serverless.yml",
    runs: 50,
  },
  { name: "app.arc", from: "test/fixtures/architect-chat", file: "app.arc", runs: 40 },
  { name: "template.yaml", from: "test/fixtures/sam-chat", file: "template.yaml", runs: 50 },
  { name: "Module.yml", from: "test/fixtures/lambdasharp-chat", file: "Module.yml", runs: 40 },
];

/** mulberry32: small, seedable, good enough to pick mutations. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALUES = [
  "123",
  "-1",
  "1e400",
  "0x1F",
  "true",
  "null",
  "~",
  "[]",
  "{}",
  '""',
  ".nan",
  "[1, [2, {a: 3}]]",
  "2001-12-14t21:59:43.10-05:00",
  "!!binary aGVsbG8=",
  "!!set {a, b}",
  "!!omap [a: 1]",
  "!!timestamp 2001-12-14",
  "!Ref X",
  "!GetAtt A.Arn",
  "!Sub '${AWS::Region}'",
  "!Unknown x",
  "*nowhere",
  "&anchor value",
  "${self:custom.nothing}",
  "${opt:stage}",
  "${env:NOPE}",
  "${file(nope.yml)}",
  "${cf:stack.out}",
  "${ssm:/path}",
  '"a\\u0000b"',
  "'$connect'",
  "x".repeat(5000),
  "__proto__",
  "constructor",
];

const KEYS = ["__proto__", "constructor", "toString", "hasOwnProperty", "<<", "? complex", "0"];

const INSERTS = [
  "*a",
  "&a ",
  "!!str ",
  "!Ref ",
  "<<: *a",
  "{",
  "[",
  '"',
  "'",
  ": ",
  "- ",
  "\t",
  "#",
  "%YAML 1.2\n---\n",
  "---\n",
  "@ws",
  "@tables",
  "\u0000",
  "\uFEFF",
];

type Mutation = (text: string, rand: () => number) => string;

const pick = <T>(items: readonly T[], rand: () => number): T =>
  items[Math.floor(rand() * items.length)] as T;

const MUTATIONS: Array<[string, Mutation]> = [
  [
    "delete a line",
    (text, rand) => {
      const lines = text.split("\n");
      lines.splice(Math.floor(rand() * lines.length), 1);
      return lines.join("\n");
    },
  ],
  [
    "duplicate a line",
    (text, rand) => {
      const lines = text.split("\n");
      const at = Math.floor(rand() * lines.length);
      lines.splice(at, 0, lines[at] ?? "");
      return lines.join("\n");
    },
  ],
  [
    "swap two characters",
    (text, rand) => {
      const at = Math.floor(rand() * (text.length - 1));
      return text.slice(0, at) + text.charAt(at + 1) + text.charAt(at) + text.slice(at + 2);
    },
  ],
  [
    "insert a token",
    (text, rand) => {
      const at = Math.floor(rand() * text.length);
      return text.slice(0, at) + pick(INSERTS, rand) + text.slice(at);
    },
  ],
  [
    "alias before its anchor",
    (text, rand) => {
      const lines = text.split("\n");
      const a = Math.floor(rand() * lines.length);
      const b = Math.floor(rand() * lines.length);
      const [first, second] = a < b ? [a, b] : [b, a];
      lines[first] = (lines[first] ?? "").replace(/: (.+)$/, ": *x");
      lines[second] = (lines[second] ?? "").replace(/: (.+)$/, ": &x $1");
      return lines.join("\n");
    },
  ],
  [
    "change a value's type",
    (text, rand) => {
      const lines = text.split("\n");
      const candidates = lines.flatMap((line, i) => (/:\s*\S/.test(line) ? [i] : []));
      if (candidates.length === 0) return text;
      const at = pick(candidates, rand);
      lines[at] = (lines[at] ?? "").replace(/(:\s*).*$/, `$1${pick(VALUES, rand)}`);
      return lines.join("\n");
    },
  ],
  [
    "rename a key",
    (text, rand) => {
      const lines = text.split("\n");
      const candidates = lines.flatMap((line, i) => (/^\s*[\w$"'-]+:/.test(line) ? [i] : []));
      if (candidates.length === 0) return text;
      const at = pick(candidates, rand);
      lines[at] = (lines[at] ?? "").replace(/^(\s*)[\w$"'-]+:/, `$1${pick(KEYS, rand)}:`);
      return lines.join("\n");
    },
  ],
  [
    "re-indent a line",
    (text, rand) => {
      const lines = text.split("\n");
      const at = Math.floor(rand() * lines.length);
      lines[at] = rand() < 0.5 ? `  ${lines[at]}` : (lines[at] ?? "").replace(/^\s{1,2}/, "");
      return lines.join("\n");
    },
  ],
  ["truncate", (text, rand) => text.slice(0, Math.floor(rand() * text.length))],
];

/** A stack frame as Node prints it, or a crash that was not turned into a message. */
const CRASH =
  /\n\s+at |unexpected error|This is a bug|\[object Object\]|undefined \(|TypeError|ReferenceError|RangeError|SyntaxError: /;

/** The config error form: a count, then `  file[:line[:col]] path — expected X, found Y` lines. */
const PROBLEMS = /^\d+ problems? in [^\n]+:\n( {2}\S+ [^\n]+ — expected [^\n]+, found [^\n]*\n)+$/;

beforeAll(() => {
  mkdirSync(TMP, { recursive: true });
  for (const format of FORMATS) {
    const dir = path.join(TMP, format.name);
    cpSync(path.join(REPO_ROOT, format.from), dir, {
      recursive: true,
      filter: (src) => !src.includes(`${path.sep}.switchboard`),
    });
    if (format.file === "switchboard.json") {
      // The JSON form of the basic fixture, as a developer would write it.
      const yaml = readFileSync(path.join(dir, "switchboard.yaml"), "utf8");
      rmSync(path.join(dir, "switchboard.yaml"));
      writeFileSync(path.join(dir, format.file), `${JSON.stringify(parse(yaml), null, 2)}\n`);
    }
  }
});
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** Validate one text in-process, as the CLI would. */
async function validateText(dir: string, file: string, text: string) {
  writeFileSync(path.join(dir, file), text);
  let stdout = "";
  let stderr = "";
  const code = await validateCommand(dir, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

describe("mutation fuzz of switchboard validate (seeded)", () => {
  it.each(FORMATS)("$name: every mutation gives 0 or 1 and a clean message", async (format) => {
    const dir = path.join(TMP, format.name);
    const original = readFileSync(path.join(dir, format.file), "utf8");
    // The unmutated fixture is valid: the mutations are what is tested.
    expect((await validateText(dir, format.file, original)).code).toBe(0);
    const rand = random(SEED + format.name.length * 7919);
    const failures: string[] = [];
    for (let run = 0; run < format.runs * SCALE; run++) {
      let text = original;
      const applied: string[] = [];
      // One to three mutations stacked.
      for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) {
        const [name, mutate] = pick(MUTATIONS, rand);
        applied.push(name);
        text = mutate(text, rand);
      }
      const result = await validateText(dir, format.file, text);
      const output = result.stdout + result.stderr;
      const clean =
        (result.code === 0 && /: valid \(\d+ routes\)\n$/.test(result.stdout)) ||
        (result.code === 1 && PROBLEMS.test(result.stderr) && !CRASH.test(output));
      if (!clean) {
        failures.push(
          `run ${run} (${applied.join(", ")}): exit ${result.code}\n--- text\n${text.slice(0, 600)}\n--- output\n${output.slice(0, 1500)}`,
        );
      }
    }
    expect(failures, failures.join("\n\n")).toEqual([]);
  });

  it("the real CLI gives the same clean answers for a handful of mutations", async () => {
    const dir = path.join(TMP, "serverless.yml");
    const file = path.join(dir, "serverless.yml");
    const original = readFileSync(
      path.join(REPO_ROOT, "test/fixtures/serverless-chat/serverless.yml"),
      "utf8",
    );
    const texts = [
      `early: *later\n${original}\nlate: &later 1\n`,
      original.slice(0, Math.floor(original.length / 2)),
      original.replace(/^service: .*$/m, "service: [1, 2]"),
      original.replace(/^provider:/m, "__proto__:"),
    ];
    for (const text of texts) {
      writeFileSync(file, text);
      const result = await runCli(["validate", dir]);
      expect([0, 1]).toContain(result.code);
      expect(result.stdout + result.stderr).not.toMatch(CRASH);
    }
    writeFileSync(file, original);
  });
});
