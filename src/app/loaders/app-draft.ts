import path from "node:path";
import {
  IDENTITY_SOURCE,
  IDENTITY_SOURCE_EXPECTED,
  isStageName,
  STAGE_EXPECTED,
} from "../config-schema.js";
import { describeValue, listNames, quote } from "../describe-value.js";
import { type Resolved, resolveHandler } from "../handler-target.js";
import type { DocumentPath } from "../issue-location.js";
import type { LoadAppOptions } from "../load.js";
import {
  type App,
  type AppFormat,
  type Authorizer,
  CONNECT,
  DEFAULT_LIMITS,
  DEFAULT_ROUTE,
  DISCONNECT,
  type HandlerTarget,
  type Limits,
  type Route,
  type TableDeclaration,
} from "../model.js";
import { parseRouteSelectionExpression } from "../route-selection.js";
import type { SourceIssues } from "./source-issues.js";

/** A handler as a foreign format names it, translated to a `file#export` reference. */
export interface HandlerDraft {
  /** `file#export`, the file relative to the app root (extensions optional, as in configs). */
  ref: string;
  /** A method to call on the export (LambdaSharp's `Invoke`). */
  method?: string;
  /** Where the handler is written in the source. */
  at: DocumentPath;
  /** Where the method is written (defaults to `at`). */
  methodAt?: DocumentPath;
  /** The function's Lambda runtime, when the source names one (`nodejs20.x`). */
  runtime?: string;
}

/** One route as read from a foreign format, before its handler is checked. */
export interface RouteDraft {
  key: string;
  /** Where the route key is written. */
  at: DocumentPath;
  /** What declares the route, in the source's terms (`function connect`), for conflict messages. */
  declaredIn: string;
  handler: HandlerDraft;
  functionName?: string;
  routeResponse: boolean;
  timeoutMs: number;
  memoryMb: number;
  environment: Record<string, string>;
}

export interface AuthorizerDraft {
  name: string;
  handler: HandlerDraft;
  identitySource: string[];
  /** Where the identity sources are written. */
  identitySourceAt: DocumentPath;
}

/** What every foreign loader reads its format into; {@link finishApp} checks it and builds the App. */
export interface AppDraft {
  name: string;
  stage: string;
  /** Where the stage is written (issues about it point there). */
  stageAt?: DocumentPath;
  routeSelectionExpression: string;
  routeSelectionAt?: DocumentPath;
  routes: RouteDraft[];
  /** Where "no routes at all" is reported. */
  routesAt: DocumentPath;
  authorizer?: AuthorizerDraft;
  environment: Record<string, string>;
  limits?: Partial<Limits>;
  /** Declared DynamoDB tables (the local DynamoDB of `switchboard dev` creates them). */
  tables?: TableDeclaration[];
}

const SPECIAL_KEYS: readonly string[] = [CONNECT, DISCONNECT, DEFAULT_ROUTE];
const MAX_ROUTE_KEY = 128;
/** The longest integration timeout API Gateway allows; longer Lambda timeouts are cut to it. */
const MAX_INTEGRATION_SECONDS = 29;

/**
 * Check a draft (route keys, stage, route selection expression, identity sources, every
 * handler) and build the App. Issues go to `issues`; throws a ConfigError when there are any.
 *
 * @example
 * ```ts
 * const app = await finishApp(draft, { issues, format: "serverless", options });
 * ```
 */
export async function finishApp(
  draft: AppDraft,
  context: { issues: SourceIssues; format: AppFormat; options: LoadAppOptions; root?: string },
): Promise<App> {
  const { issues, options } = context;
  const root = context.root ?? path.dirname(issues.file);
  const stage = options.stage ?? draft.stage;
  if (options.stage !== undefined && !isStageName(options.stage)) {
    issues.add([], STAGE_EXPECTED, `${describeValue(options.stage)} from the stage option`);
  } else if (options.stage === undefined && !isStageName(draft.stage)) {
    issues.add(draft.stageAt ?? [], STAGE_EXPECTED, describeValue(draft.stage));
  }
  try {
    parseRouteSelectionExpression(draft.routeSelectionExpression);
  } catch (error) {
    issues.add(
      draft.routeSelectionAt ?? [],
      "a route selection expression such as $request.body.action",
      (error as Error).message,
    );
  }
  if (draft.routes.length === 0) {
    issues.add(draft.routesAt, "at least one WebSocket route", "none");
  }
  checkRouteKeys(draft.routes, issues);
  if (draft.authorizer) {
    draft.authorizer.identitySource.forEach((source, index) => {
      if (!IDENTITY_SOURCE.test(source)) {
        issues.add(
          [...draft.authorizer!.identitySourceAt, index],
          IDENTITY_SOURCE_EXPECTED,
          quote(source),
        );
      }
    });
  }

  options.beforeImport?.(
    Object.assign({}, draft.environment, ...draft.routes.map((route) => route.environment)),
  );
  const refContext = { root, loader: options.loader };
  const targets = new Map<RouteDraft, HandlerTarget>();
  let authorizerTarget: HandlerTarget | undefined;
  const check = async (handler: HandlerDraft, use: (target: HandlerTarget) => void) => {
    const result: Resolved<HandlerTarget> = await resolveHandler(handler.ref, handler.method, {
      ...refContext,
      ...(handler.runtime ? { runtime: handler.runtime } : {}),
    });
    if (result.ok) use(result.value);
    else {
      const { on, expected, found } = result.problem;
      issues.add(on === "method" ? (handler.methodAt ?? handler.at) : handler.at, expected, found);
    }
  };
  await Promise.all([
    ...draft.routes.map((route) => check(route.handler, (target) => targets.set(route, target))),
    ...(draft.authorizer
      ? [
          check(draft.authorizer.handler, (target) => {
            authorizerTarget = target;
          }),
        ]
      : []),
  ]);
  issues.throwIfAny();

  const routes = draft.routes.map(
    (route): Route => ({
      key: route.key,
      target: targets.get(route) as HandlerTarget,
      ...(route.functionName ? { functionName: route.functionName } : {}),
      routeResponse: route.routeResponse,
      timeoutMs: route.timeoutMs,
      memoryMb: route.memoryMb,
      environment: route.environment,
    }),
  );
  const authorizer: Authorizer | undefined =
    draft.authorizer && authorizerTarget
      ? {
          name: draft.authorizer.name,
          target: authorizerTarget,
          identitySource: draft.authorizer.identitySource,
        }
      : undefined;
  return {
    name: draft.name,
    stage,
    root,
    source: { file: issues.file, format: context.format },
    routeSelectionExpression: draft.routeSelectionExpression,
    routes,
    ...(authorizer ? { authorizer } : {}),
    connections: { ttlSeconds: 0, indexes: [] },
    environment: draft.environment,
    limits: { ...DEFAULT_LIMITS, ...draft.limits },
    ...(draft.tables?.length ? { tables: draft.tables } : {}),
  };
}

