import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { buildFailureMessages } from "../app/esbuild-messages.js";
import { displayFile, formatDocumentPath } from "../app/issue-location.js";
import { runtimeSdk, sdkExternals } from "../app/lambda-runtime.js";
import type { App } from "../app/model.js";
import { type ModuleFormat, moduleFormat } from "../app/module-format.js";
import { ConfigError } from "../errors.js";
import { DEFAULT_RUNTIME, esbuildTarget, type LambdaRuntime } from "./aws-options.js";
import type { FunctionPlan } from "./function-plan.js";
import { deterministicZip, type ZipArchive } from "./zip.js";

/** A built function: its files and their deterministic zip. */
export interface FunctionBundle {
  name: string;
  /** `index.mjs` (the Lambda handler is `index.handler`) and its source map. */
  files: Record<string, Uint8Array>;
  zip: ZipArchive;
}

const ownRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const ownExt = existsSync(path.join(ownRoot, "index.ts")) ? ".ts" : ".js";
const LAMBDA_ENTRY = "switchboard:lambda-entry";

/** `switchboard`, its subpaths and the Lambda entry resolve to the copy that builds, and are bundled. */
const ownPackagePlugin: esbuild.Plugin = {
  name: "switchboard-own",
  setup(build) {
    build.onResolve({ filter: /^switchboard(\/.*|:lambda-entry)?$/ }, (args) => {
      if (args.path === LAMBDA_ENTRY)
        return { path: path.join(ownRoot, "aws", `lambda-entry${ownExt}`) };
      if (args.path === "switchboard") return { path: path.join(ownRoot, `index${ownExt}`) };
      const sub = /^switchboard\/(runtime|gateway)$/.exec(args.path)?.[1];
      return sub ? { path: path.join(ownRoot, sub, `index${ownExt}`) } : undefined;
    });
  },
};

/** A path for an `import` in the generated entry: relative to the app root, POSIX separators. */
function importPath(root: string, file: string): string {
  const relative = path.relative(root, file).split(path.sep).join("/");
  return JSON.stringify(relative.startsWith(".") ? relative : `./${relative}`);
}

/**
 * A module binding the generated entry reads exports from, as the Lambda runtime would load
 * the file: a CommonJS module through `require` (its `module.exports`, whatever `__esModule`
 * says), an ES module through its namespace.
 */
function importModule(binding: string, root: string, file: string, format: ModuleFormat): string {
  return format === "cjs"
    ? `const ${binding} = require(${importPath(root, file)});`
    : `import * as ${binding} from ${importPath(root, file)};`;
}

/** Static member accesses for an export path (`a.b` → `m["a"]?.["b"]`), as Lambda resolves it. */
function member(binding: string, exportPath: string): string {
  return exportPath
    .split(".")
    .map((key, index) => `${index === 0 ? "" : "?."}[${JSON.stringify(key)}]`)
    .reduce((code, access) => code + access, binding);
}

/** How the generated entry loads each module: what {@link moduleFormat} finds. */
export interface EntryFormats {
  handler: ModuleFormat;
  body?: ModuleFormat;
}

/** The generated `index.mjs` source: import the handler (and schema), export `handler`. */
export function entrySource(app: App, fn: FunctionPlan, formats: EntryFormats): string {
  const lines = [
    `import { lambdaEntry } from ${JSON.stringify(LAMBDA_ENTRY)};`,
    importModule("handlerModule", app.root, fn.target.file, formats.handler),
  ];
  if (fn.kind === "seed") {
    lines[0] = `import { seedEntry } from ${JSON.stringify(LAMBDA_ENTRY)};`;
    lines.push(
      `export const handler = seedEntry({ handler: ${member("handlerModule", fn.target.export)}, export: ${JSON.stringify(fn.target.export)} });`,
      "",
    );
    return lines.join("\n");
  }
  let body = "undefined";
  if (fn.body?.kind === "ref") {
    lines.push(importModule("schemaModule", app.root, fn.body.file, formats.body ?? "esm"));
    // As `import schema from` a CommonJS module: module.exports.default, else module.exports.
    body =
      formats.body === "cjs" && fn.body.export === "default"
        ? '(Object.hasOwn(schemaModule, "default") ? schemaModule.default : schemaModule)'
        : member("schemaModule", fn.body.export);
  } else if (fn.body?.kind === "schema") {
    // An inline schema lives in the TypeScript config: import the config and read it from there.
    lines.push(`import * as configModule from ${importPath(app.root, app.source.file)};`);
    body = `(configModule.default ?? configModule.app).routes[${JSON.stringify(fn.bodyRouteKey)}].body`;
  }
  // Static member accesses (not the namespace object) let esbuild drop the module's other exports.
  const name = JSON.stringify(fn.target.export);
  lines.push(
    `export const handler = lambdaEntry({ handler: ${member("handlerModule", fn.target.export)}, export: ${name}${
      fn.target.method ? `, method: ${JSON.stringify(fn.target.method)}` : ""
    }, body: ${body} });`,
    "",
  );
  return lines.join("\n");
}

