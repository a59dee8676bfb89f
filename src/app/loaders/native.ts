import { readFile } from "node:fs/promises";
import path from "node:path";
import { ConfigError } from "../../errors.js";
import { isStandardSchema } from "../../runtime/schema.js";
import type { AppConfig, HttpRouteConfig, RouteConfig, SecretConfig } from "../config.js";
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
  type Secret,
} from "../model.js";
import { ModuleBuildError, type ModuleLoader } from "../module-loader.js";
import { nativeTables } from "../native-tables.js";
import { isStageName, STAGE_EXPECTED } from "../rules.js";
import { applyStage } from "../stage-overrides.js";

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
  raw: unknown,
  source: ConfigSource,
  options: LoadAppOptions,
  earlier: RawIssue[],
): Promise<App> {
  const root = path.dirname(path.resolve(source.file));
  const issues = [...earlier];
  const whole = checkConfigShape(raw);
  if (!whole.ok) issues.push(...whole.issues);
  // The served stage's overrides (`stages.<stage>`) apply before anything else reads the
  // config; what goes wrong in the result is reported where the value was written.
  const declaredStage = valueAt(raw, ["stage"]);
  const stage =
    options.stage ?? (typeof declaredStage === "string" ? declaredStage : DEFAULT_STAGE);
  const staged = applyStage(raw, stage);
  const config = staged.config;
  const found: RawIssue[] = [];
  const shape = checkConfigShape(config);
  if (!shape.ok) found.push(...shape.issues);
  if (options.stage !== undefined && !isStageName(options.stage)) {
    issues.push({
      path: ["stage"],
      expected: STAGE_EXPECTED,
      found: `${describeValue(options.stage)} from the stage option`,
    });
  }
  const secretValues = shape.ok ? lookUpSecrets(shape.config, stage, root, options, found) : {};
  options.beforeImport?.({
    ...secretValues,
    ...(shape.ok
      ? Object.fromEntries(
          nativeTables(shape.config.name, stage, shape.config.tables ?? {}).map((t) => [
            t.env as string,
            t.name,
          ]),
        )
      : {}),
    ...rawEnvironment(config),
  });
  // Handler checks run even when the shape is wrong, so that one run shows every problem.
  const refs = await resolveRefs(config, { root, loader: options.loader }, found);
  issues.push(...found.map(staged.locate));
  if (issues.length > 0 || !shape.ok || !whole.ok)
    throw new ConfigError(locate(unique(issues), source, raw));

  const app = shape.config;
  const limits = normalizeLimits(app);
  const routes = Object.entries(app.routes).map(([key, value]): Route => {
    if (typeof value === "object" && "http" in value)
      return httpRoute(key, value, limits.timeoutMs);
    const route: RouteConfig = typeof value === "string" ? { handler: value } : value;
    const body = bodySchema(route.body, refs.bodies.get(key));
    return {
      key,
      target: (refs.routes.get(key) ?? refs.handler) as HandlerTarget,
      routeResponse: route.routeResponse ?? false,
      ...(body ? { body } : {}),
      timeoutMs: route.timeout !== undefined ? secondsToMs(route.timeout) : limits.timeoutMs,
      memoryMb: route.memory ?? DEFAULT_MEMORY_MB,
      environment: { ...pick(secretValues, route.secrets), ...route.environment },
      ...(route.tables ? { tables: [...route.tables] } : {}),
      ...(route.secrets ? { secrets: route.secrets.map(secret) } : {}),
    };
  });
  const tables = nativeTables(app.name, stage, app.tables ?? {});
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
    stage,
    root,
    source: { file: path.resolve(source.file), format: source.format },
    routeSelectionExpression: app.routeSelectionExpression ?? DEFAULT_ROUTE_SELECTION_EXPRESSION,
    routes,
    ...(authorizer ? { authorizer } : {}),
    connections: {
      ttlSeconds: app.connections?.ttl ?? 0,
      indexes: [...(app.connections?.indexes ?? [])],
    },
    // Handlers read each table's physical name from TABLE_<NAME> (the build sets its own).
    environment: {
      ...Object.fromEntries(tables.map((table) => [table.env as string, table.name])),
      ...pick(secretValues, app.secrets),
      ...app.environment,
    },
    limits,
    ...(tables.length > 0 ? { tables } : {}),
    ...(app.secrets ? { secrets: app.secrets.map(secret) } : {}),
    ...(refs.seed ? { seed: refs.seed } : {}),
  };
}

/** The values of these secrets (those the lookup found). */
function pick(values: Record<string, string>, secrets: SecretConfig[] | undefined) {
  const out: Record<string, string> = {};
  for (const { name } of (secrets ?? []).map(secret)) {
    const value = values[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Dev: every secret's value; a missing one is an issue at the place it is declared. */
function lookUpSecrets(
  app: AppConfig,
  stage: string,
  root: string,
  options: LoadAppOptions,
  issues: RawIssue[],
): Record<string, string> {
  if (!options.secrets) return {};
  const declared: Array<{ name: string; at: DocumentPath }> = [];
  const collect = (list: SecretConfig[] | undefined, at: DocumentPath) =>
    list?.forEach((item, index) => {
      declared.push({ name: secret(item).name, at: [...at, index] });
    });
  collect(app.secrets, ["secrets"]);
  for (const [key, route] of Object.entries(app.routes)) {
    if (typeof route !== "string" && "secrets" in route) {
      collect(route.secrets, ["routes", key, "secrets"]);
    }
  }
  if (declared.length === 0) return {};
  const lookup = options.secrets([...new Set(declared.map((d) => d.name))], { stage, root });
  for (const { name, lookedIn } of lookup.missing) {
    for (const place of declared.filter((d) => d.name === name)) {
      issues.push({
        path: place.at,
        expected: `a value for secret ${name} (looked in ${lookedIn.join(", ")})`,
        found: "none",
      });
    }
  }
  return lookup.values;
}

function secret(config: SecretConfig): Secret {
  return typeof config === "string" ? { name: config } : { name: config.name, arn: config.arn };
}

/** Issues once each (a stage's problem is found both in `stages` and in the served result). */
function unique(issues: RawIssue[]): RawIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = JSON.stringify([issue.path, issue.expected]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
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
  /** The top-level `handler`: every route without its own. */
  handler?: HandlerTarget;
  seed?: HandlerTarget;
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
  for (const key of ["handler", "seed"] as const) {
    const ref = valueAt(config, [key]);
    if (typeof ref === "string" && ref !== "") {
      check({ ref: [key], method: [key] }, resolveHandler(ref, undefined, context), (target) => {
        refs[key] = target;
      });
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
