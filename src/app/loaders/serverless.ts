import { apiIdFor } from "../aws-names.js";
import { describeValue, listNames, quote } from "../describe-value.js";
import { unknownKey } from "../did-you-mean.js";
import type { DocumentPath } from "../issue-location.js";
import type { LoadAppOptions } from "../load-options.js";
import {
  type App,
  CONNECT,
  DEFAULT_ROUTE_SELECTION_EXPRESSION,
  type TableDeclaration,
} from "../model.js";
import {
  type AppDraft,
  type AuthorizerDraft,
  finishApp,
  isRecord,
  lambdaHandlerRef,
  nodeRuntime,
  type RouteDraft,
  readEnvironment,
  readMemory,
  readTimeout,
} from "./app-draft.js";
import {
  CLOUDFORMATION_TAGS,
  IntrinsicResolver,
  localResourceValue,
  replaceResourceRefs,
} from "./cloudformation-intrinsics.js";
import { ServerlessVariables } from "./serverless-variables.js";
import { parseSource, SourceIssues } from "./source-issues.js";
import { cloudFormationTables } from "./tables.js";

/** Serverless Framework defaults (provider.timeout / provider.memorySize). */
const DEFAULT_TIMEOUT_SECONDS = 6;
const DEFAULT_MEMORY_MB = 1024;
/** Serverless's default identity source for WebSocket authorizers. */
const DEFAULT_IDENTITY_SOURCE = "route.request.header.Auth";
const ACCOUNT_ID = "000000000000";
/** Keys of a `websocket` event object, and of its `authorizer`. */
const WEBSOCKET_EVENT_KEYS = ["route", "routeResponseSelectionExpression", "authorizer"];
const AUTHORIZER_KEYS = ["name", "arn", "identitySource", "type"];
const HANDLER_EXPECTED = "a handler as file.export (e.g. src/handler.connect)";

/**
 * Read a Serverless Framework service (`serverless.yml`, `.yaml` or `.json`): every function's
 * `websocket` events become routes, with `provider.websocketsApiRouteSelectionExpression`,
 * `provider.stage` (`--stage` wins), provider and function `environment`, `timeout` and
 * `memorySize`, and a `$connect` authorizer. `${self:}`, `${opt:stage}`, `${env:}` and
 * `${sls:stage}` variables are resolved; CloudFormation references in environment values
 * resolve against `resources.Resources`.
 *
 * @example
 * ```ts
 * const app = await loadServerless("/app/serverless.yml", text, { loader });
 * ```
 */
export async function loadServerless(
  file: string,
  text: string,
  options: LoadAppOptions,
): Promise<App> {
  const { value, issues } = parseSource(file, text, CLOUDFORMATION_TAGS);
  return serverlessApp(value, issues, options);
}

