import { existsSync, readdirSync, readFileSync } from "node:fs";
import { cp, mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { printError } from "./command-failure.js";
import { nonEmpty } from "./option-values.js";

/** The package root: this file is `<root>/src/cli/init.ts`, or `<root>/dist/cli/init.js` once built. */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Where the templates live: `templates/<name>/`, shipped in the package (`files`). */
export const TEMPLATES_DIR = path.join(PACKAGE_ROOT, "templates");

/** Folder entries that do not make a folder "not empty" for init. */
const IGNORABLE = new Set([".git", ".DS_Store"]);

/**
 * Files npm never packs under their real names (`.gitignore` is dropped from a package), so
 * templates keep them without the dot and init restores it.
 */
const RENAMED: Record<string, string> = { gitignore: ".gitignore" };

/** The templates the package ships, sorted. */
export function templateNames(): string[] {
  if (!existsSync(TEMPLATES_DIR)) return [];
  return readdirSync(TEMPLATES_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** An npm package name and app name from a folder name: lower case, `a-z0-9-`, never empty. */
export function appNameFor(dir: string): string {
  const name = path
    .basename(path.resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64);
  return name || "app";
}

/** What {@link initProject} made. */
export interface InitResult {
  dir: string;
  name: string;
  template: string;
  files: string[];
}

/** A problem init reports as one line (no stack): what is wrong and what to do. */
export class InitError extends Error {
  override name = "InitError";
}

/**
 * Write a new Switchboard project into `dir` (created if missing; it must be empty) from the
 * template `template`: `__APP_NAME__` becomes the folder's name and `__SWITCHBOARD_VERSION__`
 * this package's version range, so the project depends on the Switchboard that made it.
 *
 * @example
 * ```ts
 * await initProject("my-chat", "chat"); // then: cd my-chat && npm install && npm test
 * ```
 */
export async function initProject(dir: string, template: string): Promise<InitResult> {
  const names = templateNames();
  if (!names.includes(template)) {
    throw new InitError(
      `unknown template ${JSON.stringify(template)}: choose one of ${names.join(", ")} (--template <name>)`,
    );
  }
  const target = path.resolve(dir);
  if (existsSync(target)) {
    const present = readdirSync(target).filter((entry) => !IGNORABLE.has(entry));
    if (present.length > 0) {
      const shown = present.slice(0, 5).join(", ") + (present.length > 5 ? ", ..." : "");
      throw new InitError(
        `${displayDir(target)} is not empty (has ${shown}): name a new folder, e.g. switchboard init my-app`,
      );
    }
  }
  const name = appNameFor(target);
  const version = (
    JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as {
      version: string;
    }
  ).version;
  await mkdir(target, { recursive: true });
  await cp(path.join(TEMPLATES_DIR, template), target, { recursive: true });
  const files: string[] = [];
  for (const relative of await listFiles(target)) {
    let file = path.join(target, relative);
    const renamed = RENAMED[path.basename(relative)];
    if (renamed) {
      const to = path.join(path.dirname(file), renamed);
      await rename(file, to);
      file = to;
    }
    const text = await readFile(file, "utf8");
    const filled = text
      .replaceAll("__APP_NAME__", name)
      .replaceAll("__SWITCHBOARD_VERSION__", `^${version}`);
    if (filled !== text) await writeFile(file, filled);
    files.push(path.relative(target, file));
  }
  return { dir: target, name, template, files: files.sort() };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

function displayDir(dir: string): string {
  return path.relative(process.cwd(), dir) || ".";
}

/** `switchboard init [dir] [--template <name>]`. */
export function registerInitCommand(program: Command): void {
  program
    .command("init")
    .description(
      "Create a TypeScript project (config, handlers, a test, README) that validates, serves and passes its tests after npm install",
    )
    .argument("[dir]", "folder to create the project in (new or empty)", nonEmpty, ".")
    .option(
      "-t, --template <name>",
      `what to start from: ${templateNames().join(", ")}`,
      nonEmpty,
      "chat",
    )
    .action(async (dir: string, opts: { template: string }) => {
      try {
        const made = await initProject(dir, opts.template);
        const where = displayDir(made.dir);
        const cd = where === "." ? "" : `cd ${where} && `;
        process.stdout.write(
          [
            `switchboard init: ${made.name} (template ${made.template}) in ${where}:`,
            ...made.files.map((file) => `  ${file}`),
            "",
            "Next:",
            `  ${cd}npm install`,
            "  npm run dev    # serve it: ws://127.0.0.1:3001",
            "  npm test       # type-check, then its tests",
            "",
          ].join("\n"),
        );
      } catch (error) {
        if (error instanceof InitError)
          process.stderr.write(`switchboard init: ${error.message}\n`);
        else printError(error);
        process.exitCode = 1;
      }
    });
}
