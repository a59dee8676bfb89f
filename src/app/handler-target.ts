import path from "node:path";
import { isClass } from "../runtime/is-class.js";
import { isStandardSchema } from "../runtime/schema.js";
import { methodNames } from "../runtime/websocket-function.js";
import { describeValue, listNames, quote } from "./describe-value.js";
import { MODULE_EXTENSIONS, parseRef, resolveModuleFile } from "./handler-ref.js";
import { displayFile } from "./issue-location.js";
import type { HandlerTarget } from "./model.js";
import { exportAt, exportNames, exportRoot, importedAt } from "./module-exports.js";
import { type LoadedModule, ModuleBuildError, type ModuleLoader } from "./module-loader.js";

/** Where a reference is resolved from, and how its module is built. */
export interface RefContext {
  root: string;
  loader: ModuleLoader;
  /** The function's Lambda runtime (which AWS SDK it carries); handlers only. */
  runtime?: string;
}

/** Why a reference does not resolve; `on` says whether the reference or the method is at fault. */
export interface RefProblem {
  on: "ref" | "method";
  expected: string;
  found: string;
}

export type Resolved<T> = { ok: true; value: T } | { ok: false; problem: RefProblem };

const HANDLER_REF = 'a handler reference ("file#export")';

/**
 * Resolve a handler reference to a target and check that it can be invoked: the file exists and
 * builds, the export exists and is a function or, with `method`, a class or object having it.
 *
 * @example
 * ```ts
 * const r = await resolveHandler("src/chat.ts#send", undefined, { root, loader });
 * if (r.ok) r.value; // { file: "/app/src/chat.ts", export: "send" }
 * ```
 */
export async function resolveHandler(
  ref: string,
  method: string | undefined,
  context: RefContext,
): Promise<Resolved<HandlerTarget>> {
  const found = await loadExport(ref, "handler", HANDLER_REF, context);
  if (!found.ok) return found;
  const { file, name, value } = found.value;
  const target: HandlerTarget = {
    file,
    export: name,
    ...(method ? { method } : {}),
    ...(context.runtime ? { runtime: context.runtime } : {}),
  };
  if (method === undefined) {
    if (typeof value === "function" && !isClass(value)) return { ok: true, value: target };
    return fail(
      "ref",
      isClass(value)
        ? `a function (or a "method" to call on ${describeValue(value)})`
        : "a function",
      describeValue(value),
    );
  }
  const owner = isClass(value)
    ? describeValue(value)
    : value !== null && typeof value === "object"
      ? `object ${name}`
      : undefined;
  if (owner === undefined) {
    return fail("ref", `a class or an object with method ${quote(method)}`, describeValue(value));
  }
  const methods = methodNames(value);
  if (!methods.includes(method)) {
    return fail(
      "method",
      `a method of ${owner}`,
      `no method ${quote(method)} on ${owner} (has: ${listNames(methods)})`,
    );
  }
  return { ok: true, value: target };
}

/**
 * Resolve a `file#export` body schema reference (without `#`, the default export) and check
 * that the export is a Standard Schema.
 *
 * @example
 * ```ts
 * await resolveSchemaRef("src/schemas.ts#SendBody", { root, loader });
 * ```
 */
export async function resolveSchemaRef(
  ref: string,
  context: RefContext,
): Promise<Resolved<{ file: string; export: string }>> {
  const found = await loadExport(
    ref,
    "default",
    'a schema reference ("file#export")',
    context,
    importedAt,
  );
  if (!found.ok) return found;
  const { file, name, value } = found.value;
  if (!isStandardSchema(value)) {
    return fail("ref", "a Standard Schema (zod, valibot, arktype, ...)", describeValue(value));
  }
  return { ok: true, value: { file, export: name } };
}

async function loadExport(
  ref: string,
  defaultExport: string,
  refText: string,
  context: RefContext,
  lookup: typeof exportAt = exportAt,
): Promise<Resolved<{ file: string; name: string; value: unknown }>> {
  const parsed = parseRef(ref, defaultExport);
  if (!parsed) return fail("ref", refText, quote(ref));
  const file = resolveModuleFile(context.root, parsed.file);
  if (!file) {
    const wanted = displayFile(path.resolve(context.root, parsed.file));
    return fail(
      "ref",
      "an existing module file",
      `no file ${wanted} (also tried ${MODULE_EXTENSIONS.join(", ")} and index.*)`,
    );
  }
  let mod: LoadedModule;
  try {
    mod = await context.loader.load(file, { runtime: context.runtime });
  } catch (error) {
    if (error instanceof ModuleBuildError) {
      return fail("ref", `${displayFile(file)} to build`, error.details.join("; "));
    }
    return fail("ref", `${displayFile(file)} to load`, `an error: ${(error as Error).message}`);
  }
  const value = lookup(mod, parsed.export);
  if (value === undefined) {
    return fail(
      "ref",
      `an export named ${quote(parsed.export)} in ${displayFile(file)}`,
      missingExport(mod, parsed.export),
    );
  }
  return { ok: true, value: { file, name: parsed.export, value } };
}

function fail(
  on: RefProblem["on"],
  expected: string,
  found: string,
): { ok: false; problem: RefProblem } {
  return { ok: false, problem: { on, expected, found } };
}

/** What a module has instead of a missing export, in the terms the Lambda runtime resolves by. */
function missingExport(mod: LoadedModule, exportPath: string): string {
  const root = exportRoot(mod);
  const missing = `no export ${quote(exportPath)}`;
  if (mod.format === "cjs" && typeof root === "function") {
    return `${missing}: module.exports is ${describeValue(root)} itself (set module.exports.${exportPath.split(".")[0]}, or name the export its property)`;
  }
  const names = listNames(exportNames(mod));
  const viaDefault =
    exportAt(mod, `default.${exportPath}`) !== undefined
      ? `; ${mod.format === "cjs" ? "module.exports.default" : "the default export"} has it: name it default.${exportPath}`
      : "";
  return `${missing} (${mod.format === "cjs" ? "module.exports has" : "has"}: ${names}${viaDefault})`;
}
