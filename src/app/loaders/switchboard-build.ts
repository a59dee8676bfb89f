import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { unzipSync } from "fflate";
import { ConfigError, type ConfigIssue } from "../../errors.js";
import { describeValue } from "../describe-value.js";
import type { LambdaIntegration } from "../integration.js";
import { displayFile, formatDocumentPath } from "../issue-location.js";
import type { LoadAppOptions } from "../load-options.js";
import {
  type App,
  type Authorizer,
  DEFAULT_LIMITS,
  DEFAULT_ROUTE_SELECTION_EXPRESSION,
  DEFAULT_STAGE,
  type Route,
} from "../model.js";
import { type ReadIntegration, readIntegration } from "./cloudformation-integrations.js";

/** What `manifest.json` of a build says about itself (see src/aws/build.ts). */
const GENERATOR = "switchboard build";

/** Variables `switchboard build` adds for AWS; the dev gateway provides these things itself. */
const AWS_ONLY_VARIABLES = new Set([
  "SWITCHBOARD_CONNECTION_TABLE",
  "SWITCHBOARD_CONNECTION_TTL",
  "SWITCHBOARD_CONNECTION_INDEXES",
  "SWITCHBOARD_MANAGEMENT_ENDPOINT",
  // Secrets Manager ids: served locally, secrets come from the developer's environment.
  "SWITCHBOARD_SECRETS",
]);

/** Where the zips are unpacked, inside the build folder (`switchboard build` replaces it whole). */
export const EXTRACT_DIR = path.join(".switchboard", "functions");

interface ManifestFunction {
  name: string;
  logicalId: string;
  kind: "route" | "authorizer";
  zip: string;
  sha256: string;
}

interface Manifest {
  generator: string;
  app: string;
  stage: string;
  template: string;
  functions: ManifestFunction[];
}

type Resource = { Type?: unknown; Properties?: Record<string, unknown> };

/**
 * True when `dir` is the output folder of `switchboard build`: it holds a `manifest.json` whose
 * `generator` is `"switchboard build"`.
 *
 * @example
 * ```ts
 * isSwitchboardBuild("dist"); // true after `switchboard build examples/chat --out dist`
 * ```
 */
export function isSwitchboardBuild(dir: string): boolean {
  const file = path.join(dir, "manifest.json");
  try {
    if (!statSync(file).isFile()) return false;
    const manifest = JSON.parse(readFileSync(file, "utf8")) as { generator?: unknown };
    return manifest?.generator === GENERATOR;
  } catch {
    return false;
  }
}

/**
 * Load the output of `switchboard build` as an App, so that the dev gateway runs exactly what
 * would be deployed: routes, integrations (→ functions), route responses, the authorizer and
 * its identity sources, the route selection expression and stage come from `template.json`;
 * each function's environment, timeout and memory from its `AWS::Lambda::Function`; the code
 * from its zip, unpacked into `<dir>/.switchboard/functions/<Name>/` (again only when the zip
 * changed) and run as `index.mjs#handler`. The variables the build adds for AWS (connection
 * table, `@connections` endpoint, `NODE_OPTIONS`) are left out: the gateway provides those.
 *
 * @example
 * ```ts
 * const app = await loadSwitchboardBuild("/repo/dist/manifest.json", { loader });
 * app.routes[0]?.target; // { file: "/repo/dist/.switchboard/functions/Connect/index.mjs", export: "handler" }
 * ```
 */