/** A service that is already data (a `serverless.ts`/`.js` default export). */
export function serverlessApp(
  config: unknown,
  issues: SourceIssues,
  options: LoadAppOptions,
): Promise<App> {
  if (!isRecord(config)) {
    issues.add(
      [],
      "a Serverless service (an object with service, provider and functions)",
      describeValue(config),
    );
    issues.throwIfAny();
  }
  const raw = config as Record<string, unknown>;
  // provider.region is read like any value (variables resolved); until it is, and when it is
  // not set, the service runs in the chosen region, else AWS_REGION, else us-east-1.
  let region = options.region ?? process.env.AWS_REGION ?? "us-east-1";
  const variables = new ServerlessVariables(
    raw,
    {
      ...(options.stage !== undefined ? { stage: options.stage } : {}),
      ...(options.region !== undefined ? { optRegion: options.region } : {}),
      region: () => region,
      accountId: ACCOUNT_ID,
      env: process.env,
    },
    issues,
  );
  const declaredRegion = isRecord(raw.provider)
    ? variables.resolve(["provider", "region"])
    : undefined;
  if (declaredRegion !== undefined) {
    if (typeof declaredRegion === "string" && /^[a-z]{2}(-[a-z]+)+-\d+$/.test(declaredRegion)) {
      region = options.region ?? declaredRegion;
    } else if (typeof declaredRegion !== "string" || !declaredRegion.includes("${")) {
      issues.add(
        ["provider", "region"],
        "an AWS region such as eu-north-1",
        describeValue(declaredRegion),
      );
    }
  }
  // Only what a local WebSocket run reads is resolved: a `${ssm:...}` in an HTTP function or in
  // `custom` must not stop the app. `resources` resolve where an environment value uses them.
  const authorizers = authorizerFunctionKeys(raw.functions);
  const functions = isRecord(raw.functions)
    ? Object.fromEntries(
        Object.entries(raw.functions).map(([key, fn]) => {
          const at = ["functions", key];
          // A WebSocket function or an authorizer runs locally: all of it is read.
          if (!isRecord(fn) || hasWebSocketEvent(fn) || authorizers(key)) {
            return [key, variables.resolve(at)];
          }
          const picked = ["name", "handler", "image"].filter((field) => field in fn);
          return [
            key,
            Object.fromEntries(picked.map((field) => [field, variables.resolve([...at, field])])),
          ];
        }),
      )
    : raw.functions;
  const provider = isRecord(raw.provider)
    ? Object.fromEntries(
        PROVIDER_FIELDS.filter((field) => field in (raw.provider as object)).map((field) => [
          field,
          variables.resolve(["provider", field]),
        ]),
      )
    : raw.provider;
  const service = {
    service: variables.resolve(["service"]),
    provider,
    functions,
    resources: raw.resources,
  };
  const stage = variables.stage();
  return new ServiceReader(service, stage, region, issues, options, variables).read();
}

/** The provider settings a local run reads. */
const PROVIDER_FIELDS = [
  "name",
  "runtime",
  "stage",
  "region",
  "environment",
  "timeout",
  "memorySize",
  "websocketsApiRouteSelectionExpression",
];

/**
 * Which functions WebSocket authorizers name, as written (before variables): by key, or by an
 * ARN ending in the function's key (its deployed name is `<service>-<stage>-<key>`).
 */
function authorizerFunctionKeys(functions: unknown): (key: string) => boolean {
  const names: string[] = [];
  if (isRecord(functions)) {
    for (const fn of Object.values(functions)) {
      if (!isRecord(fn) || !Array.isArray(fn.events)) continue;
      for (const event of fn.events) {
        const ws = isRecord(event) ? event.websocket : undefined;
        const auth = isRecord(ws) ? ws.authorizer : undefined;
        const named = isRecord(auth) ? (auth.name ?? auth.arn) : auth;
        if (typeof named === "string") names.push(named);
      }
    }
  }
  return (key) =>
    names.some((name) => name === key || (name.startsWith("arn:") && name.endsWith(key)));
}

function hasWebSocketEvent(fn: Record<string, unknown>): boolean {
  return (
    Array.isArray(fn.events) && fn.events.some((event) => isRecord(event) && "websocket" in event)
  );
}

class ServiceReader {
  readonly #service: Record<string, unknown>;
  readonly #variables: ServerlessVariables;
  readonly #declared: Set<string>;
  readonly #stage: string;
  readonly #issues: SourceIssues;
  readonly #options: LoadAppOptions;
  readonly #name: string;
  readonly #provider: Record<string, unknown>;
  readonly #functions: Record<string, unknown>;
  readonly #resolver: IntrinsicResolver;
  readonly #resources: Record<string, unknown>;
  readonly #region: string;
  /** provider.timeout / memorySize / runtime: what functions that declare none get. */
  #defaults = { timeoutSeconds: DEFAULT_TIMEOUT_SECONDS, memoryMb: DEFAULT_MEMORY_MB };

