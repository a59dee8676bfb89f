import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "vitest";
import { commandsOf, type DocBlock, lineMatches } from "./doc-blocks.js";
import { installPacked, projectEnv } from "./packed-project.js";
import { REPO_ROOT } from "./repo-paths.js";

const exec = promisify(execFile);

/** What a project gets when its document shows no package.json / tsconfig.json of its own. */
const DEFAULT_PACKAGE = `${JSON.stringify({ name: "docs-example", private: true, type: "module" }, null, 2)}\n`;
const DEFAULT_TSCONFIG = readFileSync(
  path.join(REPO_ROOT, "templates", "minimal", "tsconfig.json"),
  "utf8",
);

/** Run one documented command in the project as a user's shell would; never throws. */
async function runCommand(project: string, cwdFile: string, command: string) {
  const cwd = existsSync(cwdFile) ? readFileSync(cwdFile, "utf8").trim() : project;
  // A `cd` in one command carries over to the next, as in a terminal session.
  const script = `${command}\n__rc=$?; pwd > '${cwdFile}'; exit $__rc`;
  try {
    const { stdout, stderr } = await exec("sh", ["-c", script], {
      cwd,
      env: projectEnv(project),
      timeout: 60_000,
    });
    return { code: 0, stdout, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    const stdout = e.stdout ?? "";
    return {
      code: typeof e.code === "number" ? e.code : 1,
      stdout,
      output: stdout + (e.stderr ?? ""),
    };
  }
}

/** `doc:line` for failure messages, so a broken example names its place. */
const where = (block: DocBlock) => `${block.doc}:${block.line}`;

/**
 * Write, run and type-check one project's blocks in document order, in the folder `project`
 * (made if missing). The project is installed (test/helpers/packed-project.ts) before the first
 * command unless it has a node_modules already.
 */
export async function runDocProject(project: string, blocks: DocBlock[]): Promise<void> {
  mkdirSync(project, { recursive: true });
  const cwdFile = `${project}.cwd`;
  rmSync(cwdFile, { force: true });
  const written = new Map<string, DocBlock>();
  let installed = existsSync(path.join(project, "node_modules"));
  const install = () => {
    if (installed) return;
    installed = true;
    for (const [file, text] of [
      ["package.json", DEFAULT_PACKAGE],
      ["tsconfig.json", DEFAULT_TSCONFIG],
    ] as const) {
      if (!existsSync(path.join(project, file))) writeFileSync(path.join(project, file), text);
    }
    installPacked(project);
  };
  for (const block of blocks) {
    if (block.file) {
      const earlier = written.get(block.file);
      expect(
        earlier,
        `${where(block)}: ${block.file} is already written at line ${earlier?.line}`,
      ).toBeUndefined();
      written.set(block.file, block);
      const file = path.join(project, block.file);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, block.text);
    } else if (block.check) {
      const file = path.join(project, ".docs-check", `line-${block.line}.ts`);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, block.text);
    }
    if (!block.run) continue;
    install();
    for (const { command, expected } of commandsOf(block)) {
      const result = await runCommand(project, cwdFile, command);
      const context = `${where(block)}: $ ${command}\n${result.output}`;
      expect(result.code, context).toBe(block.exit);
      if (expected.length === 0) continue;
      // What a command prints: its stdout (what a script pipes on); a failing command's
      // stderr too, after it (where the CLI reports problems).
      const shown = result.code === 0 ? result.stdout : result.output;
      const actual = shown.replace(/\n$/, "").split("\n");
      expect(actual.length, `${context}\nexpected:\n${expected.join("\n")}`).toBe(expected.length);
      expected.forEach((line, i) => {
        expect(
          lineMatches(line, actual[i] ?? ""),
          `${context}\nline ${i + 1}: expected ${line}`,
        ).toBe(true);
      });
    }
  }
  // Every TypeScript file the document shows, and every `check` snippet, compiles as shown.
  const typescript = [...written.keys()].some((file) => /\.m?ts$/.test(file));
  if (typescript || blocks.some((block) => block.check)) {
    install();
    writeFileSync(
      path.join(project, "tsconfig.docs.json"),
      JSON.stringify({
        extends: "./tsconfig.json",
        compilerOptions: { noEmit: true },
        include: ["**/*.ts", "**/*.mts", ".docs-check/*.ts"],
        exclude: ["node_modules", "**/.switchboard", "**/node_modules"],
      }),
    );
    const tsc = await runCommand(project, cwdFile, `cd '${project}' && tsc -p tsconfig.docs.json`);
    expect(tsc.code, `${blocks[0]?.doc} (${blocks[0]?.project}): tsc\n${tsc.output}`).toBe(0);
  }
}
