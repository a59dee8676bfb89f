import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as esbuild from "esbuild";

/**
 * How Node (and so the Lambda runtime) loads a handler module: `cjs` through `require`, whose
 * result is `module.exports`; `esm` through `import()`, whose result is the module namespace.
 * The Lambda runtime resolves a handler's export path on exactly that object.
 */
export type ModuleFormat = "cjs" | "esm";

/**
 * The format of a module esbuild did not classify (it has no `import`, `export`, `require`,
 * `module` or `exports`): Node's rules. `.mjs`/`.mts` and TypeScript sources are ES modules (a
 * `.ts` handler is compiled as one), `.cjs`/`.cts` CommonJS, and a `.js` file follows the
 * `"type"` of the nearest `package.json` (CommonJS without one), as the Lambda runtime decides.
 *
 * @example
 * ```ts
 * formatByNodeRules("/app/handler.cjs"); // "cjs"
 * ```
 */
export function formatByNodeRules(file: string): ModuleFormat {
  const ext = path.extname(file);
  if (ext === ".cjs" || ext === ".cts") return "cjs";
  if (ext !== ".js" && ext !== ".jsx") return "esm";
  return packageTypeOf(path.dirname(file)) === "module" ? "esm" : "cjs";
}

/** The `"type"` of the nearest `package.json` above `dir` (none past a `node_modules` folder). */
function packageTypeOf(dir: string): string | undefined {
  for (let current = dir; ; current = path.dirname(current)) {
    if (path.basename(current) === "node_modules") return undefined;
    const file = path.join(current, "package.json");
    if (existsSync(file)) {
      try {
        const type = (JSON.parse(readFileSync(file, "utf8")) as { type?: unknown } | null)?.type;
        return typeof type === "string" ? type : undefined;
      } catch {
        // The Lambda runtime warns about an unreadable package.json and takes it as CommonJS.
        return undefined;
      }
    }
    if (path.dirname(current) === current) return undefined;
  }
}

/**
 * The format of a module file as esbuild reads its syntax (with the package's `"type"`), else
 * by {@link formatByNodeRules}. Parses the one file; nothing is bundled or written.
 *
 * @example
 * ```ts
 * await moduleFormat("/app/index.js"); // "cjs" for `exports.handler = ...`
 * ```
 */
export async function moduleFormat(file: string): Promise<ModuleFormat> {
  try {
    const result = await esbuild.build({
      entryPoints: [file],
      absWorkingDir: path.dirname(file),
      bundle: false,
      write: false,
      metafile: true,
      platform: "node",
      logLevel: "silent",
    });
    for (const [input, meta] of Object.entries(result.metafile.inputs)) {
      if (path.resolve(path.dirname(file), input) === file && meta.format) return meta.format;
    }
  } catch {
    // A file that does not parse fails its real build, with esbuild's messages; not here.
  }
  return formatByNodeRules(file);
}
