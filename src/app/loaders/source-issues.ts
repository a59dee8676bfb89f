import path from "node:path";
import type { Tags } from "yaml";
import { ConfigError, type ConfigIssue } from "../../errors.js";
import { parseConfigDocument } from "../config-document.js";
import {
  type DocumentPath,
  displayFile,
  formatDocumentPath,
  type Position,
  type RawIssue,
} from "../issue-location.js";
import type { LoadWarning } from "../load-warning.js";

/** Where a path of a foreign config is written; `undefined` when it is not (or not known). */
export type PositionOf = (at: DocumentPath) => Position | undefined;

/**
 * The problems a foreign-format loader finds in one file, reported together: located by the
 * nearest written ancestor of each path, in the order they appear in the file.
 *
 * @example
 * ```ts
 * const issues = new SourceIssues("/app/serverless.yml", doc.positionOf);
 * issues.add(["provider", "stage"], "a stage name", 'a number (1)');
 * issues.throwIfAny(); // ConfigError: serverless.yml:3:3 provider.stage — expected ...
 * ```
 */
export class SourceIssues {
  readonly file: string;
  readonly #positionOf: PositionOf | undefined;
  readonly #issues: RawIssue[] = [];
  readonly #seen = new Set<string>();
  readonly #warnings: { path: DocumentPath; message: string }[] = [];

  constructor(file: string, positionOf?: PositionOf) {
    this.file = path.resolve(file);
    this.#positionOf = positionOf;
  }

  get size(): number {
    return this.#issues.length;
  }

  add(at: DocumentPath, expected: string, found: string, position?: Position): void {
    // A value reached twice (a `${self:...}` target, a shared function) is reported once.
    const key = JSON.stringify([at, expected, found]);
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#issues.push({ path: at, expected, found, ...(position ? { at: position } : {}) });
  }

  addAll(issues: readonly RawIssue[]): void {
    this.#issues.push(...issues);
  }

  /** A warning: accepted as the source framework accepts it, but maybe not meant. */
  warn(at: DocumentPath, message: string): void {
    this.#warnings.push({ path: at, message });
  }

  /** Every warning so far, located. */
  warnings(): LoadWarning[] {
    const file = displayFile(this.file);
    return this.#warnings.map(({ path: at, message }) => {
      const position = this.#nearest(at);
      return {
        file,
        ...(position ? { line: position.line, column: position.column } : {}),
        path: formatDocumentPath(at),
        message,
      };
    });
  }

  /** Every issue, located and sorted by line (unlocated ones first, in the order found). */
  located(): ConfigIssue[] {
    const file = displayFile(this.file);
    return this.#issues
      .map((issue, index) => ({ issue, index, at: issue.at ?? this.#nearest(issue.path) }))
      .sort(
        (a, b) =>
          (a.at?.line ?? 0) - (b.at?.line ?? 0) ||
          (a.at?.column ?? 0) - (b.at?.column ?? 0) ||
          a.index - b.index,
      )
      .map(({ issue, at }) => ({
        file,
        ...(at ? { line: at.line, column: at.column } : {}),
        path: formatDocumentPath(issue.path),
        expected: issue.expected,
        found: issue.found,
      }));
  }

  /** Throw a {@link ConfigError} with every issue so far, if there is one. */
  throwIfAny(): void {
    if (this.#issues.length > 0) throw new ConfigError(this.located());
  }

  #nearest(at: DocumentPath): Position | undefined {
    if (!this.#positionOf) return undefined;
    for (let n = at.length; n >= 0; n--) {
      const found = this.#positionOf(at.slice(0, n));
      if (found) return found;
    }
    return undefined;
  }
}

/** A foreign config file read as data, with the issues that leave it usable already added. */
export interface ParsedSource {
  value: unknown;
  issues: SourceIssues;
}

/**
 * Parse a foreign config file's text as JSON (a `.json` file) or YAML (anything else), with
 * the format's own tags (CloudFormation's `!Ref`, `!Sub`, ...). Syntax errors throw a
 * {@link ConfigError} at once; problems that leave the value usable (duplicate keys) are
 * already in the returned `issues`, located in `file`.
 *
 * @example
 * ```ts
 * const { value, issues } = parseSource("/app/template.yaml", text, CLOUDFORMATION_TAGS);
 * ```
 */
export function parseSource(file: string, text: string, customTags?: Tags): ParsedSource {
  const doc = parseConfigDocument(text, path.extname(file) === ".json" ? "json" : "yaml", {
    ...(customTags ? { customTags } : {}),
  });
  const issues = new SourceIssues(file, doc.positionOf);
  issues.addAll(doc.syntaxIssues);
  issues.throwIfAny();
  issues.addAll(doc.issues);
  return { value: doc.value, issues };
}
