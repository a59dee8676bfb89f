import { readFile } from "node:fs/promises";
import path from "node:path";
import { ConfigError } from "../../errors.js";
import { isStandardSchema } from "../../runtime/schema.js";
import type { AppConfig, HttpRouteConfig, RouteConfig } from "../config.js";
import { parseConfigDocument } from "../config-document.js";
import { checkConfigShape, valueAt } from "../config-schema.js";
import { describeValue, listNames, quote } from "../describe-value.js";
import {
  type RefContext,
  type Resolved,
  resolveHandler,
  resolveSchemaRef,
} from "../handler-target.js";
import type { DocumentPath, RawIssue } from "../issue-location.js";
import type { ConfigSource, LoadAppOptions } from "../load-options.js";
import { configError, locate } from "../locate-issues.js";
import {
  type App,
  type AppFormat,
  type Authorizer,
  type BodySchema,
  DEFAULT_LIMITS,
  DEFAULT_MEMORY_MB,
  DEFAULT_ROUTE_SELECTION_EXPRESSION,
  DEFAULT_STAGE,
  type HandlerTarget,
  type Limits,
  type Route,
} from "../model.js";
import { ModuleBuildError, type ModuleLoader } from "../module-loader.js";
import { isStageName, STAGE_EXPECTED } from "../rules.js";

const FORMAT_BY_EXTENSION: Record<string, AppFormat> = {
  ".ts": "switchboard-ts",
  ".mts": "switchboard-ts",
  ".cts": "switchboard-ts",
  ".js": "switchboard-ts",
  ".mjs": "switchboard-ts",
  ".cjs": "switchboard-ts",
  ".yaml": "switchboard-yaml",
  ".yml": "switchboard-yaml",
  ".json": "switchboard-json",
};

const DEFAULT_AUTHORIZER_NAME = "authorizer";
const DEFAULT_IDENTITY_SOURCE = "route.request.header.Authorization";

/** String values of an environment-shaped value (anything else is the validator's business). */
function stringEntries(value: unknown): Record<string, string> {
  if (!value || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter(
      (entry): entry is [string, string] => typeof entry[1] === "string",
    ),
  );
}

/** The environment a raw config gives its functions: the app's, then each route's. */
function rawEnvironment(config: unknown): Record<string, string> {
  const env = stringEntries(valueAt(config, ["environment"]));
  const routes = valueAt(config, ["routes"]);
  if (routes && typeof routes === "object") {
    for (const route of Object.values(routes)) {
      if (route && typeof route === "object")
        Object.assign(env, stringEntries((route as { environment?: unknown }).environment));
    }
  }
  Object.assign(env, stringEntries(valueAt(config, ["authorizer", "environment"])));
  return env;
}

/**
 * Load Switchboard's own format: `switchboard.config.ts` (and `.mts`, `.js`, `.mjs`; the
 * default export, or an export named `app`), `switchboard.yaml`/`.yml` or `switchboard.json`.
 * Throws a {@link ConfigError} listing every problem, located by line and column for YAML and
 * JSON.
 *
 * @example
 * ```ts
 * const app = await loadNative("/app/switchboard.yaml", { loader });
 * ```
 */
export async function loadNative(file: string, options: LoadAppOptions): Promise<App> {
  const format = FORMAT_BY_EXTENSION[path.extname(file)];
  if (!format) {
    throw configError(file, {
      path: [],
      expected: `a .ts, .mts, .js, .mjs, .yaml, .yml or .json config file`,
      found: quote(path.basename(file)),
    });
  }
  if (format === "switchboard-ts") {
    return appFromConfig(await importConfig(file, options.loader), { file, format }, options);
  }
  const text = await readFile(file, "utf8");
  const doc = parseConfigDocument(text, format === "switchboard-json" ? "json" : "yaml");
  const source: ConfigSource = { file, format, positions: doc.positionOf };
  if (doc.syntaxIssues.length > 0)
    throw new ConfigError(locate(doc.syntaxIssues, source, undefined));
  return buildApp(doc.value, source, options, doc.issues);
}