  constructor(
    service: Record<string, unknown>,
    stage: string,
    region: string,
    issues: SourceIssues,
    options: LoadAppOptions,
    variables: ServerlessVariables,
  ) {
    this.#variables = variables;
    this.#service = service;
    this.#stage = stage;
    this.#region = region;
    this.#issues = issues;
    this.#options = options;
    this.#name = this.#serviceName();
    this.#provider =
      service.provider === undefined
        ? {}
        : this.#object(["provider"], "a provider object (name: aws, runtime, stage, ...)");
    this.#functions = this.#object(["functions"], "an object of functions");
    // What CloudFormation references in environment values can name: the service's own
    // resources plus the ones Serverless generates (the API and one per function).
    const declared =
      isRecord(service.resources) && isRecord(service.resources.Resources)
        ? service.resources.Resources
        : {};
    this.#declared = new Set(Object.keys(declared));
    this.#resources = {
      WebsocketsApi: { Type: "AWS::ApiGatewayV2::Api" },
      ...Object.fromEntries(
        Object.keys(this.#functions).map((key) => [
          `${normalizeName(key)}LambdaFunction`,
          { Type: "AWS::Lambda::Function", Properties: { FunctionName: this.#functionName(key) } },
        ]),
      ),
      ...declared,
    };
    this.#resolver = new IntrinsicResolver({
      parameters: {},
      resources: this.#resources,
      region,
      accountId: ACCOUNT_ID,
      stackName: `${this.#name}-${stage}`,
      issues,
    });
  }

  async read(): Promise<App> {
    const provider = this.#provider;
    if (provider.name !== undefined && provider.name !== "aws") {
      this.#issues.add(
        ["provider", "name"],
        "aws (WebSocket APIs are API Gateway's)",
        describeValue(provider.name),
      );
    }
    this.#checkRuntime(provider.runtime, ["provider", "runtime"]);
    const rse = provider.websocketsApiRouteSelectionExpression;
    if (rse !== undefined && typeof rse !== "string") {
      this.#issues.add(
        ["provider", "websocketsApiRouteSelectionExpression"],
        "a string",
        describeValue(rse),
      );
    }
    const defaults = {
      timeoutSeconds: this.#defaultTimeout(provider.timeout, ["provider", "timeout"]),
      memoryMb: readMemory(
        provider.memorySize,
        ["provider", "memorySize"],
        this.#issues,
        DEFAULT_MEMORY_MB,
      ),
    };
    this.#defaults = defaults;
    const routes: RouteDraft[] = [];
    let authorizer: AuthorizerDraft | undefined;
    for (const [key, fn] of Object.entries(this.#functions)) {
      const at: DocumentPath = ["functions", key];
      if (!isRecord(fn)) {
        this.#issues.add(at, "a function object (handler, events, ...)", describeValue(fn));
        continue;
      }
      const events = fn.events;
      if (events !== undefined && !Array.isArray(events)) {
        this.#issues.add([...at, "events"], "a list of events", describeValue(events));
        continue;
      }
      const websocketEvents = (events ?? [])
        .map((event, index) => ({ event: event as unknown, index }))
        .filter(({ event }) => isRecord(event) && "websocket" in event);
      if (websocketEvents.length === 0) continue;
      const handler = this.#handler(fn, at);
      this.#checkRuntime(fn.runtime, [...at, "runtime"]);
      const timeoutMs = readTimeout(
        fn.timeout,
        [...at, "timeout"],
        this.#issues,
        defaults.timeoutSeconds,
      );
      const memoryMb = readMemory(
        fn.memorySize,
        [...at, "memorySize"],
        this.#issues,
        defaults.memoryMb,
      );
      const environment = this.#environment(fn.environment, [...at, "environment"]);
      const runtime = nodeRuntime(fn.runtime ?? provider.runtime);
      for (const { event, index } of websocketEvents) {
        const eventAt: DocumentPath = [...at, "events", index, "websocket"];
        const ws = (event as Record<string, unknown>).websocket;
        const route = this.#route(ws, eventAt);
        if (!route || !handler) continue;
        const draft: RouteDraft = {
          key: route.key,
          at: route.at,
          declaredIn: `function ${key}`,
          handler: { ref: handler, at: [...at, "handler"], ...this.#runtime(fn) },
          functionName: this.#functionName(key),
          routeResponse: route.routeResponse,
          timeoutMs,
          memoryMb,
          environment,
          ...(runtime ? { runtime } : {}),
        };
        // `serverless deploy` compiles one Route resource per route key, so a key declared
        // again replaces the earlier declaration: the later event wins (authorizer included).
        const earlier = routes.findIndex((r) => r.key === route.key);
        if (earlier >= 0) {
          const replaced = routes[earlier] as RouteDraft;
          this.#issues.warn(
            route.at,
            `route ${quote(route.key)} is declared by ${replaced.declaredIn} and again by function ${key}; function ${key} gets it (the later declaration wins, as in serverless deploy)`,
          );
          routes.splice(earlier, 1);
          if (route.key === CONNECT) authorizer = undefined;
        }
        routes.push(draft);
        if (route.authorizer !== undefined) {
          const authAt: DocumentPath = [...eventAt, "authorizer"];
          if (route.key !== CONNECT) {
            this.#issues.add(
              authAt,
              "an authorizer on the $connect route only (API Gateway runs it on connect)",
              `one on route ${quote(route.key)}`,
            );
          } else {
            authorizer = this.#authorizer(route.authorizer, authAt) ?? authorizer;
          }
        }
      }
    }
    const draft: AppDraft = {
      name: this.#name,
      stage: this.#stage,
      region: this.#region,
      stageAt: ["provider", "stage"],
      routeSelectionExpression: typeof rse === "string" ? rse : DEFAULT_ROUTE_SELECTION_EXPRESSION,
      routeSelectionAt: ["provider", "websocketsApiRouteSelectionExpression"],
      routes,
      routesAt: ["functions"],
      ...(authorizer ? { authorizer } : {}),
      environment: this.#environment(provider.environment, ["provider", "environment"]),
      tables: this.#tables(),
    };
    return finishApp(draft, { issues: this.#issues, format: "serverless", options: this.#options });
  }

  #serviceName(): string {
    const service = this.#service.service;
    const name = isRecord(service) ? service.name : service;
    if (typeof name === "string" && name !== "") return name;
    this.#issues.add(["service"], "a service name", describeValue(service));
    return "service";
  }

  #object(at: DocumentPath, expected: string): Record<string, unknown> {
    const value = this.#service[at[0] as string];
    if (isRecord(value)) return value;
    this.#issues.add(at, expected, describeValue(value));
    return {};
  }

  /** `provider.timeout` in seconds: functions' default, itself checked like theirs. */
  #defaultTimeout(value: unknown, at: DocumentPath): number {
    if (value === undefined) return DEFAULT_TIMEOUT_SECONDS;
    if (typeof value !== "number" || value <= 0 || value > 900) {
      this.#issues.add(at, "a number of seconds from 1 to 900", describeValue(value));
      return DEFAULT_TIMEOUT_SECONDS;
    }
    return value;
  }

  /** The function's `runtime`, else the provider's (checked by {@link #checkRuntime}). */
  #runtime(fn: Record<string, unknown>): { runtime?: string } {
    const runtime = fn.runtime ?? this.#provider.runtime;
    return typeof runtime === "string" ? { runtime } : {};
  }

  #checkRuntime(runtime: unknown, at: DocumentPath): void {
    if (runtime === undefined) return;
    if (typeof runtime !== "string" || !runtime.startsWith("nodejs")) {
      this.#issues.add(
        at,
        "a Node.js runtime (nodejs18.x, nodejs20.x, ...)",
        describeValue(runtime),
      );
    }
  }

  #functionName(key: string): string {
    const fn = this.#functions[key];
    if (isRecord(fn) && typeof fn.name === "string" && fn.name) return fn.name;
    return `${this.#name}-${this.#stage}-${key}`;
  }

  #handler(fn: Record<string, unknown>, at: DocumentPath): string | undefined {
    if (fn.image !== undefined) {
      this.#issues.add(
        [...at, "image"],
        "a handler (container image functions do not run locally)",
        describeValue(fn.image),
      );
      return undefined;
    }
    const handler = fn.handler;
    const ref = typeof handler === "string" ? lambdaHandlerRef(handler) : undefined;
    if (!ref) {
      this.#issues.add([...at, "handler"], HANDLER_EXPECTED, describeValue(handler));
      return undefined;
    }
    return ref;
  }

  #route(
    ws: unknown,
    at: DocumentPath,
  ): { key: string; at: DocumentPath; routeResponse: boolean; authorizer?: unknown } | undefined {
    if (typeof ws === "string") return { key: ws, at, routeResponse: false };
    if (!isRecord(ws)) {
      this.#issues.add(at, "a route key or an object with route", describeValue(ws));
      return undefined;
    }
    for (const key of Object.keys(ws)) {
      if (!WEBSOCKET_EVENT_KEYS.includes(key)) {
        this.#issues.add(
          [...at, key],
          `one of ${WEBSOCKET_EVENT_KEYS.join(", ")}`,
          unknownKey(key, WEBSOCKET_EVENT_KEYS, Object.keys(ws)),
        );
      }
    }
    if (typeof ws.route !== "string") {
      this.#issues.add(
        [...at, "route"],
        "a route key ($connect, $disconnect, $default or a custom key)",
        describeValue(ws.route),
      );
      return undefined;
    }
    const rrse = ws.routeResponseSelectionExpression;
    if (rrse !== undefined && rrse !== "$default") {
      this.#issues.add(
        [...at, "routeResponseSelectionExpression"],
        "$default (the only route response key API Gateway supports)",
        describeValue(rrse),
      );
    }
    return {
      key: ws.route,
      at: [...at, "route"],
      routeResponse: rrse === "$default",
      ...(ws.authorizer !== undefined ? { authorizer: ws.authorizer } : {}),
    };
  }

  #authorizer(value: unknown, at: DocumentPath): AuthorizerDraft | undefined {
    let name: unknown;
    let arn: unknown;
    let identitySource: unknown = [DEFAULT_IDENTITY_SOURCE];
    let nameAt = at;
    let sourceAt = at;
    if (typeof value === "string") {
      if (value.startsWith("arn:")) arn = value;
      else name = value;
    } else if (isRecord(value)) {
      for (const key of Object.keys(value)) {
        if (!AUTHORIZER_KEYS.includes(key)) {
          this.#issues.add(
            [...at, key],
            `one of ${AUTHORIZER_KEYS.join(", ")}`,
            unknownKey(key, AUTHORIZER_KEYS, Object.keys(value)),
          );
        }
      }
      ({ name, arn } = value);
      nameAt = [...at, name !== undefined ? "name" : "arn"];
      if (value.type !== undefined && String(value.type).toLowerCase() !== "request") {
        this.#issues.add(
          [...at, "type"],
          "request (WebSocket APIs have REQUEST authorizers only)",
          describeValue(value.type),
        );
      }
      if (value.identitySource !== undefined) {
        identitySource = value.identitySource;
        sourceAt = [...at, "identitySource"];
      }
    } else {
      this.#issues.add(
        at,
        "a function name, an ARN, or an object with name or arn",
        describeValue(value),
      );
      return undefined;
    }
    const sources = typeof identitySource === "string" ? [identitySource] : identitySource;
    if (!Array.isArray(sources) || !sources.every((s) => typeof s === "string")) {
      this.#issues.add(sourceAt, "a list of identity sources", describeValue(identitySource));
      return undefined;
    }
    const functionKey = this.#authorizerFunction(name, arn, nameAt);
    if (functionKey === undefined) return undefined;
    const fn = this.#functions[functionKey] as Record<string, unknown>;
    const fnAt: DocumentPath = ["functions", functionKey];
    const handler = this.#handler(fn, fnAt);
    if (!handler) return undefined;
    // The authorizer is a function of the service: it runs with its own declared settings.
    const runtime = nodeRuntime(fn.runtime ?? this.#provider.runtime);
    return {
      name: functionKey,
      functionName: this.#functionName(functionKey),
      timeoutMs: readTimeout(
        fn.timeout,
        [...fnAt, "timeout"],
        this.#issues,
        this.#defaults.timeoutSeconds,
      ),
      memoryMb: readMemory(
        fn.memorySize,
        [...fnAt, "memorySize"],
        this.#issues,
        this.#defaults.memoryMb,
      ),
      environment: this.#environment(fn.environment, [...fnAt, "environment"]),
      ...(runtime ? { runtime } : {}),
      handler: { ref: handler, at: ["functions", functionKey, "handler"], ...this.#runtime(fn) },
      identitySource: sources as string[],
      identitySourceAt: typeof identitySource === "string" ? sourceAt.slice(0, -1) : sourceAt,
      at,
    };
  }

  /** The key of the function an authorizer names: by key, or an ARN ending in its deployed name. */
  #authorizerFunction(name: unknown, arn: unknown, at: DocumentPath): string | undefined {
    const keys = Object.keys(this.#functions).filter((key) => isRecord(this.#functions[key]));
    if (typeof name === "string") {
      if (keys.includes(name)) return name;
      this.#issues.add(
        at,
        `the name of a function in this service (${listNames(keys)})`,
        quote(name),
      );
      return undefined;
    }
    if (typeof arn === "string") {
      const deployed = /:function:([^:]+)/.exec(arn)?.[1];
      const key = keys.find((k) => this.#functionName(k) === deployed);
      if (key) return key;
      this.#issues.add(
        at,
        "an authorizer that runs locally: a function of this service, by name or by an ARN ending in its function name",
        quote(arn),
      );
      return undefined;
    }
    this.#issues.add(at, "a function name or an ARN", describeValue(name ?? arn));
    return undefined;
  }

  /** The DynamoDB tables of `resources.Resources`, variables and intrinsics resolved. */
  #tables(): TableDeclaration[] {
    const declared = Object.fromEntries(
      Object.entries(this.#resources).filter(([id]) => this.#declared.has(id)),
    );
    const value = (id: string, property: string) => {
      const resource = this.#resources[id];
      const props = isRecord(resource) && isRecord(resource.Properties) ? resource.Properties : {};
      if (props[property] === undefined) return undefined;
      const at = ["resources", "Resources", id, "Properties", property];
      return this.#resolver.resolve(this.#variables.resolve(at), at);
    };
    return cloudFormationTables(
      declared,
      {
        value,
        string: (id, property) => {
          const resolved = value(id, property);
          return resolved === undefined
            ? undefined
            : this.#resolver.string(resolved, [
                "resources",
                "Resources",
                id,
                "Properties",
                property,
              ]);
        },
      },
      `${this.#name}-${this.#stage}`,
      ["resources", "Resources"],
      this.#issues,
    );
  }

  /** Environment values, with CloudFormation references resolved to what the stack would give. */
  #environment(value: unknown, at: DocumentPath): Record<string, string> {
    if (!isRecord(value)) return readEnvironment(value, at, this.#issues);
    const plain: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) {
      if (!isRecord(item)) {
        plain[name] = item;
        continue;
      }
      const resolved = this.#resolver.string(
        item,
        [...at, name],
        "a string (or a reference that resolves to one)",
      );
      if (resolved === undefined) continue;
      plain[name] = replaceResourceRefs(resolved, (ref) =>
        localResourceValue(
          ref,
          this.#resources[ref.id],
          {
            region: this.#region,
            accountId: ACCOUNT_ID,
            stackName: `${this.#name}-${this.#stage}`,
            apiId: apiIdFor(this.#name),
          },
          (property) => {
            const resource = this.#resources[ref.id];
            const props =
              isRecord(resource) && isRecord(resource.Properties) ? resource.Properties : {};
            if (props[property] === undefined) return undefined;
            const at = ["resources", "Resources", ref.id, "Properties", property];
            // Declared resources still hold their ${...} variables; generated ones do not.
            const value = this.#declared.has(ref.id)
              ? this.#variables.resolve(at)
              : props[property];
            return this.#resolver.string(value, at);
          },
        ),
      );
    }
    return readEnvironment(plain, at, this.#issues);
  }
}

/** Serverless's logical-id naming: first letter upper-cased, `-` → `Dash`, `_` → `Underscore`. */
function normalizeName(name: string): string {
  const upper = name.charAt(0).toUpperCase() + name.slice(1);
  return upper.replace(/-/g, "Dash").replace(/_/g, "Underscore");
}

/** `serverless.ts` / `serverless.js`: the module's default export is the service. */
export async function loadServerlessModule(
  file: string,
  _text: string,
  options: LoadAppOptions,
): Promise<App> {
  const issues = new SourceIssues(file);
  let exports: Record<string, unknown>;
  try {
    exports = (await options.loader.load(file)).exports;
  } catch (error) {
    issues.add(
      [],
      "a service module that builds and loads",
      `an error: ${(error as Error).message}`,
    );
    issues.throwIfAny();
    throw error;
  }
  const service = exports.default ?? exports;
  return serverlessApp(
    isRecord(service) && isRecord(service.default) ? service.default : service,
    issues,
    options,
  );
}
