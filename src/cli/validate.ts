import { statSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { loadApp } from "../app/load.js";
import { formatLoadWarning } from "../app/load-warning.js";
import type { App } from "../app/model.js";
import { ModuleLoader } from "../app/module-loader.js";
import { describeFailure } from "./command-failure.js";
import { existingPath } from "./option-values.js";

/**
 * Load and validate an app once, with a module cache next to it (`<app>/.switchboard`),
 * released afterwards.
 *
 * @example
 * ```ts
 * const app = await loadOnce("examples/chat");
 * ```
 */
export async function loadOnce(target: string, stage?: string): Promise<App> {
  const resolved = path.resolve(target);
  // A config file named directly keeps its module cache next to it, as for a folder.
  const appDir = statSync(resolved, { throwIfNoEntry: false })?.isFile()
    ? path.dirname(resolved)
    : resolved;
  const loader = new ModuleLoader({ cacheDir: path.join(appDir, ".switchboard", "modules") });
  try {
    return await loadApp(resolved, { loader, ...(stage ? { stage } : {}) });
  } finally {
    await loader.dispose();
  }
}

/** Where a command writes; the process's streams by default. */
export interface CommandOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const PROCESS_OUTPUT: CommandOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * `switchboard validate [app]`: `<config>: valid (N routes)` on stdout and 0, or every
 * problem on stderr and 1. Never throws: whatever goes wrong is printed as the CLI prints it.
 *
 * @example
 * ```ts
 * process.exitCode = await validateCommand("examples/chat");
 * ```
 */
export async function validateCommand(
  target: string,
  output: CommandOutput = PROCESS_OUTPUT,
): Promise<number> {
  try {
    const app = await loadOnce(target);
    for (const warning of app.warnings ?? []) output.stderr(`${formatLoadWarning(warning)}\n`);
    output.stdout(
      `${path.relative(process.cwd(), app.source.file)}: valid (${app.routes.length} routes)\n`,
    );
    return 0;
  } catch (error) {
    output.stderr(`${describeFailure(error)}\n`);
    return 1;
  }
}

/** Register `switchboard validate`: every problem at once, or `valid (N routes)`. */
export function registerValidateCommand(program: Command): void {
  program
    .command("validate")
    .description("Check a config: every problem at once, each with file, path, expected and found")
    .argument("[app]", "app folder or config file", existingPath, ".")
    .action(async (target: string) => {
      process.exitCode = await validateCommand(target);
    });
}
