import path from "node:path";
import { describeValue, quote } from "../describe-value.js";
import { type Resolved, resolveHandler } from "../handler-target.js";
import type { Integration } from "../integration.js";
import type { DocumentPath } from "../issue-location.js";
import type { LoadAppOptions } from "../load-options.js";
import {
  type App,
  type AppFormat,
  type Authorizer,
  DEFAULT_LIMITS,
  type HandlerTarget,
  type Limits,
  type Route,
  type TableDeclaration,
} from "../model.js";
import {
  authorizerRouteProblem,
  identitySourceProblem,
  isMemoryMb,
  MEMORY_EXPECTED,
  type RuleProblem,
  routeCountProblem,
  routeKeyProblem,
  routeSelectionProblem,
  stageProblem,
} from "../rules.js";
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
  /** The function it runs; absent for a backend integration (MOCK, HTTP, ...). */
  handler?: HandlerDraft;
  /** Not a Lambda proxy: how the route reaches its backend (see `integration.ts`). */
  integration?: Integration;
  functionName?: string;
  routeResponse: boolean;
  timeoutMs: number;
  memoryMb: number;
  environment: Record<string, string>;
  /** The Lambda runtime declared (`nodejs20.x`), when one is. */
  runtime?: string;
}

/** What the source declares about the authorizer's own function (absent: the defaults). */
export interface FunctionSettingsDraft {
  functionName?: string;
  timeoutMs?: number;
  memoryMb?: number;
  environment?: Record<string, string>;
  runtime?: string;
}

export interface AuthorizerDraft extends FunctionSettingsDraft {
  name: string;
  handler: HandlerDraft;
  identitySource: string[];
  /** Where the identity sources are written. */
  identitySourceAt: DocumentPath;
  /** Where the authorizer is declared (issues about the authorizer as a whole point there). */
  at?: DocumentPath;
}

/** What every foreign loader reads its format into; {@link finishApp} checks it and builds the App. */
export interface AppDraft {
  name: string;
  stage: string;
  /** The region the source declares for its functions. */
  region?: string;
  /** The static files folder the source declares, relative to the app root. */
  staticDir?: string;
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
  const report = (at: DocumentPath, problem: RuleProblem | undefined) => {
    if (problem) issues.add(at, problem.expected, problem.found);
  };
  // The app rules (rules.ts), as the native format's validation and the build check them.
  if (options.stage !== undefined) {
    report(
      [],
      stageProblem(options.stage, (v) => `${describeValue(v)} from the stage option`),
    );
  } else {
    report(draft.stageAt ?? [], stageProblem(draft.stage, describeValue));
  }
  report(draft.routeSelectionAt ?? [], routeSelectionProblem(draft.routeSelectionExpression));
  report(draft.routesAt, routeCountProblem(draft.routes.length));
  checkRouteKeys(draft.routes, issues);
  if (draft.authorizer) {
    const { identitySource, identitySourceAt } = draft.authorizer;
    identitySource.forEach((source, index) => {
      report([...identitySourceAt, index], identitySourceProblem(source));
    });
    report(
      draft.authorizer.at ?? draft.routesAt,
      authorizerRouteProblem(draft.routes.map((route) => route.key)),
    );
  }

  options.beforeImport?.(
    Object.assign(
      {},
      // What Lambda sets in the function's region, for code that reads it at import.
      options.region || draft.region ? { AWS_REGION: options.region ?? draft.region } : {},
      draft.environment,
      ...draft.routes.map((route) => route.environment),
      draft.authorizer?.environment,
    ),
  );
  const refContext = { root, loader: options.loader };
  const targets = new Map<RouteDraft, HandlerTarget>();
  let authorizerTarget: HandlerTarget | undefined;
  // The runtime is the function's: on its handler target, whichever level the source named it at.
  const check = async (
    handler: HandlerDraft,
    declared: string | undefined,
    use: (target: HandlerTarget) => void,
  ) => {
    const runtime = handler.runtime ?? declared;
    const result: Resolved<HandlerTarget> = await resolveHandler(handler.ref, handler.method, {
      ...refContext,
      ...(runtime ? { runtime } : {}),
    });
    if (result.ok) use(result.value);
    else {
      const { on, expected, found } = result.problem;
      issues.add(on === "method" ? (handler.methodAt ?? handler.at) : handler.at, expected, found);
    }
  };
  await Promise.all([
    ...draft.routes.map((route) =>
      route.handler
        ? check(route.handler, route.runtime, (target) => targets.set(route, target))
        : undefined,
    ),
    ...(draft.authorizer
      ? [
          check(draft.authorizer.handler, draft.authorizer.runtime, (target) => {
            authorizerTarget = target;
          }),
        ]
      : []),
  ]);
  issues.throwIfAny();
  const warnings = issues.warnings();

  const routes = draft.routes.map((route): Route => {
    const common = {
      key: route.key,
      ...(route.functionName ? { functionName: route.functionName } : {}),
      routeResponse: route.routeResponse,
      timeoutMs: route.timeoutMs,
      memoryMb: route.memoryMb,
      environment: route.environment,
    };
    const target = targets.get(route);
    const integration = route.integration;
    if (target) {
      return integration?.kind === "aws-lambda"
        ? { ...common, target, integration }
        : { ...common, target };
    }
    return {
      ...common,
      integration:
        integration && integration.kind !== "aws-lambda"
          ? integration
          : { kind: "unemulated", type: "AWS", reason: "no function to invoke" },
    };
  });
  const authorizer: Authorizer | undefined =
    draft.authorizer && authorizerTarget
      ? {
          name: draft.authorizer.name,
          target: authorizerTarget,
          identitySource: draft.authorizer.identitySource,
          ...functionSettings(draft.authorizer),
        }
      : undefined;
  return {
    name: draft.name,
    stage,
    ...(options.region || draft.region ? { region: options.region ?? draft.region } : {}),
    root,
    ...(draft.staticDir !== undefined ? { staticDir: path.resolve(root, draft.staticDir) } : {}),
    source: { file: issues.file, format: context.format },
    routeSelectionExpression: draft.routeSelectionExpression,
    routes,
    ...(authorizer ? { authorizer } : {}),
    connections: { ttlSeconds: 0, indexes: [] },
    environment: draft.environment,
    limits: { ...DEFAULT_LIMITS, ...draft.limits },
    ...(draft.tables?.length ? { tables: draft.tables } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** The declared settings only (an undefined one keeps the default). */
function functionSettings(draft: FunctionSettingsDraft): FunctionSettingsDraft {
  const { functionName, timeoutMs, memoryMb, environment } = draft;
  return Object.fromEntries(
    Object.entries({ functionName, timeoutMs, memoryMb, environment }).filter(
      ([, value]) => value !== undefined,
    ),
  );
}

function checkRouteKeys(routes: readonly RouteDraft[], issues: SourceIssues): void {
  const first = new Map<string, RouteDraft>();
  for (const route of routes) {
    const { key } = route;
    const problem = routeKeyProblem(key);
    if (problem) issues.add(route.at, problem.expected, problem.found);
    if (key === "") continue;
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
  if (!isMemoryMb(value)) {
    issues.add(at, MEMORY_EXPECTED, describeValue(value));
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

/** A declared Node.js Lambda runtime worth carrying (`nodejs20.x`); anything else is the loader's issue. */
export function nodeRuntime(value: unknown): string | undefined {
  return typeof value === "string" && /^nodejs\d+\.x$/.test(value) ? value : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