/**
 * Validate and normalize a config that is already data (a YAML/JSON document, a TypeScript
 * config's default export, or what a foreign-format loader produced). Throws a
 * {@link ConfigError} listing every problem.
 *
 * @example
 * ```ts
 * const app = await appFromConfig(
 *   { name: "chat", routes: { $default: "src/echo.ts" } },
 *   { file: "/app/switchboard.config.ts", format: "object" },
 *   { loader },
 * );
 * ```
 */
export function appFromConfig(
  config: unknown,
  source: ConfigSource,
  options: LoadAppOptions,
): Promise<App> {
  return buildApp(config, source, options, []);
}

async function importConfig(file: string, loader: ModuleLoader): Promise<unknown> {
  let exports: Record<string, unknown>;
  try {
    exports = (await loader.load(file)).exports;
  } catch (error) {
    const found =
      error instanceof ModuleBuildError
        ? error.details.join("; ")
        : `an error: ${(error as Error).message}`;
    throw configError(file, { path: [], expected: "a config module that builds and loads", found });
  }
  const config = exports.default ?? exports.app;
  if (config === undefined) {
    throw configError(file, {
      path: [],
      expected: "a default export (or an export named app) with the app config",
      found: `no such export (has: ${listNames(Object.keys(exports))})`,
    });
  }
  return config;
}

async function buildApp(
  config: unknown,
  source: ConfigSource,
  options: LoadAppOptions,
  earlier: RawIssue[],
): Promise<App> {
  const root = path.dirname(path.resolve(source.file));
  const issues = [...earlier];
  const shape = checkConfigShape(config);
  if (!shape.ok) issues.push(...shape.issues);
  if (options.stage !== undefined && !isStageName(options.stage)) {
    issues.push({
      path: ["stage"],
      expected: STAGE_EXPECTED,
      found: `${describeValue(options.stage)} from the stage option`,
    });
  }
  options.beforeImport?.(rawEnvironment(config));
  // Handler checks run even when the shape is wrong, so that one run shows every problem.
  const refs = await resolveRefs(config, { root, loader: options.loader }, issues);
  if (issues.length > 0 || !shape.ok) throw new ConfigError(locate(issues, source, config));

  const app = shape.config;
  const limits = normalizeLimits(app);
  const routes = Object.entries(app.routes).map(([key, value]): Route => {
    if (typeof value === "object" && "http" in value)
      return httpRoute(key, value, limits.timeoutMs);
    const route: RouteConfig = typeof value === "string" ? { handler: value } : value;
    const body = bodySchema(route.body, refs.bodies.get(key));
    return {
      key,
      target: refs.routes.get(key) as HandlerTarget,
      routeResponse: route.routeResponse ?? false,
      ...(body ? { body } : {}),
      timeoutMs: route.timeout !== undefined ? secondsToMs(route.timeout) : limits.timeoutMs,
      memoryMb: route.memory ?? DEFAULT_MEMORY_MB,
      environment: { ...route.environment },
    };
  });
  const authorizer: Authorizer | undefined =
    app.authorizer && refs.authorizer
      ? {
          name: app.authorizer.name ?? DEFAULT_AUTHORIZER_NAME,
          target: refs.authorizer,
          identitySource: [...(app.authorizer.identitySource ?? [DEFAULT_IDENTITY_SOURCE])],
          ...(app.authorizer.timeout !== undefined
            ? { timeoutMs: secondsToMs(app.authorizer.timeout) }
            : {}),
          ...(app.authorizer.memory !== undefined ? { memoryMb: app.authorizer.memory } : {}),
          ...(app.authorizer.environment ? { environment: { ...app.authorizer.environment } } : {}),
        }
      : undefined;
  return {
    name: app.name,
    stage: options.stage ?? app.stage ?? DEFAULT_STAGE,
    root,
    source: { file: path.resolve(source.file), format: source.format },
    routeSelectionExpression: app.routeSelectionExpression ?? DEFAULT_ROUTE_SELECTION_EXPRESSION,
    routes,
    ...(authorizer ? { authorizer } : {}),
    connections: {
      ttlSeconds: app.connections?.ttl ?? 0,
      indexes: [...(app.connections?.indexes ?? [])],
    },
    environment: { ...app.environment },
    limits,
  };
}

