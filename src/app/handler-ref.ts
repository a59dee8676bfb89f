import { statSync } from "node:fs";
import path from "node:path";

/** A parsed `file#export` reference; `file` still relative to the config folder. */
export interface ParsedRef {
  file: string;
  export: string;
}

/** What is tried after the path as written, in order. */
export const MODULE_EXTENSIONS: readonly string[] = [".ts", ".mts", ".js", ".mjs", ".cjs"];

// TypeScript ESM code imports `./chat.js` for `./chat.ts`; configs copied from it do the same.
const SOURCE_FOR_OUTPUT: Record<string, string> = {
  ".js": ".ts",
  ".mjs": ".mts",
  ".cjs": ".cts",
  ".jsx": ".tsx",
};

/**
 * Split `path#export`; without `#` the export is `defaultExport` (`handler` for handlers, as in
 * AWS Lambda's `file.handler`). Returns `undefined` when either half is empty.
 *
 * @example
 * ```ts
 * parseRef("src/chat.ts#send", "handler"); // { file: "src/chat.ts", export: "send" }
 * parseRef("src/connect.ts", "handler"); // { file: "src/connect.ts", export: "handler" }
 * ```
 */
export function parseRef(ref: string, defaultExport: string): ParsedRef | undefined {
  const hash = ref.lastIndexOf("#");
  const file = (hash < 0 ? ref : ref.slice(0, hash)).trim();
  const name = hash < 0 ? defaultExport : ref.slice(hash + 1).trim();
  return file && name ? { file, export: name } : undefined;
}

/**
 * The module file a reference points at: the path as written, then its TypeScript source
 * (`.js` → `.ts`), then with each of {@link MODULE_EXTENSIONS}, then `index.*` inside it.
 *
 * @example
 * ```ts
 * resolveModuleFile("/app", "src/chat"); // "/app/src/chat.ts" when that exists
 * ```
 */
export function resolveModuleFile(root: string, file: string): string | undefined {
  const base = path.resolve(root, file);
  const source = SOURCE_FOR_OUTPUT[path.extname(base)];
  const candidates = [
    base,
    ...(source ? [base.slice(0, -path.extname(base).length) + source] : []),
    ...MODULE_EXTENSIONS.map((ext) => base + ext),
    ...MODULE_EXTENSIONS.map((ext) => path.join(base, `index${ext}`)),
  ];
  return candidates.find(isFile);
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
