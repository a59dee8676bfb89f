import { describeValue, listNames, quote } from "./describe-value.js";
import { didYouMean, withSuggestion } from "./did-you-mean.js";
import { CONNECT, DEFAULT_ROUTE, DISCONNECT } from "./model.js";
import { parseRouteSelectionExpression } from "./route-selection.js";

/**
 * The rules every app obeys, whatever format declared it: checked by the native config's
 * validation (`config-schema.ts`), by every foreign loader (through `finishApp`) and by the
 * build (`planApp`), so that `switchboard validate` and `switchboard build` give one answer.
 * Each rule returns the "expected"/"found" halves of an issue, or `undefined` when satisfied;
 * the caller knows where the value is written.
 */
export interface RuleProblem {
  expected: string;
  found: string;
}

/** Route keys with a meaning of their own (the only ones that may start with `$`). */
export const SPECIAL_ROUTE_KEYS: readonly string[] = [CONNECT, DISCONNECT, DEFAULT_ROUTE];
/** API Gateway's limit on a route key's length. */
export const MAX_ROUTE_KEY = 128;

/**
 * A route key API Gateway accepts: non-empty, at most 128 characters, and `$` only for
 * `$connect`, `$disconnect` and `$default`. Any other character (`/`, `.`, `${`) is kept as is:
 * route selection compares the selected value to the key as text.
 *
 * @example
 * ```ts
 * routeKeyProblem("$other"); // { expected: '"$connect", ... or a custom route key ...', found: '"$other"' }
 * routeKeyProblem("$conect"); // found: '"$conect" (did you mean $connect?)'
 * ```
 */
export function routeKeyProblem(
  key: string,
  siblings: readonly string[] = [],
): RuleProblem | undefined {
  if (key === "") return { expected: "a non-empty route key", found: "an empty string" };
  if (key.startsWith("$") && !SPECIAL_ROUTE_KEYS.includes(key)) {
    return {
      expected: `${listNames(SPECIAL_ROUTE_KEYS)} or a custom route key not starting with "$"`,
      // A misspelled `$connect` is the likely case: say which one (unless it is there already).
      found: withSuggestion(quote(key), didYouMean(key, SPECIAL_ROUTE_KEYS, siblings)),
    };
  }
  if (key.length > MAX_ROUTE_KEY) {
    return {
      expected: `a route key of at most ${MAX_ROUTE_KEY} characters`,
      found: `${key.length} characters`,
    };
  }
  return undefined;
}

/** An app needs at least one route (API Gateway will not deploy a WebSocket API without one). */
export function routeCountProblem(count: number, found = "none"): RuleProblem | undefined {
  return count === 0 ? { expected: "at least one route", found } : undefined;
}

const STAGE_PATTERN = /^[A-Za-z0-9_-]+$/;
/** The expected text for a stage name. */
export const STAGE_EXPECTED = "a stage name of letters, digits, _ and -";

/** True when `name` is usable as an AWS stage name. */
export function isStageName(name: string): boolean {
  return STAGE_PATTERN.test(name);
}

/** An API Gateway stage name: letters, digits, `_` and `-`. */
export function stageProblem(name: unknown, describe: (value: unknown) => string) {
  if (typeof name === "string" && isStageName(name)) return undefined;
  return { expected: STAGE_EXPECTED, found: describe(name) };
}

const IDENTITY_SOURCE =
  /^(?:route\.request\.header|route\.request\.querystring|stageVariables|context)\.\S+$/;
export const IDENTITY_SOURCE_EXPECTED =
  "route.request.header.<name>, route.request.querystring.<name>, stageVariables.<name> or context.<name>";

/** An API Gateway identity source (REQUEST authorizers): where the authorizer's input comes from. */
export function identitySourceProblem(source: string): RuleProblem | undefined {
  return IDENTITY_SOURCE.test(source)
    ? undefined
    : { expected: IDENTITY_SOURCE_EXPECTED, found: describeValue(source) };
}

/**
 * An authorizer needs a `$connect` route: AWS attaches REQUEST authorizers to `$connect` only,
 * so an app with one and no `$connect` cannot be deployed.
 */
export function authorizerRouteProblem(routeKeys: readonly string[]): RuleProblem | undefined {
  if (routeKeys.includes(CONNECT)) return undefined;
  return {
    expected: "a $connect route for the authorizer (AWS runs REQUEST authorizers on $connect only)",
    found: `no $connect route (routes: ${routeKeys.join(", ") || "none"})`,
  };
}

export const ROUTE_SELECTION_EXPECTED = "a route selection expression such as $request.body.action";

/** A route selection expression API Gateway accepts (see route-selection.ts). */
export function routeSelectionProblem(expression: string): RuleProblem | undefined {
  try {
    parseRouteSelectionExpression(expression);
    return undefined;
  } catch (error) {
    return { expected: ROUTE_SELECTION_EXPECTED, found: (error as Error).message };
  }
}

/** Lambda's memory range, MB. */
export const MEMORY_EXPECTED = "a whole number of MB from 128 to 10240";

/** A Lambda memory size. */
export function isMemoryMb(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 128 && value <= 10240;
}
