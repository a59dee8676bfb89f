import { z } from "zod";
import { isStandardSchema } from "../runtime/schema.js";
import type { AppConfig } from "./config.js";
import { describeValue, listNames, quote } from "./describe-value.js";
import { didYouMean, unknownKey, withSuggestion } from "./did-you-mean.js";
import type { DocumentPath, RawIssue } from "./issue-location.js";
import { CONNECT, DEFAULT_ROUTE, DISCONNECT } from "./model.js";
import { parseRouteSelectionExpression } from "./route-selection.js";

// Each schema's error message is the "expected" half of an issue; issues without one get ""
// from the parse-level map and are described from zod's own fields (see `translate`).
const expecting = (text: string) => ({ error: text });

/** The keys each strict object allows, by the "expected" text of its unknown-key issue. */
const ALLOWED_KEYS = new Map<string, readonly string[]>();

/** A strict object whose unknown-key issue lists the keys it does allow. */
function strict<T extends z.core.$ZodLooseShape>(shape: T) {
  const allowed = `one of ${Object.keys(shape).join(", ")}`;
  ALLOWED_KEYS.set(allowed, Object.keys(shape));
  return z.strictObject(shape, {
    error: (issue) => (issue.code === "unrecognized_keys" ? allowed : "an object"),
  });
}

const nonEmpty = (text = "a non-empty string") =>
  z.string(expecting(text)).refine((value) => value.length > 0, expecting(text));

const numberIn = (min: number, max: number, text: string) =>
  z.number(expecting(text)).refine((value) => value >= min && value <= max, expecting(text));

const integerIn = (min: number, max: number, text: string) =>
  z
    .number(expecting(text))
    .refine((value) => Number.isInteger(value) && value >= min && value <= max, expecting(text));

const HANDLER_REF = 'a handler reference ("file#export")';
const STAGE_PATTERN = /^[A-Za-z0-9_-]+$/;
/** The expected text for a stage name; shared with the `stage` option check. */
export const STAGE_EXPECTED = "a stage name of letters, digits, _ and -";
/** An API Gateway identity source (REQUEST authorizers): where the authorizer's input comes from. */
export const IDENTITY_SOURCE =
  /^(?:route\.request\.header|route\.request\.querystring|stageVariables|context)\.\S+$/;
export const IDENTITY_SOURCE_EXPECTED =
  "route.request.header.<name>, route.request.querystring.<name>, stageVariables.<name> or context.<name>";

/** AWS integration timeout range, seconds. */
const timeout = numberIn(0.05, 29, "a number of seconds from 0.05 to 29");
const memory = integerIn(128, 10240, "a whole number of MB from 128 to 10240");
const bytes = integerIn(1, Number.MAX_SAFE_INTEGER, "a positive whole number of bytes");
const environment = z.record(z.string(), z.string(expecting("a string")), expecting("an object"));

const routeSelectionExpression = z.string(expecting("a string")).superRefine((value, ctx) => {
  try {
    parseRouteSelectionExpression(value);
  } catch (error) {
    ctx.addIssue({
      code: "custom",
      message: "a route selection expression such as $request.body.action",
      params: { found: (error as Error).message },
    });
  }
});

const body = z.custom<unknown>(
  (value) => typeof value === "string" || isStandardSchema(value),
  expecting('a Standard Schema or a "file#export" reference to one'),
);

const routeObject = strict({
  handler: nonEmpty(HANDLER_REF),
  method: nonEmpty("a method name").optional(),
  routeResponse: z.boolean(expecting("a boolean (true or false)")).optional(),
  body: body.optional(),
  timeout: timeout.optional(),
  memory: memory.optional(),
  environment: environment.optional(),
});

const route = z.union([nonEmpty(HANDLER_REF), routeObject], {
  error: (issue) =>
    issue.code === "invalid_union" ? `${HANDLER_REF} or a route object` : undefined,
});

const authorizer = strict({
  handler: nonEmpty(HANDLER_REF),
  method: nonEmpty("a method name").optional(),
  name: nonEmpty().optional(),
  identitySource: z
    .array(
      z
        .string(expecting("a string"))
        .refine((value) => IDENTITY_SOURCE.test(value), expecting(IDENTITY_SOURCE_EXPECTED)),
      expecting("an array of identity sources"),
    )
    .optional(),
});

const limits = strict({
  messageBytes: bytes.optional(),
  frameBytes: bytes.optional(),
  idleTimeout: numberIn(
    Number.MIN_VALUE,
    600,
    "a number of seconds above 0, at most 600",
  ).optional(),
  maxConnectionDuration: numberIn(
    Number.MIN_VALUE,
    7200,
    "a number of seconds above 0, at most 7200",
  ).optional(),
  timeout: timeout.optional(),
});

