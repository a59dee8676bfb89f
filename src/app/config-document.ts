import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  type Tags,
  visit,
} from "yaml";
import { quote } from "./describe-value.js";
import type { DocumentPath, Position, RawIssue } from "./issue-location.js";

/** A YAML or JSON config file as data, with its syntax problems and a way back to positions. */
export interface ConfigDocument {
  value: unknown;
  /** The text does not parse; `value` is a best guess and not worth validating. */
  syntaxIssues: RawIssue[];
  /** Problems that leave `value` usable (duplicate keys: the last one wins, as in JSON). */
  issues: RawIssue[];
  /** Where a path is written: the key of a map entry, an array item, or the document. */
  positionOf(path: DocumentPath): Position | undefined;
}

/**
 * Parse YAML or JSON text. JSON goes through the YAML parser too, so that duplicate keys
 * (which `JSON.parse` silently merges) are found with their positions.
 *
 * @example
 * ```ts
 * const doc = parseConfigDocument("name: chat\nroutes: {}\n", "yaml");
 * doc.positionOf(["routes"]); // { line: 2, column: 1 }
 * ```
 */
export function parseConfigDocument(
  text: string,
  format: "yaml" | "json",
  options: { customTags?: Tags } = {},
): ConfigDocument {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    uniqueKeys: false,
    prettyErrors: true,
    // Foreign formats add their own tags (CloudFormation's !Ref, !Sub, ...).
    ...(options.customTags ? { customTags: options.customTags } : {}),
  });
  const at = (offset: number): Position => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const expected = format === "json" ? "valid JSON" : "valid YAML";
  const syntaxIssues: RawIssue[] = doc.errors.map((error) => {
    const pos = error.linePos?.[0];
    return {
      path: [],
      expected,
      found:
        error.code === "MULTIPLE_DOCS"
          ? "more than one document"
          : error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, ""),
      ...(pos ? { at: { line: pos.line, column: pos.col } } : {}),
    };
  });
  if (syntaxIssues.length === 0 && format === "json") {
    // YAML accepts more than JSON (comments, trailing commas, bare words).
    const strict = strictJsonIssue(text, at);
    if (strict) syntaxIssues.push(strict);
  }
  let value: unknown;
  if (doc.contents !== null) {
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      // The YAML library throws for aliases it cannot expand: the author's problem, reported
      // as one (unless the text already has a syntax problem, reported instead).
      if (syntaxIssues.length === 0) syntaxIssues.push(aliasIssue(doc, expected, error, at));
    }
  }
  return {
    value,
    syntaxIssues,
    issues: syntaxIssues.length === 0 ? duplicateKeyIssues(doc.contents, [], at) : [],
    positionOf(path) {
      if (!doc.contents) return path.length === 0 ? { line: 1, column: 1 } : undefined;
      let node: unknown = doc.contents;
      let offset: number | undefined = doc.contents.range?.[0];
      for (const segment of path) {
        node = isAlias(node) ? node.resolve(doc) : node;
        if (isMap(node)) {
          const pair = findLast(node.items, (p) => keyOf(p) === String(segment));
          if (!pair) return undefined;
          offset = (pair.key as Node | null)?.range?.[0];
          node = pair.value;
        } else if (isSeq(node) && typeof segment === "number") {
          node = node.items[segment];
          offset = (node as Node | undefined)?.range?.[0];
          if (node === undefined) return undefined;
        } else {
          return undefined;
        }
      }
      return offset === undefined ? undefined : at(offset);
    },
  };
}

/**
 * Alias expansions allowed per document (the YAML library's guard against "billion laughs"
 * documents); a real config needs a handful.
 */
const MAX_ALIAS_COUNT = 1000;

/** Why `toJS` refused the document: an alias used before its anchor, or too many expansions. */
function aliasIssue(
  doc: Document,
  expected: string,
  error: unknown,
  at: (offset: number) => Position,
): RawIssue {
  let unresolved: Alias | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) === undefined) {
        unresolved = node;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  const offset = unresolved?.range?.[0];
  if (unresolved) {
    return {
      path: [],
      expected: `${expected}: an anchor (&${unresolved.source}) set before its alias`,
      found: `*${unresolved.source} with no &${unresolved.source} above it`,
      ...(offset !== undefined ? { at: at(offset) } : {}),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    path: [],
    expected: `${expected} with at most ${MAX_ALIAS_COUNT} alias expansions`,
    found: /alias count/i.test(message) ? "more (aliases nested too deep)" : message,
  };
}

function keyOf(pair: Pair<unknown, unknown>): string | undefined {
  return isScalar(pair.key) ? String(pair.key.value) : undefined;
}

function findLast<T>(items: readonly T[], test: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i] as T;
    if (test(item)) return item;
  }
  return undefined;
}

function duplicateKeyIssues(
  node: unknown,
  path: DocumentPath,
  at: (offset: number) => Position,
): RawIssue[] {
  const issues: RawIssue[] = [];
  if (isMap(node)) {
    const firstLine = new Map<string, number>();
    for (const pair of node.items) {
      const key = keyOf(pair);
      if (key === undefined) continue;
      const offset = (pair.key as Node).range?.[0] ?? 0;
      const seen = firstLine.get(key);
      if (seen !== undefined) {
        issues.push({
          path: [...path, key],
          expected: "each key once",
          found: `${quote(key)} again (first on line ${seen})`,
          at: at(offset),
        });
      } else {
        firstLine.set(key, at(offset).line);
      }
      issues.push(...duplicateKeyIssues(pair.value, [...path, key], at));
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      issues.push(...duplicateKeyIssues(item, [...path, index], at));
    });
  }
  return issues;
}

function strictJsonIssue(text: string, at: (offset: number) => Position): RawIssue | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    const message = (error as Error).message;
    const offset = /at position (\d+)/.exec(message)?.[1];
    return {
      path: [],
      expected: "valid JSON",
      // V8 appends a snippet of the text (`, "...x..." is not valid JSON`): the position says where.
      found: message
        .replace(/ in JSON at position \d+[\s\S]*$/, "")
        .replace(/, "[\s\S]*" is not valid JSON$/, "")
        .replace(/^JSON\.parse: /, ""),
      at: at(offset === undefined ? text.length : Number(offset)),
    };
  }
}