export async function loadSwitchboardBuild(
  manifestFile: string,
  options: LoadAppOptions,
): Promise<App> {
  const dir = path.dirname(manifestFile);
  const issues: ConfigIssue[] = [];
  const fail = (file: string, at: (string | number)[], expected: string, found: string) => {
    issues.push({ file: displayFile(file), path: formatDocumentPath(at), expected, found });
  };
  const throwIfAny = () => {
    if (issues.length > 0) throw new ConfigError(issues);
  };

  const manifest = JSON.parse(await readFile(manifestFile, "utf8")) as Manifest;
  if (!Array.isArray(manifest.functions)) {
    fail(
      manifestFile,
      ["functions"],
      "the list of built functions",
      describeValue(manifest.functions),
    );
  }
  throwIfAny();
  const templateFile = path.join(dir, manifest.template ?? "template.json");
  let template: { Resources?: Record<string, Resource> };
  try {
    template = JSON.parse(await readFile(templateFile, "utf8"));
  } catch (error) {
    fail(templateFile, [], "the template switchboard build wrote", (error as Error).message);
    throw new ConfigError(issues);
  }
  const resources = template.Resources ?? {};
  const ofType = (type: string) =>
    Object.entries(resources).filter(([, resource]) => resource?.Type === type);
  const props = (id: string): Record<string, unknown> => resources[id]?.Properties ?? {};

  // The code: each zip unpacked next to the build (skipped when it is already there).
  const byLogicalId = new Map<string, { fn: ManifestFunction; file: string }>();
  await Promise.all(
    manifest.functions.map(async (fn) => {
      const zipFile = path.join(dir, fn.zip);
      const target = path.join(dir, EXTRACT_DIR, fn.name);
      try {
        await extractZip(zipFile, target, fn.sha256);
      } catch (error) {
        fail(
          manifestFile,
          ["functions", fn.name],
          `a readable zip at ${fn.zip}`,
          (error as Error).message,
        );
        return;
      }
      byLogicalId.set(fn.logicalId, { fn, file: path.join(target, "index.mjs") });
    }),
  );
  throwIfAny();

  const functionOf = (uri: unknown, at: (string | number)[]) => {
    const id = functionIdIn(uri);
    const found = id ? byLogicalId.get(id) : undefined;
    if (!found) {
      fail(
        templateFile,
        at,
        "the invocation URI of a function the build bundled",
        describeValue(uri),
      );
    }
    return found;
  };

  const [apiEntry] = ofType("AWS::ApiGatewayV2::Api");
  const api = apiEntry?.[1].Properties ?? {};
  const stageProps = ofType("AWS::ApiGatewayV2::Stage")[0]?.[1].Properties ?? {};

  // Two-way routes: a RouteResponse on them, or a RouteResponseSelectionExpression.
  const answered = new Set(
    ofType("AWS::ApiGatewayV2::RouteResponse")
      .map(([, r]) => refOf(r.Properties?.RouteId))
      .filter((id): id is string => id !== undefined),
  );

  const environments: Record<string, string>[] = [];
  const routes: Route[] = [];
  for (const [routeId, resource] of ofType("AWS::ApiGatewayV2::Route")) {
    const properties = resource.Properties ?? {};
    const key = properties.RouteKey;
    const integrationId = integrationIdIn(properties.Target);
    const at = ["Resources", routeId, "Properties"];
    if (typeof key !== "string" || !integrationId || !resources[integrationId]) {
      fail(
        templateFile,
        [...at, "Target"],
        "a route key and an integrations/<id> target",
        describeValue(properties.Target),
      );
      continue;
    }
    const integration = props(integrationId);
    const routeResponse =
      answered.has(routeId) || typeof properties.RouteResponseSelectionExpression === "string";
    const timeoutMs =
      typeof integration.TimeoutInMillis === "number"
        ? integration.TimeoutInMillis
        : DEFAULT_LIMITS.timeoutMs;
    let mapped: LambdaIntegration | undefined;
    if (integration.IntegrationType !== "AWS_PROXY") {
      // What the build compiled from a non-proxy integration, read back the way templates are.
      const read = readBuiltIntegration(integrationId, resources, (at, expected, found) =>
        fail(templateFile, at, expected, found),
      );
      if (!read) continue;
      if (read.kind === "backend") {
        routes.push({
          key,
          integration: read.integration,
          routeResponse,
          timeoutMs,
          memoryMb: 128,
          environment: {},
        });
        continue;
      }
      mapped = read.integration;
    }
    const built = functionOf(integration.IntegrationUri, [
      "Resources",
      integrationId,
      "Properties",
      "IntegrationUri",
    ]);
    if (!built) continue;
    const lambda = props(built.fn.logicalId);
    const environment = environmentOf(lambda);
    environments.push(environment);
    routes.push({
      key,
      target: { file: built.file, export: "handler" },
      ...(mapped ? { integration: mapped } : {}),
      functionName: built.fn.name,
      routeResponse,
      timeoutMs,
      memoryMb: typeof lambda.MemorySize === "number" ? lambda.MemorySize : 128,
      environment,
    });
  }

  let authorizer: Authorizer | undefined;
  const [authorizerEntry] = ofType("AWS::ApiGatewayV2::Authorizer");
  if (authorizerEntry) {
    const [id, resource] = authorizerEntry;
    const properties = resource.Properties ?? {};
    const built = functionOf(properties.AuthorizerUri, [
      "Resources",
      id,
      "Properties",
      "AuthorizerUri",
    ]);
    if (built) {
      authorizer = {
        name: typeof properties.Name === "string" ? properties.Name : "authorizer",
        target: { file: built.file, export: "handler" },
        identitySource: Array.isArray(properties.IdentitySource)
          ? properties.IdentitySource.filter((s): s is string => typeof s === "string")
          : [],
      };
    }
  }
  throwIfAny();

  // Variables every route function shares are the app's; the rest stay on their routes.
  const shared = commonEntries(environments);
  for (const route of routes) {
    route.environment = Object.fromEntries(
      Object.entries(route.environment).filter(([name]) => !(name in shared)),
    );
  }
  const routeVariables =
    routes.length > 0 ? routeFunctionVariables(props, byLogicalId, routes) : {};

  return {
    name: typeof manifest.app === "string" ? manifest.app : path.basename(dir),
    stage:
      options.stage ??
      (typeof stageProps.StageName === "string" ? stageProps.StageName : undefined) ??
      (typeof manifest.stage === "string" ? manifest.stage : DEFAULT_STAGE),
    root: dir,
    source: { file: path.resolve(manifestFile), format: "switchboard-build" },
    routeSelectionExpression:
      typeof api.RouteSelectionExpression === "string"
        ? api.RouteSelectionExpression
        : DEFAULT_ROUTE_SELECTION_EXPRESSION,
    routes,
    ...(authorizer ? { authorizer } : {}),
    connections: {
      ttlSeconds: Number(routeVariables.SWITCHBOARD_CONNECTION_TTL ?? 0) || 0,
      indexes: (routeVariables.SWITCHBOARD_CONNECTION_INDEXES ?? "").split(",").filter(Boolean),
    },
    environment: shared,
    limits: { ...DEFAULT_LIMITS },
  };
}

