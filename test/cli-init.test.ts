import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { runnableBlocks } from "./helpers/doc-blocks.js";
import { runDocProject } from "./helpers/doc-project.js";
import { installPacked, packedPackage, projectEnv } from "./helpers/packed-project.js";

const run = promisify(execFile);

/** A command in a project folder, as its user would type it; never throws (the result says). */
async function sh(cwd: string, command: string) {
  try {
    const { stdout, stderr } = await run("sh", ["-c", command], {
      cwd,
      env: projectEnv(cwd),
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

const ROOT = mkdtempSync(path.join(os.tmpdir(), "switchboard-init-"));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

// `switchboard init` from the packed package (what `npx switchboard init` runs after an install),
// then the generated project's own `npm install` stood in for by linking the packed package
// and the repository's node_modules (offline): it validates and passes its own `npm test`
// (tsc, then its vitest suite on the test kit, `switchboard/testing`), its README's examples
// run, and its tests catch a broken handler.
describe.each([
  {
    template: "chat",
    test: "test/chat.test.ts",
    // The message a room gets is not the one sent: the delivery test must see it.
    breakage: { file: "src/chat.ts", from: "text: ctx.body.text", to: 'text: "?"' },
    catches: "delivers a message to everyone in the sender's room",
  },
  {
    template: "minimal",
    test: "test/app.test.ts",
    breakage: { file: "src/echo.ts", from: 'type: "echo"', to: 'type: "ohce"' },
    catches: "echoes anything else through $default",
  },
])("switchboard init --template $template", ({ template, test: testFile, breakage, catches }) => {
  it("makes a project that validates and passes its own tests", { timeout: 120_000 }, async () => {
    const home = path.join(ROOT, `home-${template}`);
    mkdirSync(home);
    installPacked(home);
    const init = await sh(home, `npx switchboard init my-${template}-app --template ${template}`);
    expect(init.stderr).toBe("");
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(`cd my-${template}-app && npm install`);

    const app = path.join(home, `my-${template}-app`);
    const pkg = JSON.parse(readFileSync(path.join(app, "package.json"), "utf8"));
    expect(pkg.name).toBe(`my-${template}-app`);
    expect(pkg.type).toBe("module");
    const version = JSON.parse(readFileSync(path.join(packedPackage(), "package.json"), "utf8"));
    expect(pkg.dependencies.switchboard).toBe(`^${version.version}`);
    expect(readFileSync(path.join(app, ".gitignore"), "utf8")).toContain(".switchboard/");
    expect(readFileSync(path.join(app, "switchboard.config.ts"), "utf8")).toContain(
      `name: "my-${template}-app"`,
    );

    installPacked(app);
    const validate = await sh(app, "npx switchboard validate");
    expect(validate.stderr).toBe("");
    expect(validate.stdout).toMatch(/^switchboard\.config\.ts: valid \(\d+ routes\)\n$/);

    // Its test runs the app on the test kit (no server, no ws client), every test passing.
    const source = readFileSync(path.join(app, testFile), "utf8");
    expect(source).toContain('from "switchboard/testing"');
    expect(source).not.toMatch(/DevServer|from "ws"/);
    const test = await sh(app, "npm test");
    expect(test.code).toBe(0);
    const [, passed, total] = /Tests\s+(\d+) passed \((\d+)\)/.exec(test.stdout) ?? [];
    expect(Number(passed)).toBeGreaterThan(1);
    expect(passed).toBe(total);

    // A broken handler fails its test (vitest only: tsc has nothing to say about it).
    const handler = path.join(app, breakage.file);
    const original = readFileSync(handler, "utf8");
    expect(original).toContain(breakage.from);
    writeFileSync(handler, original.replace(breakage.from, breakage.to));
    const broken = await sh(app, "npx vitest run");
    expect(broken.code).not.toBe(0);
    expect(broken.stdout).toMatch(/Tests\s+1 failed/);
    expect(broken.stdout + broken.stderr).toContain(catches);
    writeFileSync(handler, original);

    // Its README's examples print what it says they print.
    const readme = readFileSync(path.join(app, "README.md"), "utf8");
    const blocks = runnableBlocks(readme, `${template}/README.md`);
    expect(blocks.length).toBeGreaterThan(0);
    await runDocProject(app, blocks);
  });
});

describe("switchboard init refuses what it cannot do", () => {
  it("a folder that is not empty, an unknown template: one line saying what to do", async () => {
    const home = path.join(ROOT, "refusals");
    mkdirSync(path.join(home, "taken"), { recursive: true });
    writeFileSync(path.join(home, "taken", "notes.txt"), "mine");
    installPacked(home);
    const taken = await sh(home, "switchboard init taken");
    expect(taken.code).toBe(1);
    expect(taken.stderr).toBe(
      "switchboard init: taken is not empty (has notes.txt): name a new folder, e.g. switchboard init my-app\n",
    );
    expect(readFileSync(path.join(home, "taken", "notes.txt"), "utf8")).toBe("mine");

    const unknown = await sh(home, "switchboard init fresh --template chta");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      'switchboard init: unknown template "chta": choose one of chat, minimal (--template <name>)\n',
    );
  });
});
