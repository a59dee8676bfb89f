import { displayFile, formatDocumentPath } from "../app/issue-location.js";
import {
  type App,
  AUTHORIZER_DEFAULTS,
  type BodySchema,
  DEFAULT_MEMORY_MB,
  type FunctionRoute,
  type HandlerTarget,
  type Route,
  type Secret,
} from "../app/model.js";
import {
  authorizerRouteProblem,
  identitySourceProblem,
  type RuleProblem,
  routeKeyProblem,
} from "../app/rules.js";
import { ConfigError, type ConfigIssue } from "../errors.js";

/** One Lambda function of the build: what it runs and how it is configured. */
export interface FunctionPlan {
  /** PascalCase name: the logical ids are `<name>Function`, `<name>FunctionRole`, ... */
  name: string;
  /** The authorizer's function, one serving routes, or the app's seed (a custom resource). */
  kind: "route" | "authorizer" | "seed";
  /** Route keys it serves, in app order (empty for the authorizer). */
  routeKeys: string[];
  target: HandlerTarget;
  /** The config-declared body schema the entry validates before calling the handler. */
  body?: BodySchema;
  /** The route key the body schema belongs to (inline schemas are read from the config by key). */
  bodyRouteKey?: string;
  memoryMb: number;
  /** Lambda timeout: the longest integration timeout of its routes, rounded up to seconds. */
  timeoutSeconds: number;
  /** The app's environment with the routes' own over it (Switchboard's variables are added later). */
  environment: Record<string, string>;
  /** The Lambda runtime the app declares for it; absent: the build's `--runtime` or default. */
  runtime?: string;
  /** The native tables (`declaredAs`) it is granted and given `TABLE_*` for (absent: none). */
  tables?: string[];
  /** The secrets it resolves from Secrets Manager at cold start (absent: none). */
  secrets?: Secret[];
}

/** A route and the names its resources get. */
export interface RoutePlan {
  route: Route;
  /** PascalCase name: `<name>Route`, `<name>Integration`, `<name>Permission`, `<name>RouteResponse`. */
  name: string;
  /** The {@link FunctionPlan.name} of the function it invokes (none for MOCK, HTTP, ... routes). */
  functionName?: string;
}

export interface AppPlan {
  routes: RoutePlan[];
  functions: FunctionPlan[];
}

/**
 * A CloudFormation-safe PascalCase name for a route key or function name: `$connect` →
 * `Connect`, `send-message` → `SendMessage`, `chat/join` → `ChatJoin`.
 *
 * @example
 * ```ts
 * logicalName("$disconnect"); // "Disconnect"
 * ```
 */
export function logicalName(key: string): string {
  const parts = key.split(/[^A-Za-z0-9]+/).filter(Boolean);
  if (parts.length === 0) return `Route${Buffer.from(key).toString("hex").toUpperCase()}`;
  const name = parts.map((part) => part[0]?.toUpperCase() + part.slice(1)).join("");
  return /^[0-9]/.test(name) ? `Route${name}` : name;
}

/** Routes served by one function must agree on everything the function is configured with. */
function groupKey(route: FunctionRoute): string {
  const body =
    route.body === undefined
      ? null
      : route.body.kind === "ref"
        ? `${route.body.file}#${route.body.export}`
        : `inline:${route.key}`;
  return JSON.stringify([
    route.functionName ?? null,
    route.target.file,
    route.target.export,
    route.target.method ?? null,
    body,
    route.memoryMb,
    route.target.runtime ?? null,
    Object.entries(route.environment).sort(([a], [b]) => (a < b ? -1 : 1)),
    route.tables ?? null,
    route.secrets ?? null,
  ]);
}

/**
 * Decide the functions of a build: routes with the same handler target (file, export, method),
 * body schema, memory and environment share one function (fewer cold starts); any difference
 * gives a route its own. A function is named after its `functionName` when the source format
 * names one, else after the first route it serves. Throws a {@link ConfigError} naming the file
 * and routes when two names clash or the authorizer has no `$connect` route to sit on.
 *
 * @example
 * ```ts
 * const plan = planApp(app);
 * plan.functions.map((f) => f.name); // ["Connect", "Disconnect", "Send", "Whoami", "Default"]
 * ```
 */
