import { statSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { displayFile } from "./issue-location.js";
import type { LoadAppOptions } from "./load-options.js";
import { FOREIGN_CONFIG_FILES, findForeignConfigFile, foreignLoaderFor } from "./loaders/index.js";
import { loadNative } from "./loaders/native.js";
import { isSwitchboardBuild, loadSwitchboardBuild } from "./loaders/switchboard-build.js";
import { configError } from "./locate-issues.js";
import type { App } from "./model.js";

export type { ConfigSource, LoadAppOptions } from "./load-options.js";
export { appFromConfig } from "./loaders/native.js";

/** Config file names looked for in an app folder, most preferred first. */
export const CONFIG_FILE_NAMES: readonly string[] = Object.freeze([
  "switchboard.config.ts",
  "switchboard.config.mts",
  "switchboard.config.js",
  "switchboard.config.mjs",
  "switchboard.yaml",
  "switchboard.yml",
  "switchboard.json",
]);

/**
 * The first of {@link CONFIG_FILE_NAMES} present in `dir`, as an absolute path; else the first
 * foreign config (serverless.yml, app.arc, template.yaml, Module.yml, ... in the order of
 * `FOREIGN_CONFIG_FILES`, see docs/formats.md).
 *
 * @example
 * ```ts
 * findConfigFile("examples/chat"); // "/repo/examples/chat/switchboard.config.ts"
 * ```
 */
export function findConfigFile(dir: string): string | undefined {
  for (const name of CONFIG_FILE_NAMES) {
    const file = path.resolve(dir, name);
    try {
      if (statSync(file).isFile()) return file;
    } catch {
      // not there: try the next name
    }
  }
  return findForeignConfigFile(dir);
}

/**
 * Load, validate and normalize an app. `target` is a folder (its config file is found by
 * {@link CONFIG_FILE_NAMES}) or a config file. Throws a {@link ConfigError} listing every
 * problem, located by line and column for YAML and JSON.
 *
 * @example
 * ```ts
 * const loader = new ModuleLoader({ cacheDir: ".switchboard/build" });
 * const app = await loadApp("examples/chat", { loader, stage: "local" });
 * app.routes.map((route) => route.key); // ["$connect", "send", "$default"]
 * ```
 */
export async function loadApp(target: string, options: LoadAppOptions): Promise<App> {
  const resolved = path.resolve(target);
  const lookedFor = `a config file (${[...CONFIG_FILE_NAMES, ...FOREIGN_CONFIG_FILES].join(", ")})`;
  const isDirectory = await stat(resolved).then(
    (stats) => stats.isDirectory(),
    () => undefined,
  );
  if (isDirectory === undefined) {
    throw configError(resolved, {
      path: [],
      expected: `${lookedFor} or a folder with one`,
      found: "nothing",
    });
  }
  // The output of `switchboard build` (manifest.json + template.json + zips): run what deploys.
  const buildDir = isDirectory
    ? resolved
    : path.basename(resolved) === "manifest.json"
      ? path.dirname(resolved)
      : undefined;
  if (buildDir && isSwitchboardBuild(buildDir)) {
    return loadSwitchboardBuild(path.join(buildDir, "manifest.json"), options);
  }
  const file = isDirectory ? findConfigFile(resolved) : resolved;
  if (!file) {
    throw configError(resolved, {
      path: [],
      expected: lookedFor,
      found: `none in ${displayFile(resolved)}`,
    });
  }
  // serverless.yml, app.arc, template.yaml, Module.yml, ...: each has its own loader.
  const foreignText = /\.(?:ya?ml|json|arc)$/.test(file) ? await readFile(file, "utf8") : undefined;
  const foreign = foreignLoaderFor(file, foreignText);
  if (foreign) return foreign.load(file, foreignText ?? "", options);
  // switchboard.config.ts, switchboard.yaml, switchboard.json: Switchboard's own format.
  return loadNative(file, options);
}