/** Unpack a zip into `target` (replacing it), unless `target/.sha256` says it already holds it. */
async function extractZip(zipFile: string, target: string, sha256: string): Promise<void> {
  const marker = path.join(target, ".sha256");
  const bytes = await readFile(zipFile);
  const actual = createHash("sha256").update(bytes).digest("hex");
  if (sha256 && actual !== sha256) {
    throw new Error(`sha256 ${actual}, but manifest.json says ${sha256} (rebuild)`);
  }
  if ((await readFile(marker, "utf8").catch(() => "")) === actual) return;
  const staging = `${target}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  for (const [name, data] of Object.entries(unzipSync(bytes))) {
    if (name.endsWith("/")) continue;
    const file = path.resolve(staging, name);
    if (!file.startsWith(staging + path.sep)) throw new Error(`unsafe path in zip: ${name}`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, data);
  }
  await writeFile(path.join(staging, ".sha256"), actual);
  await rm(target, { recursive: true, force: true });
  await rename(staging, target);
}

/** `{ "Fn::Sub": "...${ConnectFunction.Arn}/invocations" }` → `ConnectFunction`. */
function functionIdIn(uri: unknown): string | undefined {
  const sub = (uri as { "Fn::Sub"?: unknown } | undefined)?.["Fn::Sub"];
  const text =
    typeof sub === "string"
      ? sub
      : Array.isArray(sub) && typeof sub[0] === "string"
        ? sub[0]
        : undefined;
  return text ? /\$\{([A-Za-z0-9]+)\.Arn\}/.exec(text)?.[1] : undefined;
}

/** `{ "Fn::Join": ["/", ["integrations", { Ref: "SendIntegration" }]] }` → `SendIntegration`. */
function integrationIdIn(target: unknown): string | undefined {
  const join = (target as { "Fn::Join"?: unknown } | undefined)?.["Fn::Join"];
  if (Array.isArray(join) && Array.isArray(join[1])) {
    return refOf(join[1][1]);
  }
  if (typeof target === "string") return /^integrations\/(.+)$/.exec(target)?.[1];
  return undefined;
}

function refOf(value: unknown): string | undefined {
  const ref = (value as { Ref?: unknown } | undefined)?.Ref;
  return typeof ref === "string" ? ref : undefined;
}

/** A function's plain-string variables, without those the build adds for AWS. */
function environmentOf(lambda: Record<string, unknown>): Record<string, string> {
  const variables = (lambda.Environment as { Variables?: Record<string, unknown> } | undefined)
    ?.Variables;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables ?? {})) {
    if (typeof value !== "string" || AWS_ONLY_VARIABLES.has(name)) continue;
    if (name === "NODE_OPTIONS" && value === "--enable-source-maps") continue;
    out[name] = value;
  }
  return out;
}

/** The connection settings the build wrote into the route functions' environment. */
function routeFunctionVariables(
  props: (id: string) => Record<string, unknown>,
  byLogicalId: Map<string, { fn: ManifestFunction }>,
  routes: Route[],
): Record<string, string> {
  const name = routes[0]?.functionName;
  const logicalId = [...byLogicalId.values()].find((entry) => entry.fn.name === name)?.fn.logicalId;
  const variables = (
    props(logicalId ?? "").Environment as { Variables?: Record<string, unknown> } | undefined
  )?.Variables;
  return Object.fromEntries(
    Object.entries(variables ?? {}).filter(
      (entry): entry is [string, string] => typeof entry[1] === "string",
    ),
  );
}

function commonEntries(records: Record<string, string>[]): Record<string, string> {
  const [first, ...rest] = records;
  if (!first) return {};
  return Object.fromEntries(
    Object.entries(first).filter(([name, value]) => rest.every((r) => r[name] === value)),
  );
}

/**
 * A non-proxy integration of a build's `template.json`, read with the CloudFormation loader's
 * reader (`Fn::Sub` URIs with the pseudo parameters the build writes resolved). Warnings are
 * dropped: the build already refused what is not emulated.
 */
function readBuiltIntegration(
  integrationId: string,
  resources: Record<string, Resource>,
  fail: (at: (string | number)[], expected: string, found: string) => void,
): ReadIntegration | undefined {
  const region = process.env.AWS_REGION ?? "us-east-1";
  const value = (id: string, property: string) => resources[id]?.Properties?.[property];
  const at = (id: string, property?: string) =>
    property ? ["Resources", id, "Properties", property] : ["Resources", id];
  const string = (id: string, property: string): string | undefined => {
    const raw = value(id, property);
    if (typeof raw === "string") return raw;
    const sub = (raw as { "Fn::Sub"?: unknown } | undefined)?.["Fn::Sub"];
    if (typeof sub !== "string") return undefined;
    // A Lambda URI keeps its `${Fn.Arn}` reference (what `functionIdIn` reads).
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub pseudo parameters
    return sub.replaceAll("${AWS::Partition}", "aws").replaceAll("${AWS::Region}", region);
  };
  return readIntegration(integrationId, {
    string,
    value,
    at,
    has: (id, property) => value(id, property) !== undefined,
    functionIn: (id, property) => functionIdIn(value(id, property)),
    responsesOf: (id) =>
      Object.entries(resources)
        .filter(
          ([, r]) =>
            r?.Type === "AWS::ApiGatewayV2::IntegrationResponse" &&
            refOf(r.Properties?.IntegrationId) === id,
        )
        .map(([responseId]) => responseId),
    hasTables: true,
    issues: { add: fail, warn: () => undefined },
  });
}