export function planApp(app: App): AppPlan {
  const issues: ConfigIssue[] = [];
  const file = displayFile(app.source.file);
  const issue = (at: (string | number)[], expected: string, found: string) =>
    issues.push({ file, path: formatDocumentPath(at), expected, found });
  const report = (at: (string | number)[], problem: RuleProblem | undefined) => {
    if (problem) issue(at, problem.expected, problem.found);
  };
  // The app rules (rules.ts) again: an App built in code reaches the build without a loader.
  for (const route of app.routes) report(["routes", route.key], routeKeyProblem(route.key));

  const nativeTableNames = (app.tables ?? []).filter((t) => t.env).map((t) => t.declaredAs);
  const groups = new Map<string, FunctionPlan>();
  const functions: FunctionPlan[] = [];
  const routes: RoutePlan[] = [];
  for (const route of app.routes) {
    // A backend route (MOCK, HTTP, HTTP_PROXY, an AWS service) has no function to deploy.
    if (route.target === undefined) {
      routes.push({ route, name: logicalName(route.key) });
      continue;
    }
    const key = groupKey(route);
    let fn = groups.get(key);
    if (!fn) {
      fn = {
        name: logicalName(route.functionName ?? route.key),
        kind: "route",
        routeKeys: [],
        target: route.target,
        ...(route.body ? { body: route.body, bodyRouteKey: route.key } : {}),
        memoryMb: route.memoryMb,
        timeoutSeconds: 1,
        environment: { ...app.environment, ...route.environment },
        ...(route.target.runtime ? { runtime: route.target.runtime } : {}),
        tables: route.tables ?? nativeTableNames,
        secrets: mergeSecrets(app.secrets, route.secrets),
      };
      groups.set(key, fn);
      functions.push(fn);
    }
    fn.routeKeys.push(route.key);
    fn.timeoutSeconds = Math.max(fn.timeoutSeconds, Math.ceil(route.timeoutMs / 1000));
    routes.push({ route, name: logicalName(route.key), functionName: fn.name });
  }

  if (app.authorizer) {
    report(["authorizer"], authorizerRouteProblem(app.routes.map((route) => route.key)));
    app.authorizer.identitySource.forEach((source, index) => {
      report(["authorizer", "identitySource", index], identitySourceProblem(source));
    });
    // Deployed as the app declares it, with the defaults the dev gateway uses too.
    const { authorizer } = app;
    functions.push({
      name: "Authorizer",
      kind: "authorizer",
      routeKeys: [],
      target: authorizer.target,
      memoryMb: authorizer.memoryMb ?? AUTHORIZER_DEFAULTS.memoryMb,
      timeoutSeconds: Math.ceil((authorizer.timeoutMs ?? AUTHORIZER_DEFAULTS.timeoutMs) / 1000),
      environment: { ...app.environment, ...authorizer.environment },
      ...(authorizer.target.runtime ? { runtime: authorizer.target.runtime } : {}),
      tables: nativeTableNames,
      secrets: mergeSecrets(app.secrets, undefined),
    });
  }
  if (app.seed) {
    // The seed runs as a CloudFormation custom resource after the tables exist (see docs/aws.md).
    functions.push({
      name: "Seed",
      kind: "seed",
      routeKeys: [],
      target: app.seed,
      memoryMb: DEFAULT_MEMORY_MB,
      timeoutSeconds: SEED_TIMEOUT_SECONDS,
      environment: { ...app.environment },
      ...(app.seed.runtime ? { runtime: app.seed.runtime } : {}),
      tables: nativeTableNames,
      secrets: mergeSecrets(app.secrets, undefined),
    });
  }

  // Every logical id a route or function will produce must be unique in the template.
  const owners = new Map<string, { what: string; at: (string | number)[] }>();
  const claim = (id: string, what: string, at: (string | number)[]) => {
    const owner = owners.get(id);
    if (owner && owner.what !== what) {
      issue(
        at,
        `a name whose CloudFormation logical id is unique`,
        `${JSON.stringify(id)}, also produced by ${owner.what}`,
      );
      return;
    }
    owners.set(id, { what, at });
  };
  for (const id of RESERVED_IDS) claim(id, "Switchboard itself", []);
  if (app.authorizer) for (const id of AUTHORIZER_IDS) claim(id, "the authorizer", ["authorizer"]);
  for (const { route, name } of routes) {
    const what = `route ${JSON.stringify(route.key)}`;
    for (const suffix of [
      "Route",
      "Integration",
      "Permission",
      "RouteResponse",
      "IntegrationResponse",
    ]) {
      claim(`${name}${suffix}`, what, ["routes", route.key]);
    }
  }
  for (const fn of functions) {
    const what =
      fn.kind === "route"
        ? `the function of route ${JSON.stringify(fn.routeKeys[0])}`
        : `the ${fn.kind}`;
    const at = fn.kind === "route" ? ["routes", fn.routeKeys[0] as string] : [fn.kind];
    for (const suffix of ["Function", "FunctionRole", "LogGroup", "ArtifactKey"]) {
      claim(`${fn.name}${suffix}`, what, at);
    }
  }
  for (const table of app.tables ?? []) {
    if (table.env)
      claim(tableLogicalId(table.declaredAs), `table ${JSON.stringify(table.declaredAs)}`, [
        "tables",
        table.declaredAs,
      ]);
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { routes, functions };
}

/** A seed's Lambda timeout, seconds: CloudFormation waits for a custom resource up to an hour; Lambda runs 15 min at most. */
export const SEED_TIMEOUT_SECONDS = 300;

/** The logical id of a native table: `<Name>Table`. */
export function tableLogicalId(name: string): string {
  return `${logicalName(name)}Table`;
}

/** The app's secrets, then a route's own (one per name; the route's wins). */
function mergeSecrets(app: Secret[] | undefined, own: Secret[] | undefined): Secret[] {
  const byName = new Map<string, Secret>();
  for (const secret of [...(app ?? []), ...(own ?? [])]) byName.set(secret.name, secret);
  return [...byName.values()];
}

/** Logical ids of the resources every build has. */
const RESERVED_IDS = [
  "SeedResource",
  "WebSocketApi",
  "Stage",
  "ConnectionTable",
  "ArtifactBucket",
  "CustomDomain",
  "CustomDomainCertificate",
  "CustomDomainMapping",
  "CustomDomainRecord",
];

/** Logical ids of the authorizer's own resources (its function's are claimed like any function's). */
const AUTHORIZER_IDS = ["Authorizer", "AuthorizerPermission"];
