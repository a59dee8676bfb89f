import path from "node:path";
import { ConfigError, type ConfigIssue } from "../errors.js";
import {
  type DocumentPath,
  displayFile,
  formatDocumentPath,
  type Position,
  type RawIssue,
} from "./issue-location.js";
import type { ConfigSource } from "./load-options.js";

/**
 * Turn raw issues into located ones, in the order their paths appear in the config (schema,
 * key and handler checks each find problems in their own order).
 */
export function locate(issues: RawIssue[], source: ConfigSource, config: unknown): ConfigIssue[] {
  const order = pathOrder(config);
  const rank = (issue: RawIssue) => {
    for (let n = issue.path.length; n >= 0; n--) {
      const index = order.get(pathKey(issue.path.slice(0, n)));
      if (index !== undefined) return index;
    }
    return 0;
  };
  const file = displayFile(path.resolve(source.file));
  return issues
    .map((issue, index) => ({ issue, index, rank: rank(issue) }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map(({ issue }) => {
      const at = issue.at ?? nearestPosition(issue.path, source);
      return {
        file,
        ...(at ? { line: at.line, column: at.column } : {}),
        path: formatDocumentPath(issue.path),
        expected: issue.expected,
        found: issue.found,
      };
    });
}

function nearestPosition(issuePath: DocumentPath, source: ConfigSource): Position | undefined {
  if (!source.positions) return undefined;
  for (let n = issuePath.length; n >= 0; n--) {
    const at = source.positions(issuePath.slice(0, n));
    if (at) return at;
  }
  return undefined;
}

/** Depth-first index of every path in the config, in key order. */
function pathOrder(config: unknown): Map<string, number> {
  const order = new Map<string, number>();
  const seen = new WeakSet<object>();
  const visit = (value: unknown, at: DocumentPath) => {
    order.set(pathKey(at), order.size);
    // Only config data: a TypeScript config may hold schemas and other (cyclic) objects.
    if (!Array.isArray(value) && !isPlainObject(value)) return;
    if (seen.has(value)) return;
    seen.add(value);
    for (const [key, child] of Object.entries(value)) {
      visit(child, [...at, Array.isArray(value) ? Number(key) : key]);
    }
  };
  visit(config, []);
  return order;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function pathKey(at: DocumentPath): string {
  return JSON.stringify(at);
}

export function configError(file: string, issue: RawIssue): ConfigError {
  return new ConfigError(locate([issue], { file, format: "object" }, undefined));
}
