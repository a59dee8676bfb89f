import type { LoadedModule } from "./module-loader.js";

/**
 * What the Lambda Node.js runtime resolves a handler's export path on: `module.exports` for a
 * CommonJS module (it `require`s it), the module namespace for an ES module (it `import()`s it).
 * A CommonJS module reaches us as an ES module whose `default` is `module.exports`.
 */
export function exportRoot(mod: Pick<LoadedModule, "exports" | "format">): unknown {
  return mod.format === "cjs" ? mod.exports.default : mod.exports;
}

/**
 * The value at an export path, resolved as the Lambda runtime does: the handler string
 * `index.handlers.send` names module `index` and path `handlers.send`, each dot one property
 * lookup from {@link exportRoot}. So `module.exports.default = fn` is `file.default`, and
 * `module.exports = fn` has no `handler` unless `fn.handler` is set.
 *
 * @example
 * ```ts
 * exportAt(mod, "handler"); // exports.handler (ESM) or module.exports.handler (CommonJS)
 * exportAt(mod, "handlers.send");
 * ```
 */
export function exportAt(
  mod: Pick<LoadedModule, "exports" | "format">,
  exportPath: string,
): unknown {
  let value = exportRoot(mod);
  for (const key of exportPath.split(".")) {
    if (value === null || (typeof value !== "object" && typeof value !== "function")) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The names a module exports (the keys of {@link exportRoot}), for messages that list them. */
export function exportNames(mod: Pick<LoadedModule, "exports" | "format">): string[] {
  const root = exportRoot(mod);
  if (root === null || (typeof root !== "object" && typeof root !== "function")) return [];
  return Object.keys(root);
}

/**
 * The value a JavaScript `import` of `exportPath` gets, for Switchboard's own references (body
 * schemas): as {@link exportAt}, except that a CommonJS module's `default` is its own
 * `module.exports.default` when it has one (compiled ES modules) and else `module.exports`
 * itself, as `import schema from "./schema.cjs"` gives it.
 *
 * @example
 * ```ts
 * importedAt(mod, "default"); // module.exports for `module.exports = z.object(...)`
 * ```
 */
export function importedAt(
  mod: Pick<LoadedModule, "exports" | "format">,
  exportPath: string,
): unknown {
  if (mod.format === "cjs" && exportPath === "default") {
    const root = exportRoot(mod);
    // Own property only: the object exported may have a `default` method (zod schemas do).
    const own = root !== null && typeof root === "object" && Object.hasOwn(root, "default");
    return own ? (root as { default: unknown }).default : root;
  }
  return exportAt(mod, exportPath);
}
