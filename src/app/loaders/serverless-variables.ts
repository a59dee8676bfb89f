import { describeValue, quote } from "../describe-value.js";
import type { DocumentPath } from "../issue-location.js";
import { isRecord } from "./app-draft.js";
import type { SourceIssues } from "./source-issues.js";

/** What `${opt:...}`, `${sls:...}` and `${aws:...}` stand for in a local run. */
export interface VariableSources {
  /** `--stage` given to switchboard (`${opt:stage}`); undefined when not given. */
  stage?: string;
  /** The region chosen for the run (`${opt:region}`); undefined when not chosen. */
  optRegion?: string;
  /** The region the service runs in (`${aws:region}`; `${opt:region}` with no fallback). */
  region: () => string;
  accountId: string;
  env: NodeJS.ProcessEnv;
}

const SUPPORTED = "self:, opt:stage, opt:region, env:, sls:stage, aws:region or aws:accountId";
/** The innermost `${...}`: no `${` inside it. */
const INNERMOST = /\$\{((?:(?!\$\{)[^}])*)\}/;
const MAX_DEPTH = 20;
const UNSUPPORTED = Symbol("unsupported variable source");

/**
 * Resolves Serverless Framework variables (`${self:custom.x}`, `${opt:stage, 'dev'}`,
 * `${env:TOKEN}`, `${sls:stage}`) in the parts of a `serverless.yml` asked for, innermost first, with
 * fallbacks. A string that is exactly one variable keeps the referenced value's type.
 * Other sources (`file()`, `ssm:`, `cf:`, `s3:`) are issues unless a fallback is given.
 *
 * @example
 * ```ts
 * const provider = new ServerlessVariables(doc, sources, issues).resolve(["provider"]);
 * ```
 */
export class ServerlessVariables {
  readonly #root: unknown;
  readonly #sources: VariableSources;
  readonly #issues: SourceIssues;
  readonly #resolving = new Set<string>();
  readonly #selfCache = new Map<string, unknown>();
  /** Serverless's own defaulting: `${sls:stage}` is `--stage`, else `provider.stage`, else dev. */
  #stage: string | undefined;

  constructor(root: unknown, sources: VariableSources, issues: SourceIssues) {
    this.#root = root;
    this.#sources = sources;
    this.#issues = issues;
  }

  /**
   * The value at `at` with every variable in it resolved (unresolvable ones left as written,
   * each with an issue). Undefined when the path does not exist.
   */
  resolve(at: readonly (string | number)[]): unknown {
    let current: unknown = this.#root;
    for (const segment of at) {
      if (Array.isArray(current) && typeof segment === "number") current = current[segment];
      else if (isRecord(current) && Object.hasOwn(current, segment)) current = current[segment];
      else return undefined;
    }
    return this.#value(current, at, 0);
  }

