import { z } from "zod";
import { isStandardSchema } from "../runtime/schema.js";
import type { AppConfig } from "./config.js";
import { describeValue, quote } from "./describe-value.js";
import { unknownKey } from "./did-you-mean.js";
import { ENV_NAME_EXPECTED, featureIssues, isEnvName } from "./feature-rules.js";
import type { DocumentPath, RawIssue } from "./issue-location.js";
import {
  authorizerRouteProblem,
  identitySourceProblem,
  isMemoryMb,
  isStageName,
  MEMORY_EXPECTED,
  type RuleProblem,
  routeCountProblem,
  routeKeyProblem,
  routeSelectionProblem,
  STAGE_EXPECTED,
} from "./rules.js";

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

/** A zod refinement from one of the app rules (rules.ts): its problem becomes the issue. */
function rule<T>(problem: (value: T) => RuleProblem | undefined) {
  return (value: T, ctx: z.core.$RefinementCtx<T>) => {
    const found = problem(value);
    if (found) {
      ctx.addIssue({ code: "custom", message: found.expected, params: { found: found.found } });
    }
  };
}

/** AWS integration timeout range, seconds. */
const timeout = numberIn(0.05, 29, "a number of seconds from 0.05 to 29");
const memory = z.number(expecting(MEMORY_EXPECTED)).refine(isMemoryMb, expecting(MEMORY_EXPECTED));
const bytes = integerIn(1, Number.MAX_SAFE_INTEGER, "a positive whole number of bytes");
const environment = z.record(z.string(), z.string(expecting("a string")), expecting("an object"));

const routeSelectionExpression = z
  .string(expecting("a string"))
  .superRefine(rule(routeSelectionProblem));

const body = z.custom<unknown>(
  (value) => typeof value === "string" || isStandardSchema(value),
  expecting('a Standard Schema or a "file#export" reference to one'),
);

/** Secrets: environment variable names, or `{ name, arn }` (an ARN of Secrets Manager). */
const secretName = z
  .string(expecting(ENV_NAME_EXPECTED))
  .refine(isEnvName, expecting(ENV_NAME_EXPECTED));
const secrets = z.array(
  z.union(
    [
      secretName,
      strict({
        name: secretName,
        arn: z
          .string(expecting("a Secrets Manager ARN (arn:aws:secretsmanager:...)"))
          .regex(
            /^arn:[a-z-]+:secretsmanager:/,
            expecting("a Secrets Manager ARN (arn:aws:secretsmanager:...)"),
          ),
      }),
    ],
    expecting("a secret name or { name, arn }"),
  ),
  expecting("an array of secret names"),
);

const STREAM = "true, false, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES or KEYS_ONLY";

/** A key attribute: a name (string attribute) or `{ name, type }`. */
const keyAttribute = z.union(
  [
    nonEmpty("an attribute name"),
    strict({
      name: nonEmpty("an attribute name"),
      type: z.enum(["string", "number", "binary"], expecting("string, number or binary")),
    }),
  ],
  expecting("an attribute name or { name, type }"),
);
const tableIndex = strict({
  partitionKey: keyAttribute,
  sortKey: keyAttribute.optional(),
  projection: z
    .union(
      [z.enum(["all", "keys"]), z.array(nonEmpty("an attribute name"))],
      expecting('"all", "keys" or an array of attribute names'),
    )
    .optional(),
});
const table = strict({
  partitionKey: keyAttribute,
  sortKey: keyAttribute.optional(),
  indexes: z.record(z.string(), tableIndex, expecting("an object of indexes by name")).optional(),
  ttl: nonEmpty("an attribute name").optional(),
  stream: z
    .union(
      [
        z.boolean(),
        z.enum(["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"], expecting(STREAM)),
      ],
      expecting(STREAM),
    )
    .optional(),
});
const tables = z.record(z.string(), table, expecting("an object of tables by name"));

const routeObject = strict({
  handler: nonEmpty(HANDLER_REF).optional(),
  method: nonEmpty("a method name").optional(),
  routeResponse: z.boolean(expecting("a boolean (true or false)")).optional(),
  body: body.optional(),
  timeout: timeout.optional(),
  memory: memory.optional(),
  environment: environment.optional(),
  secrets: secrets.optional(),
  tables: z.array(nonEmpty("a table name"), expecting("an array of table names")).optional(),
});

