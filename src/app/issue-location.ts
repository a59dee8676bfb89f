import path from "node:path";

/** A location inside a config document: object keys and array indexes. */
export type DocumentPath = readonly (string | number)[];

/** 1-based, as editors and compilers show them. */
export interface Position {
  line: number;
  column: number;
}

/** A problem found before it is located in a file (see `ConfigIssue`). */
export interface RawIssue {
  path: DocumentPath;
  expected: string;
  found: string;
  /** Known only for syntax problems; others are located by path. */
  at?: Position;
}

const PLAIN_KEY = /^[A-Za-z0-9_$-]+$/;

/**
 * `routes.send.handler`, `authorizer.identitySource[1]`, `routes["a.b"]`.
 *
 * @example
 * ```ts
 * formatDocumentPath(["routes", "send", "timeout"]); // 'routes.send.timeout'
 * ```
 */
export function formatDocumentPath(segments: DocumentPath): string {
  let text = "";
  for (const segment of segments) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/**
 * A file path as issues show it: relative to the working directory when inside it (short,
 * clickable in terminals), absolute otherwise.
 *
 * @example
 * ```ts
 * displayFile(path.join(process.cwd(), "src/chat.ts")); // 'src/chat.ts'
 * ```
 */
export function displayFile(file: string): string {
  const relative = path.relative(process.cwd(), file);
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) return file;
  return relative;
}
