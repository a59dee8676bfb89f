import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import type { LoadAppOptions } from "../load-options.js";
import type { App, AppFormat } from "../model.js";
import { isRecord } from "./app-draft.js";
import { ARCHITECT_FILES, loadArchitect } from "./architect.js";
import { loadCloudFormation } from "./cloudformation.js";
import { CLOUDFORMATION_TAGS } from "./cloudformation-intrinsics.js";
import { loadLambdaSharp } from "./lambdasharp.js";
import { loadServerless, loadServerlessModule } from "./serverless.js";

/** A foreign-format loader: the file, its text, the load options → the App (or a ConfigError). */
export interface ForeignLoader {
  format: AppFormat;
  load(file: string, text: string, options: LoadAppOptions): Promise<App>;
}

const SERVERLESS: ForeignLoader = { format: "serverless", load: loadServerless };
const SERVERLESS_MODULE: ForeignLoader = { format: "serverless", load: loadServerlessModule };
const ARCHITECT: ForeignLoader = { format: "architect", load: loadArchitect };
const CLOUDFORMATION: ForeignLoader = { format: "cloudformation", load: loadCloudFormation };
const LAMBDASHARP: ForeignLoader = { format: "lambdasharp", load: loadLambdaSharp };

/**
 * Foreign config files looked for in an app folder after Switchboard's own, most preferred
 * first: Serverless, then Architect, then SAM/CloudFormation, then a LambdaSharp module.
 * `package.json` counts only with an `arc` or `architect` key.
 */
export const FOREIGN_CONFIG_FILES: readonly string[] = Object.freeze([
  "serverless.yml",
  "serverless.yaml",
  "serverless.json",
  "serverless.ts",
  "serverless.js",
  ...ARCHITECT_FILES,
  "package.json",
  "template.yaml",
  "template.yml",
  "template.json",
  "Module.yml",
  "Module.yaml",
]);

const BY_NAME: Record<string, ForeignLoader> = {
  "serverless.yml": SERVERLESS,
  "serverless.yaml": SERVERLESS,
  "serverless.json": SERVERLESS,
  "serverless.ts": SERVERLESS_MODULE,
  "serverless.mts": SERVERLESS_MODULE,
  "serverless.js": SERVERLESS_MODULE,
  "serverless.mjs": SERVERLESS_MODULE,
  "serverless.cjs": SERVERLESS_MODULE,
  ...Object.fromEntries(ARCHITECT_FILES.map((name) => [name, ARCHITECT])),
  "template.yaml": CLOUDFORMATION,
  "template.yml": CLOUDFORMATION,
  "template.json": CLOUDFORMATION,
  "Module.yml": LAMBDASHARP,
  "Module.yaml": LAMBDASHARP,
};

/**
 * The first of {@link FOREIGN_CONFIG_FILES} in `dir` (absolute), or undefined.
 *
 * @example
 * ```ts
 * findForeignConfigFile("examples/serverless-chat"); // "/repo/examples/serverless-chat/serverless.yml"
 * ```
 */
export function findForeignConfigFile(dir: string): string | undefined {
  for (const name of FOREIGN_CONFIG_FILES) {
    const file = path.resolve(dir, name);
    if (!isFile(file)) continue;
    if (name === "package.json" && !hasArchitectKey(file)) continue;
    return file;
  }
  return undefined;
}

/**
 * The loader for a file: by its name (`serverless.yml`, `app.arc`, `template.yaml`,
 * `Module.yml`, any `*.arc`, a `package.json` with an `arc` key), else by its content for
 * other YAML/JSON files (`AWSTemplateFormatVersion`/`Resources` → CloudFormation; `Module` +
 * `Items` → LambdaSharp; `service` + `functions`/`provider` → Serverless). Undefined for
 * Switchboard's own configs.
 */
export function foreignLoaderFor(
  file: string,
  text: string | undefined,
): ForeignLoader | undefined {
  const base = path.basename(file);
  if (base.startsWith("switchboard.")) return undefined;
  if (base === "package.json")
    return text !== undefined && hasArchitectKeyIn(text) ? ARCHITECT : undefined;
  const named = BY_NAME[base] ?? (base.endsWith(".arc") ? ARCHITECT : undefined);
  if (named) return named;
  if (text === undefined || ![".yaml", ".yml", ".json"].includes(path.extname(base)))
    return undefined;
  let data: unknown;
  try {
    data = parse(text, { customTags: CLOUDFORMATION_TAGS, logLevel: "silent" });
  } catch {
    return undefined;
  }
  if (!isRecord(data)) return undefined;
  if ("AWSTemplateFormatVersion" in data || ("Resources" in data && isRecord(data.Resources)))
    return CLOUDFORMATION;
  if ("Module" in data && "Items" in data) return LAMBDASHARP;
  if ("service" in data && ("functions" in data || "provider" in data)) return SERVERLESS;
  return undefined;
}

function hasArchitectKey(file: string): boolean {
  try {
    return hasArchitectKeyIn(readFileSync(file, "utf8"));
  } catch {
    return false;
  }
}

function hasArchitectKeyIn(text: string): boolean {
  try {
    const pkg = JSON.parse(text) as unknown;
    return isRecord(pkg) && (pkg.arc !== undefined || pkg.architect !== undefined);
  } catch {
    return false;
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