function normalizeLimits(app: AppConfig): Limits {
  const limits = app.limits ?? {};
  const ms = (seconds: number | undefined, fallback: number) =>
    seconds === undefined ? fallback : secondsToMs(seconds);
  return {
    messageBytes: limits.messageBytes ?? DEFAULT_LIMITS.messageBytes,
    frameBytes: limits.frameBytes ?? DEFAULT_LIMITS.frameBytes,
    idleTimeoutMs: ms(limits.idleTimeout, DEFAULT_LIMITS.idleTimeoutMs),
    maxConnectionMs: ms(limits.maxConnectionDuration, DEFAULT_LIMITS.maxConnectionMs),
    timeoutMs: ms(limits.timeout, DEFAULT_LIMITS.timeoutMs),
  };
}

function secondsToMs(seconds: number): number {
  return Math.round(seconds * 1000);
}

function bodySchema(
  body: RouteConfig["body"],
  ref: { file: string; export: string } | undefined,
): BodySchema | undefined {
  if (isStandardSchema(body)) return { kind: "schema", schema: body };
  return ref ? { kind: "ref", ...ref } : undefined;
}

interface ResolvedRefs {
  routes: Map<string, HandlerTarget>;
  bodies: Map<string, { file: string; export: string }>;
  authorizer?: HandlerTarget;
}

/**
 * Resolve every handler and schema reference found in the raw config (whatever its shape),
 * adding an issue for each that does not resolve.
 */
async function resolveRefs(
  config: unknown,
  context: RefContext,
  issues: RawIssue[],
): Promise<ResolvedRefs> {
  const refs: ResolvedRefs = { routes: new Map(), bodies: new Map() };
  const checks: Promise<void>[] = [];
  const check = <T>(
    paths: { ref: DocumentPath; method: DocumentPath },
    resolution: Promise<Resolved<T>>,
    use: (value: T) => void,
  ) => {
    checks.push(
      resolution.then((result) => {
        if (result.ok) use(result.value);
        else {
          const { on, expected, found } = result.problem;
          issues.push({ path: on === "method" ? paths.method : paths.ref, expected, found });
        }
      }),
    );
  };

  const routes = valueAt(config, ["routes"]);
  if (isRecord(routes)) {
    for (const [key, value] of Object.entries(routes)) {
      const at: DocumentPath = ["routes", key];
      if (typeof value === "string" && value !== "") {
        check({ ref: at, method: at }, resolveHandler(value, undefined, context), (target) =>
          refs.routes.set(key, target),
        );
      } else if (isRecord(value) && typeof value.handler === "string" && value.handler !== "") {
        const method = typeof value.method === "string" && value.method ? value.method : undefined;
        check(
          { ref: [...at, "handler"], method: [...at, "method"] },
          resolveHandler(value.handler, method, context),
          (target) => refs.routes.set(key, target),
        );
        if (typeof value.body === "string") {
          const bodyAt = [...at, "body"];
          check({ ref: bodyAt, method: bodyAt }, resolveSchemaRef(value.body, context), (ref) =>
            refs.bodies.set(key, ref),
          );
        }
      }
    }
  }
  const authorizer = valueAt(config, ["authorizer"]);
  if (isRecord(authorizer) && typeof authorizer.handler === "string" && authorizer.handler) {
    const method =
      typeof authorizer.method === "string" && authorizer.method ? authorizer.method : undefined;
    check(
      { ref: ["authorizer", "handler"], method: ["authorizer", "method"] },
      resolveHandler(authorizer.handler, method, context),
      (target) => {
        refs.authorizer = target;
      },
    );
  }
  await Promise.all(checks);
  return refs;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A route served by an HTTP backend (`HTTP_PROXY`): no function, so no memory or environment. */
function httpRoute(key: string, route: HttpRouteConfig, defaultTimeoutMs: number): Route {
  return {
    key,
    integration: {
      kind: "http-proxy",
      method: route.method ?? "POST",
      url: route.http,
      requestParameters: { ...route.requestParameters },
    },
    routeResponse: route.routeResponse ?? false,
    timeoutMs: route.timeout !== undefined ? secondsToMs(route.timeout) : defaultTimeoutMs,
    memoryMb: DEFAULT_MEMORY_MB,
    environment: {},
  };
}