function checkRouteKeys(routes: readonly RouteDraft[], issues: SourceIssues): void {
  const first = new Map<string, RouteDraft>();
  for (const route of routes) {
    const { key } = route;
    if (key === "") {
      issues.add(route.at, "a non-empty route key", "an empty string");
      continue;
    }
    if (key.startsWith("$") && !SPECIAL_KEYS.includes(key)) {
      issues.add(
        route.at,
        `${listNames(SPECIAL_KEYS)} or a custom route key not starting with "$"`,
        quote(key),
      );
    } else if (key.length > MAX_ROUTE_KEY) {
      issues.add(
        route.at,
        `a route key of at most ${MAX_ROUTE_KEY} characters`,
        `${key.length} characters`,
      );
    }
    const earlier = first.get(key);
    if (earlier) {
      issues.add(
        route.at,
        `each route key once (API Gateway has one integration per route)`,
        `${quote(key)} again (already routed to ${earlier.declaredIn})`,
      );
    } else {
      first.set(key, route);
    }
  }
}

/**
 * A Lambda timeout in seconds, as the integration timeout in ms: API Gateway stops waiting at
 * 29 s whatever the function's own timeout. `undefined` (with an issue) when not a valid number.
 */
export function readTimeout(
  value: unknown,
  at: DocumentPath,
  issues: SourceIssues,
  fallbackSeconds: number,
): number {
  if (value === undefined || value === null) return toIntegrationMs(fallbackSeconds);
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > 900) {
    issues.add(at, "a number of seconds from 1 to 900", describeValue(value));
    return toIntegrationMs(fallbackSeconds);
  }
  return toIntegrationMs(value);
}

function toIntegrationMs(seconds: number): number {
  return Math.round(Math.min(seconds, MAX_INTEGRATION_SECONDS) * 1000);
}

/** A Lambda memory size in MB. */
export function readMemory(
  value: unknown,
  at: DocumentPath,
  issues: SourceIssues,
  fallback: number,
): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 128 || value > 10240) {
    issues.add(at, "a whole number of MB from 128 to 10240", describeValue(value));
    return fallback;
  }
  return value;
}

/**
 * Environment variables: strings, with numbers and booleans written as text (as CloudFormation
 * does); anything else is an issue.
 */
export function readEnvironment(
  value: unknown,
  at: DocumentPath,
  issues: SourceIssues,
): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    issues.add(at, "an object of environment variables", describeValue(value));
    return {};
  }
  const env: Record<string, string> = {};
  for (const [name, item] of Object.entries(value)) {
    if (typeof item === "string") env[name] = item;
    else if (typeof item === "number" || typeof item === "boolean") env[name] = String(item);
    else issues.add([...at, name], "a string", describeValue(item));
  }
  return env;
}

/**
 * Lambda's handler setting as a `file#export` reference under `dir`. As the Lambda runtime
 * reads it: the module is the last path segment up to its first dot, the rest an export path
 * (`src/index.handlers.send` is module `src/index`, export `handlers.send`).
 */
export function lambdaHandlerRef(handler: string, dir = ""): string | undefined {
  const slash = handler.lastIndexOf("/");
  const dot = handler.indexOf(".", slash + 1);
  if (dot <= slash + 1 || dot === handler.length - 1) return undefined;
  const file = handler.slice(0, dot);
  const name = handler.slice(dot + 1);
  return `${dir ? path.posix.join(dir.split(path.sep).join("/"), file) : file}#${name}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