/** A connection index is a GSI `<field>-index` on a table keyed by `connectionId`. */
const INDEX_FIELD = /^[A-Za-z0-9_.-]+$/;
const indexes = z
  .array(nonEmpty("a field name"), expecting("an array of field names"))
  .superRefine((fields, ctx) => {
    const seen = new Set<string>();
    fields.forEach((field, index) => {
      const problem = (message: string, found = quote(field)) =>
        ctx.addIssue({ code: "custom", path: [index], message, params: { found } });
      if (field === "") return;
      if (field === "connectionId") {
        problem("a field other than connectionId (the table's key)");
      } else if (seen.has(field)) {
        problem("each field once", `${quote(field)} again`);
      } else if (!INDEX_FIELD.test(field)) {
        problem("a field name of letters, digits, _, . and - (the index is named <field>-index)");
      }
      seen.add(field);
    });
  });

const connections = strict({
  ttl: integerIn(0, Number.MAX_SAFE_INTEGER, "a whole number of seconds, 0 or more").optional(),
  indexes: indexes.optional(),
});

/** The config shape of `switchboard.config.ts`, `switchboard.yaml` and `switchboard.json`. */
export const appConfigSchema = strict({
  name: nonEmpty(),
  stage: z
    .string(expecting("a string"))
    .refine((value) => STAGE_PATTERN.test(value), expecting(STAGE_EXPECTED))
    .optional(),
  routeSelectionExpression: routeSelectionExpression.optional(),
  routes: z.record(z.string(), route, expecting("an object of routes")),
  authorizer: authorizer.optional(),
  connections: connections.optional(),
  environment: environment.optional(),
  limits: limits.optional(),
});

/** True when `name` is usable as an AWS stage name. */
export function isStageName(name: string): boolean {
  return STAGE_PATTERN.test(name);
}

const SPECIAL_KEYS: readonly string[] = [CONNECT, DISCONNECT, DEFAULT_ROUTE];
const MAX_ROUTE_KEY = 128;

/**
 * Validate a parsed config's shape: every problem, none skipped.
 *
 * @example
 * ```ts
 * const result = checkConfigShape({ name: "chat", routes: { send: 42 } });
 * if (!result.ok) console.log(result.issues); // routes.send — expected a handler reference ...
 * ```
 */
export function checkConfigShape(
  config: unknown,
): { ok: true; config: AppConfig } | { ok: false; issues: RawIssue[] } {
  const result = appConfigSchema.safeParse(config, { error: () => "" });
  const issues = result.success ? [] : translate(result.error.issues, [], config);
  issues.push(...routeKeyIssues(config));
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, config: result.data as AppConfig };
}

function routeKeyIssues(config: unknown): RawIssue[] {
  const routes = valueAt(config, ["routes"]);
  if (routes === null || typeof routes !== "object" || Array.isArray(routes)) return [];
  const keys = Object.keys(routes);
  if (keys.length === 0) {
    return [{ path: ["routes"], expected: "at least one route", found: "an empty object" }];
  }
  const issues: RawIssue[] = [];
  for (const key of keys) {
    const path = ["routes", key];
    if (key === "") {
      issues.push({ path, expected: "a non-empty route key", found: "an empty string" });
    } else if (key.startsWith("$") && !SPECIAL_KEYS.includes(key)) {
      issues.push({
        path,
        expected: `${listNames(SPECIAL_KEYS)} or a custom route key not starting with "$"`,
        found: withSuggestion(quote(key), didYouMean(key, SPECIAL_KEYS, keys)),
      });
    } else if (key.length > MAX_ROUTE_KEY) {
      issues.push({
        path,
        expected: `a route key of at most ${MAX_ROUTE_KEY} characters`,
        found: `${key.length} characters`,
      });
    }
  }
  return issues;
}

function translate(issues: readonly z.core.$ZodIssue[], base: DocumentPath, root: unknown) {
  const out: RawIssue[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))];
    const value = valueAt(root, path);
    switch (issue.code) {
      case "unrecognized_keys": {
        const allowed = ALLOWED_KEYS.get(issue.message) ?? [];
        const present = value !== null && typeof value === "object" ? Object.keys(value) : [];
        for (const key of issue.keys) {
          out.push({
            path: [...path, key],
            expected: issue.message,
            found: unknownKey(key, allowed, present),
          });
        }
        break;
      }
      case "invalid_union": {
        // The branch that got past the type check is the one the author meant.
        const meant = issue.errors.find((branch) => !isTypeMismatch(branch));
        if (meant) out.push(...translate(meant, path, root));
        else
          out.push({
            path,
            expected: issue.message || "another type",
            found: describeValue(value),
          });
        break;
      }
      case "invalid_type":
        out.push({
          path,
          expected: issue.message || typeText(issue.expected),
          found: describeValue(value),
        });
        break;
      default: {
        const found = (issue as { params?: { found?: unknown } }).params?.found;
        out.push({
          path,
          expected: issue.message || "a valid value",
          found: typeof found === "string" ? found : describeValue(value),
        });
      }
    }
  }
  return out;
}

function isTypeMismatch(branch: readonly z.core.$ZodIssue[]): boolean {
  const [first] = branch;
  return branch.length === 1 && first?.code === "invalid_type" && first.path.length === 0;
}

function typeText(type: string): string {
  if (type === "record" || type === "object") return "an object";
  if (type === "array") return "an array";
  if (type === "int") return "a whole number";
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** The value at a document path, or `undefined` when the path does not exist. */
export function valueAt(root: unknown, path: DocumentPath): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}
