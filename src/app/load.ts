import { statSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { ConfigError, type ConfigIssue } from "../errors.js";
import { isStandardSchema } from "../runtime/schema.js";
import type { AppConfig, RouteConfig } from "./config.js";
import { parseConfigDocument } from "./config-document.js";
import { checkConfigShape, isStageName, STAGE_EXPECTED, valueAt } from "./config-schema.js";
import { describeValue, listNames, quote } from "./describe-value.js";
import {
  type RefContext,
  type Resolved,
  resolveHandler,
  resolveSchemaRef,
} from "./handler-target.js";
import {
  type DocumentPath,
  displayFile,
  formatDocumentPath,
  type Position,
  type RawIssue,
} from "./issue-location.js";
import { FOREIGN_CONFIG_FILES, findForeignConfigFile, foreignLoaderFor } from "./loaders/index.js";
import { isSwitchboardBuild, loadSwitchboardBuild } from "./loaders/switchboard-build.js";
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
} from "./model.js";
import { ModuleBuildError, type ModuleLoader } from "./module-loader.js";

/** Config file names looked for in an app folder, most preferred first. */
export const CONFIG_FILE_NAMES: readonly string[] = Object.freeze([
  "switchboard.config.ts",
  "switchboard.config.mts",
  "switchboard.config.js",
  "switchboard.config.mjs",
  "switchboard.yaml",
  "switchboard.yml",
  "switchboard.json",
]);

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

export interface LoadAppOptions {
  /** Overrides the config's `stage`. */
  stage?: string;
  /** Builds and imports TypeScript configs, handlers and schema modules. */
  loader: ModuleLoader;
  /**
   * Called with the functions' environment (the app's, then every route's) before any handler
   * module is imported, so code that reads `process.env` at module top level sees it (in-process).
   */
  beforeImport?: (environment: Record<string, string>) => void;
}

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
  return env;
}

/** Where an already-parsed config came from; `positions` locates YAML/JSON issues. */
export interface ConfigSource {
  file: string;
  format: AppFormat;
  positions?: (path: (string | number)[]) => Position | undefined;
}

/**
 * The first of {@link CONFIG_FILE_NAMES} present in `dir`, as an absolute path; else the first
 * foreign config (serverless.yml, app.arc, template.yaml, Module.yml, ... in the order of
 * `FOREIGN_CONFIG_FILES`, see docs/formats.md).
 *
 * @example
 * ```ts
 * findConfigFile("examples/chat"); // "/repo/examples/chat/switchboard.config.ts"
 * ```
 */
export function findConfigFile(dir: string): string | undefined {
  for (const name of CONFIG_FILE_NAMES) {
    const file = path.resolve(dir, name);
    try {
      if (statSync(file).isFile()) return file;
    } catch {
      // not there: try the next name
    }
  }
  return findForeignConfigFile(dir);
}

/**
 * Load, validate and normalize an app. `target` is a folder (its config file is found by
 * {@link CONFIG_FILE_NAMES}) or a config file. Throws a {@link ConfigError} listing every
 * problem, located by line and column for YAML and JSON.
 *
 * @example
 * ```ts
 * const loader = new ModuleLoader({ cacheDir: ".switchboard/build" });
 * const app = await loadApp("examples/chat", { loader, stage: "local" });
 * app.routes.map((route) => route.key); // ["$connect", "send", "$default"]
 * ```
 */
export async function loadApp(target: string, options: LoadAppOptions): Promise<App> {
  const resolved = path.resolve(target);
  const lookedFor = `a config file (${[...CONFIG_FILE_NAMES, ...FOREIGN_CONFIG_FILES].join(", ")})`;
  const isDirectory = await stat(resolved).then(
    (stats) => stats.isDirectory(),
    () => undefined,
  );
  if (isDirectory === undefined) {
    throw configError(resolved, {
      path: [],
      expected: `${lookedFor} or a folder with one`,
      found: "nothing",
    });
  }
  // The output of `switchboard build` (manifest.json + template.json + zips): run what deploys.
  const buildDir = isDirectory
    ? resolved
    : path.basename(resolved) === "manifest.json"
      ? path.dirname(resolved)
      : undefined;
  if (buildDir && isSwitchboardBuild(buildDir)) {
    return loadSwitchboardBuild(path.join(buildDir, "manifest.json"), options);
  }
  const file = isDirectory ? findConfigFile(resolved) : resolved;
  if (!file) {
    throw configError(resolved, {
      path: [],
      expected: lookedFor,
      found: `none in ${displayFile(resolved)}`,
    });
  }
  // serverless.yml, app.arc, template.yaml, Module.yml, ...: each has its own loader.
  const foreignText = /\.(?:ya?ml|json|arc)$/.test(file) ? await readFile(file, "utf8") : undefined;
  const foreign = foreignLoaderFor(file, foreignText);
  if (foreign) return foreign.load(file, foreignText ?? "", options);
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

/**
 * Turn raw issues into located ones, in the order their paths appear in the config (schema,
 * key and handler checks each find problems in their own order).
 */
function locate(issues: RawIssue[], source: ConfigSource, config: unknown): ConfigIssue[] {
  const order = pathOrder(config);
  const rank = (issue: RawIssue) => {
    for (let n = issue.path.length; n >= 0; n--) {
      const index = order.get(pathKey(issue.path.slice(0, n)));
      if (index !== undefined) return index;
    }
    return 0;
  };
  const file = displayFile(path.resolve(source.file));
  return issues
    .map((issue, index) => ({ issue, index, rank: rank(issue) }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map(({ issue }) => {
      const at = issue.at ?? nearestPosition(issue.path, source);
      return {
        file,
        ...(at ? { line: at.line, column: at.column } : {}),
        path: formatDocumentPath(issue.path),
        expected: issue.expected,
        found: issue.found,
      };
    });
}

function nearestPosition(issuePath: DocumentPath, source: ConfigSource): Position | undefined {
  if (!source.positions) return undefined;
  for (let n = issuePath.length; n >= 0; n--) {
    const at = source.positions(issuePath.slice(0, n));
    if (at) return at;
  }
  return undefined;
}

/** Depth-first index of every path in the config, in key order. */
function pathOrder(config: unknown): Map<string, number> {
  const order = new Map<string, number>();
  const seen = new WeakSet<object>();
  const visit = (value: unknown, at: DocumentPath) => {
    order.set(pathKey(at), order.size);
    // Only config data: a TypeScript config may hold schemas and other (cyclic) objects.
    if (!Array.isArray(value) && !isPlainObject(value)) return;
    if (seen.has(value)) return;
    seen.add(value);
    for (const [key, child] of Object.entries(value)) {
      visit(child, [...at, Array.isArray(value) ? Number(key) : key]);
    }
  };
  visit(config, []);
  return order;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function pathKey(at: DocumentPath): string {
  return JSON.stringify(at);
}

function configError(file: string, issue: RawIssue): ConfigError {
  return new ConfigError(locate([issue], { file, format: "object" }, undefined));
}
