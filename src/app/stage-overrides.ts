import type { DocumentPath, RawIssue } from "./issue-location.js";

/**
 * A native config with one stage's overrides (`stages.<stage>`) applied: objects merge key by
 * key (a route's settings over the route's, a string route becoming `{ handler }` first),
 * anything else (strings, numbers, arrays) is replaced. `stages` itself is dropped from the
 * result. Also returns a function that rewrites an issue found on the result to the place
 * its value came from, so an error in an override names `stages.<stage>.…`.
 *
 * @example
 * ```ts
 * const { config } = applyStage(
 *   { name: "chat", routes: { send: "a.ts#send" }, stages: { prod: { routes: { send: { memory: 2048 } } } } },
 *   "prod",
 * );
 * config.routes.send; // { handler: "a.ts#send", memory: 2048 }
 * ```
 */
export function applyStage(
  config: unknown,
  stage: string,
): { config: unknown; locate: (issue: RawIssue) => RawIssue } {
  if (!isRecord(config)) return { config, locate: (issue) => issue };
  const { stages, ...rest } = config;
  const override = isRecord(stages) && Object.hasOwn(stages, stage) ? stages[stage] : undefined;
  if (!isRecord(override)) return { config: rest, locate: (issue) => issue };
  const merged = merge(rest, override, []);
  const locate = (issue: RawIssue): RawIssue =>
    within(override, issue.path) ? { ...issue, path: ["stages", stage, ...issue.path] } : issue;
  return { config: merged, locate };
}

function merge(base: unknown, over: unknown, at: DocumentPath): unknown {
  if (over === undefined) return base;
  // A route written as a string is `{ handler }`: an override's route settings go over it.
  const asRoute = at.length === 2 && at[0] === "routes" && typeof base === "string";
  const from = asRoute && isRecord(over) ? { handler: base } : base;
  if (!isRecord(from) || !isRecord(over)) return over;
  const out: Record<string, unknown> = { ...from };
  for (const [key, value] of Object.entries(over)) out[key] = merge(from[key], value, [...at, key]);
  return out;
}

/** Whether the override writes the value at `path` (or one inside it). */
function within(override: Record<string, unknown>, path: DocumentPath): boolean {
  let current: unknown = override;
  for (const segment of path) {
    if (!isRecord(current) && !Array.isArray(current)) return false;
    if (!Object.hasOwn(current, segment)) return false;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return path.length > 0;
}

/** Plain objects only: a schema object (zod, valibot) in a TypeScript config is a value, not settings. */
function isRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