/** A route served by an HTTP backend (`HTTP_PROXY`) instead of a handler. */
const httpRouteObject = strict({
  http: z.url({ protocol: /^https?$/, error: () => "an http:// or https:// URL" }),
  method: z
    .enum(
      ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
      expecting("an HTTP method (POST, PUT, ...)"),
    )
    .optional(),
  routeResponse: z.boolean(expecting("a boolean (true or false)")).optional(),
  timeout: timeout.optional(),
  requestParameters: z
    .record(z.string(), z.string(expecting("a string")), expecting("an object"))
    .superRefine((map, ctx) => {
      for (const key of Object.keys(map)) {
        if (!/^integration\.request\.(header|querystring)\.[^.]+$/.test(key)) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: "integration.request.header.{name} or integration.request.querystring.{name}",
            params: { found: quote(key) },
          });
        }
      }
    })
    .optional(),
});

/**
 * A route: a handler reference, or an object of either kind, chosen by its keys: `http` makes
 * it an HTTP backend route, anything else a handler route (whose handler may come from the
 * top-level `handler`). Chosen up front rather than as a union: with every handler-route key
 * optional, a union would blame `http` as an unknown key of the handler route.
 */
const route = z.unknown().superRefine((value, ctx) => {
  const schema =
    typeof value === "string"
      ? nonEmpty(HANDLER_REF)
      : value !== null && typeof value === "object" && !Array.isArray(value)
        ? "http" in value
          ? httpRouteObject
          : routeObject
        : undefined;
  if (!schema) {
    ctx.addIssue({ code: "custom", message: `${HANDLER_REF} or a route object`, input: value });
    return;
  }
  const checked = schema.safeParse(value);
  if (!checked.success) for (const issue of checked.error.issues) ctx.addIssue({ ...issue });
});

const authorizer = strict({
  handler: nonEmpty(HANDLER_REF),
  method: nonEmpty("a method name").optional(),
  name: nonEmpty().optional(),
  identitySource: z
    .array(
      z.string(expecting("a string")).superRefine(rule(identitySourceProblem)),
      expecting("an array of identity sources"),
    )
    .optional(),
  timeout: timeout.optional(),
  memory: memory.optional(),
  environment: environment.optional(),
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

/** Every app-level setting a stage may override (all but `name`, `stage` and `stages`). */
const overridable = {
  routeSelectionExpression: routeSelectionExpression.optional(),
  authorizer: authorizer.optional(),
  connections: connections.optional(),
  environment: environment.optional(),
  limits: limits.optional(),
  handler: nonEmpty(HANDLER_REF).optional(),
  secrets: secrets.optional(),
  tables: tables.optional(),
  seed: nonEmpty(HANDLER_REF).optional(),
};
const routes = z.record(z.string(), route, expecting("an object of routes"));

/** The config shape of `switchboard.config.ts`, `switchboard.yaml` and `switchboard.json`. */
export const appConfigSchema = strict({
  name: nonEmpty(),
  stage: z.string(expecting("a string")).refine(isStageName, expecting(STAGE_EXPECTED)).optional(),
  // The order `validate` lists the allowed keys in: the original ones first.
  ...{ routeSelectionExpression: overridable.routeSelectionExpression, routes },
  ...overridable,
  stages: z
    .record(
      z.string(),
      strict({ ...overridable, routes: routes.optional() }),
      expecting("an object of stages"),
    )
    .optional(),
});

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
  issues.push(...routeKeyIssues(config), ...featureIssues(config));
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, config: result.data as AppConfig };
}

/** The app rules that span keys (rules.ts): route keys and count, authorizer ⇒ `$connect`. */
function routeKeyIssues(config: unknown): RawIssue[] {
  const routes = valueAt(config, ["routes"]);
  if (routes === null || typeof routes !== "object" || Array.isArray(routes)) return [];
  const keys = Object.keys(routes);
  const issues: RawIssue[] = [];
  const count = routeCountProblem(keys.length, "an empty object");
  if (count) return [{ path: ["routes"], ...count }];
  for (const key of keys) {
    const problem = routeKeyProblem(key, keys);
    if (problem) issues.push({ path: ["routes", key], ...problem });
  }
  const authorizer = valueAt(config, ["authorizer"]);
  if (authorizer !== undefined) {
    const problem = authorizerRouteProblem(keys);
    if (problem) issues.push({ path: ["authorizer"], ...problem });
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
        // The branch that got past the type check is the one the author meant; of two object
        // branches (a handler route, an http route), the one whose keys the value uses.
        const typed = issue.errors.filter((branch) => !isTypeMismatch(branch));
        const meant =
          typed.find(
            (branch) => !branch.some((i) => i.code === "unrecognized_keys" && i.path.length === 0),
          ) ?? typed[0];
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