/**
 * Bundle one function with esbuild: ESM (`index.mjs`, handler `index.handler`) for the
 * runtime's Node version, with the handler's own code, its dependencies and Switchboard's
 * runtime inside, and `@aws-sdk/*` left to the copy every Node.js Lambda runtime carries.
 * Then zip it deterministically. A bundle failure is a {@link ConfigError} naming the routes.
 *
 * @example
 * ```ts
 * const bundle = await bundleFunction(app, plan.functions[0], { runtime: "nodejs22.x" });
 * bundle.zip.sha256; // same input, same hash
 * ```
 */
export async function bundleFunction(
  app: App,
  fn: FunctionPlan,
  options: { runtime?: LambdaRuntime; sourcemap?: boolean } = {},
): Promise<FunctionBundle> {
  const sourcemap = options.sourcemap ?? true;
  // A fixed (never written) output path: source map paths do not depend on where we build.
  const outfile = path.join(app.root, ".switchboard", "aws", fn.name, "index.mjs");
  let result: esbuild.BuildResult<{ write: false }>;
  try {
    result = await esbuild.build({
      stdin: {
        contents: entrySource(app, fn, {
          handler: await moduleFormat(fn.target.file),
          ...(fn.body?.kind === "ref" ? { body: await moduleFormat(fn.body.file) } : {}),
        }),
        resolveDir: app.root,
        sourcefile: `switchboard-entry-${fn.name}.mjs`,
        loader: "js",
      },
      outfile,
      write: false,
      bundle: true,
      platform: "node",
      format: "esm",
      target: esbuildTarget(fn.runtime ?? options.runtime ?? DEFAULT_RUNTIME),
      // The SDK the runtime carries stays out: Lambda provides it.
      external: sdkExternals(runtimeSdk(fn.runtime ?? options.runtime ?? DEFAULT_RUNTIME)),
      sourcemap: sourcemap ? "linked" : false,
      sourcesContent: false,
      absWorkingDir: app.root,
      logLevel: "silent",
      plugins: [ownPackagePlugin],
      // CommonJS dependencies may `require` Node built-ins; ESM output has no `require`.
      // Its own binding name: the dev gateway bundles this output again (round trip) with a
      // banner of its own, and two `import { createRequire as X }` with one X do not load.
      banner: {
        js: 'import { createRequire as __sbLambdaCreateRequire } from "node:module"; const require = __sbLambdaCreateRequire(import.meta.url);',
      },
    });
  } catch (error) {
    const details = buildFailureMessages(error);
    const at =
      fn.kind === "route"
        ? ["routes", fn.routeKeys[0] as string]
        : fn.kind === "seed"
          ? ["seed"]
          : ["authorizer", "handler"];
    throw new ConfigError([
      {
        file: displayFile(app.source.file),
        path: formatDocumentPath(at),
        expected: `${displayFile(fn.target.file)} to bundle for Lambda (function ${fn.name}${
          fn.routeKeys.length > 0 ? `, routes ${fn.routeKeys.join(", ")}` : ""
        })`,
        found: details.length > 0 ? details.join("; ") : String(error),
      },
    ]);
  }
  const files: Record<string, Uint8Array> = {};
  for (const output of result.outputFiles) files[path.basename(output.path)] = output.contents;
  return { name: fn.name, files, zip: deterministicZip(files) };
}