  /** The stage the app runs as. */
  stage(): string {
    if (this.#stage === undefined) {
      if (this.#sources.stage !== undefined) this.#stage = this.#sources.stage;
      else {
        this.#stage = "dev"; // while provider.stage resolves (it may use ${sls:stage} itself)
        const configured = this.#self("provider.stage", ["provider", "stage"], 0);
        // Unresolved (already reported): go on as dev so the rest is still checked.
        this.#stage =
          typeof configured === "string" && configured && !configured.includes("${")
            ? configured
            : "dev";
      }
    }
    return this.#stage;
  }

  #value(value: unknown, at: DocumentPath, depth: number): unknown {
    if (typeof value === "string") return this.#string(value, at, depth);
    if (Array.isArray(value))
      return value.map((item, index) => this.#value(item, [...at, index], depth));
    if (isRecord(value)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value))
        out[key] = this.#value(item, [...at, key], depth);
      return out;
    }
    return value;
  }

  #string(text: string, at: DocumentPath, depth: number): unknown {
    let current: unknown = text;
    let guard = 0;
    while (typeof current === "string" && guard++ < 100) {
      const match = INNERMOST.exec(current);
      if (!match) break;
      const whole = match[0] === current;
      const value = this.#variable(match[1] as string, at, depth);
      if (value === undefined) return text;
      if (whole) {
        current = value;
        break;
      }
      if (!isPrintable(value)) {
        this.#issues.add(
          at,
          "a variable with a string or number value inside text",
          `${quote(match[0])} is ${describeValue(value)}`,
        );
        return text;
      }
      current =
        current.slice(0, match.index) +
        String(value) +
        current.slice(match.index + match[0].length);
    }
    return current;
  }

  /** One `source:address, fallback, ...` expression; undefined (with an issue) when unresolved. */
  #variable(expression: string, at: DocumentPath, depth: number): unknown {
    const candidates = splitTopLevel(expression).map((part) => part.trim());
    let unsupported: string | undefined;
    for (const candidate of candidates) {
      const value = this.#candidate(candidate, at, depth);
      if (value === UNSUPPORTED) {
        unsupported ??= candidate;
        continue;
      }
      if (value !== undefined && value !== null) return value;
    }
    const written = `\${${expression}}`;
    if (unsupported !== undefined) {
      this.#issues.add(
        at,
        `a variable source Switchboard resolves locally (${SUPPORTED}) or a fallback`,
        quote(written),
      );
    } else if (candidates.includes("opt:region")) {
      // No --region and no fallback: the region of the local run, as the message above says.
      return this.#sources.region();
    } else if (candidates[0]?.startsWith("opt:stage")) {
      this.#issues.add(
        at,
        `a value for ${written} (pass --stage, or give a fallback: \${opt:stage, 'dev'})`,
        "none",
      );
    } else {
      this.#issues.add(at, `a value for ${written}`, "none (and no fallback)");
    }
    return undefined;
  }

  /** A literal or a source's value; undefined tries the next fallback. */
  #candidate(candidate: string, at: DocumentPath, depth: number): unknown {
    const quoted = /^(['"])(.*)\1$/s.exec(candidate);
    if (quoted) return quoted[2];
    if (/^-?\d+(\.\d+)?$/.test(candidate)) return Number(candidate);
    if (candidate === "true" || candidate === "false") return candidate === "true";
    const colon = candidate.indexOf(":");
    const source = colon < 0 ? candidate : candidate.slice(0, colon);
    const address = colon < 0 ? "" : candidate.slice(colon + 1);
    switch (source) {
      case "self":
        return this.#self(address, at, depth);
      case "opt":
        if (address === "stage") return this.#sources.stage;
        if (address === "region") return this.#sources.optRegion;
        return undefined;
      case "env":
        return this.#sources.env[address];
      case "sls":
        if (address === "stage") return this.stage();
        if (address === "instanceId") return "local";
        return UNSUPPORTED;
      case "aws":
        if (address === "region") return this.#sources.region();
        if (address === "accountId") return this.#sources.accountId;
        return UNSUPPORTED;
      default:
        // file(...), ssm:, cf:, s3:, param:, ...: a fallback still counts, as when unavailable.
        return UNSUPPORTED;
    }
  }

  #self(address: string, at: DocumentPath, depth: number): unknown {
    const cached = this.#selfCache.get(address);
    if (cached !== undefined) return cached;
    if (depth > MAX_DEPTH || this.#resolving.has(address)) {
      this.#issues.add(
        at,
        "variables that do not refer to themselves",
        quote(`\${self:${address}}`),
      );
      return undefined;
    }
    const segments = address === "" ? [] : address.split(".");
    let current: unknown = this.#root;
    for (const segment of segments) {
      if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
      else if (isRecord(current) && Object.hasOwn(current, segment)) current = current[segment];
      else return undefined;
    }
    this.#resolving.add(address);
    try {
      const resolved = this.#value(current, segments, depth + 1);
      this.#selfCache.set(address, resolved);
      return resolved;
    } finally {
      this.#resolving.delete(address);
    }
  }
}

function isPrintable(value: unknown): boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

/** Split on commas outside quotes and parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoteChar: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoteChar) {
      if (ch === quoteChar) quoteChar = undefined;
    } else if (ch === "'" || ch === '"') quoteChar = ch;
    else if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (ch === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
