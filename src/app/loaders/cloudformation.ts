import path from "node:path";
import { apiIdFor } from "../aws-names.js";
import { describeValue, listNames, quote } from "../describe-value.js";
import type { DocumentPath } from "../issue-location.js";
import type { LoadAppOptions } from "../load-options.js";
import { type App, CONNECT, DEFAULT_STAGE } from "../model.js";
import {
  type AppDraft,
  type AuthorizerDraft,
  finishApp,
  type HandlerDraft,
  isRecord,
  lambdaHandlerRef,
  nodeRuntime,
  type RouteDraft,
  readEnvironment,
  readMemory,
  readTimeout,
} from "./app-draft.js";
import { type ReadIntegration, readIntegration } from "./cloudformation-integrations.js";
import {
  CLOUDFORMATION_TAGS,
  IntrinsicResolver,
  type LocalNames,
  localResourceValue,
  replaceResourceRefs,
  resourceRefsIn,
} from "./cloudformation-intrinsics.js";
import { parseSource, type SourceIssues } from "./source-issues.js";
import { cloudFormationTables } from "./tables.js";

const API = "AWS::ApiGatewayV2::Api";
const ROUTE = "AWS::ApiGatewayV2::Route";
const INTEGRATION = "AWS::ApiGatewayV2::Integration";
const ROUTE_RESPONSE = "AWS::ApiGatewayV2::RouteResponse";
const INTEGRATION_RESPONSE = "AWS::ApiGatewayV2::IntegrationResponse";
const AUTHORIZER = "AWS::ApiGatewayV2::Authorizer";
const STAGE = "AWS::ApiGatewayV2::Stage";
const SAM_FUNCTION = "AWS::Serverless::Function";
const LAMBDA_FUNCTION = "AWS::Lambda::Function";
const FUNCTION_TYPES = [SAM_FUNCTION, LAMBDA_FUNCTION];
/** Lambda's own defaults (SAM's too). */
const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_MEMORY_MB = 128;
const ACCOUNT_ID = "000000000000";

type Resource = { Type?: unknown; Properties?: Record<string, unknown> };

/** What routes need of a Lambda function. */
interface FunctionInfo {
  handler: HandlerDraft;
  name: string;
  timeoutMs: number;
  memoryMb: number;
  environment: Record<string, string>;
  runtime?: string;
}

/**
 * Read a SAM or CloudFormation template (YAML with the short-form tags, or JSON): the
 * `AWS::ApiGatewayV2::Api` with `ProtocolType: WEBSOCKET`, its Routes, their Integrations of
 * every type (`cloudformation-integrations.ts`: `AWS_PROXY` and `AWS` to Lambda functions,
 * `AWS::Serverless::Function` with `Globals` or `AWS::Lambda::Function` with a local `Code`
 * path; `MOCK`, `HTTP`, `HTTP_PROXY`, DynamoDB actions), RouteResponses, a REQUEST Authorizer and
 * the Stage name. Intrinsics resolve with parameter defaults; references to tables, functions
 * and the API in environment variables become the names the stack would give them.
 *
 * @example
 * ```ts
 * const app = await loadCloudFormation("/app/template.yaml", text, { loader });
 * ```
 */
export async function loadCloudFormation(
  file: string,
  text: string,
  options: LoadAppOptions,
): Promise<App> {
  const { value: template, issues } = parseSource(file, text, CLOUDFORMATION_TAGS);
  if (!isRecord(template) || !isRecord(template.Resources)) {
    issues.add(
      isRecord(template) ? ["Resources"] : [],
      "a template with a Resources object",
      describeValue(isRecord(template) ? template.Resources : template),
    );
    issues.throwIfAny();
  }
  return new TemplateReader(template as Record<string, unknown>, issues, options).read();
}

class TemplateReader {
  readonly #template: Record<string, unknown>;
  readonly #resources: Record<string, Resource>;
  readonly #issues: SourceIssues;
  readonly #options: LoadAppOptions;
  readonly #resolver: IntrinsicResolver;
  readonly #region = process.env.AWS_REGION ?? "us-east-1";
  readonly #stackName: string;
  #names: LocalNames | undefined;

  constructor(template: Record<string, unknown>, issues: SourceIssues, options: LoadAppOptions) {
    this.#template = template;
    this.#resources = template.Resources as Record<string, Resource>;
    this.#issues = issues;
    this.#options = options;
    this.#stackName = path.basename(path.dirname(issues.file));
    this.#resolver = new IntrinsicResolver({
      parameters: isRecord(template.Parameters) ? template.Parameters : {},
      resources: this.#resources,
      ...(isRecord(template.Mappings) ? { mappings: template.Mappings } : {}),
      ...(isRecord(template.Conditions) ? { conditions: template.Conditions } : {}),
      region: this.#region,
      accountId: ACCOUNT_ID,
      stackName: this.#stackName,
      issues,
    });
  }

  async read(): Promise<App> {
    const apis = this.#ofType(API).filter(([id]) => {
      const protocol = this.#property(id, "ProtocolType");
      return protocol === "WEBSOCKET";
    });
    const [api, extra] = apis;
    if (!api) {
      this.#issues.add(["Resources"], `an ${API} with ProtocolType WEBSOCKET`, "none");
      this.#issues.throwIfAny();
    }
    if (extra) {
      this.#issues.add(
        ["Resources", extra[0]],
        "one WebSocket API per app",
        `a second one (${apis.map(([id]) => id).join(", ")})`,
      );
    }
    const [apiId] = api as [string, Resource];
    const name = this.#string(apiId, "Name") ?? this.#stackName;
    this.#names = {
      region: this.#region,
      accountId: ACCOUNT_ID,
      stackName: this.#stackName,
      apiId: apiIdFor(name),
    };
    const rse = this.#string(apiId, "RouteSelectionExpression");
    if (
      rse === undefined &&
      this.#resources[apiId]?.Properties?.RouteSelectionExpression === undefined
    ) {
      this.#issues.add(
        ["Resources", apiId, "Properties"],
        "a RouteSelectionExpression (required for WebSocket APIs)",
        "none",
      );
    }

    const belongs = (id: string) => this.#refersTo(id, "ApiId", apiId);
    const stage = this.#stage(belongs);
    const responses = new Set(
      this.#ofType(ROUTE_RESPONSE)
        .filter(([id]) => belongs(id))
        .flatMap(([id]) => {
          const key = this.#string(id, "RouteResponseKey");
          if (key !== "$default") {
            this.#issues.add(
              this.#at(id, "RouteResponseKey"),
              "$default (the only route response key API Gateway supports)",
              describeValue(key),
            );
            return [];
          }
          const route = this.#referenced(id, "RouteId", [ROUTE]);
          return route ? [route] : [];
        }),
    );

    const routes: RouteDraft[] = [];
    let authorizer: AuthorizerDraft | undefined;
    for (const [id] of this.#ofType(ROUTE).filter(([routeId]) => belongs(routeId))) {
      const key = this.#string(id, "RouteKey");
      if (key === undefined) {
        this.#issues.add(
          this.#at(id, "RouteKey"),
          "a route key",
          describeValue(this.#resources[id]?.Properties?.RouteKey),
        );
        continue;
      }
      const rrse = this.#string(id, "RouteResponseSelectionExpression");
      if (rrse !== undefined && rrse !== "$default") {
        this.#issues.add(
          this.#at(id, "RouteResponseSelectionExpression"),
          "$default (the only one API Gateway supports)",
          quote(rrse),
        );
      }
      if (responses.has(id) && rrse !== "$default") {
        this.#issues.add(
          this.#at(id, "RouteResponseSelectionExpression"),
          "RouteResponseSelectionExpression: $default on a route with a RouteResponse (without it API Gateway sends nothing back)",
          describeValue(rrse),
        );
      }
      const integration = this.#integration(id);
      if (!integration) continue;
      if (integration.kind === "backend") {
        routes.push({
          key,
          at: this.#at(id, "RouteKey"),
          declaredIn: `route ${id}`,
          integration: integration.integration,
          routeResponse: rrse === "$default" && responses.has(id),
          timeoutMs: integration.timeoutMs ?? 29_000,
          memoryMb: DEFAULT_MEMORY_MB,
          environment: {},
        });
        continue;
      }
      const fn = this.#function(integration.functionId, integration.at);
      if (!fn) continue;
      routes.push({
        ...(integration.integration ? { integration: integration.integration } : {}),
        key,
        at: this.#at(id, "RouteKey"),
        declaredIn: `route ${id}`,
        handler: fn.handler,
        functionName: fn.name,
        routeResponse: rrse === "$default" && responses.has(id),
        timeoutMs: Math.min(fn.timeoutMs, integration.timeoutMs ?? fn.timeoutMs),
        memoryMb: fn.memoryMb,
        environment: fn.environment,
        ...(fn.runtime ? { runtime: fn.runtime } : {}),
      });
      const auth = this.#string(id, "AuthorizationType");
      if (auth === "CUSTOM") {
        if (key !== CONNECT) {
          this.#issues.add(
            this.#at(id, "AuthorizationType"),
            "CUSTOM authorization on the $connect route only",
            `on route ${quote(key)}`,
          );
        } else {
          authorizer = this.#authorizer(id) ?? authorizer;
        }
      } else if (auth !== undefined && auth !== "NONE" && auth !== "AWS_IAM") {
        this.#issues.add(this.#at(id, "AuthorizationType"), "NONE, AWS_IAM or CUSTOM", quote(auth));
      }
    }
    const draft: AppDraft = {
      name,
      stage: stage.name,
      ...(stage.at ? { stageAt: stage.at } : {}),
      routeSelectionExpression: rse ?? "$request.body.action",
      routeSelectionAt: this.#at(apiId, "RouteSelectionExpression"),
      routes,
      routesAt: ["Resources", apiId],
      ...(authorizer ? { authorizer } : {}),
      environment: {},
      tables: cloudFormationTables(
        this.#resources,
        {
          value: (id, property) => this.#property(id, property),
          string: (id, property) => this.#string(id, property),
        },
        this.#stackName,
        ["Resources"],
        this.#issues,
      ),
    };
    return finishApp(draft, {
      issues: this.#issues,
      format: "cloudformation",
      options: this.#options,
    });
  }

  #ofType(type: string): [string, Resource][] {
    return Object.entries(this.#resources).filter(
      ([, resource]) => isRecord(resource) && resource.Type === type,
    );
  }

  #at(id: string, property?: string): DocumentPath {
    return property ? ["Resources", id, "Properties", property] : ["Resources", id];
  }

  #property(id: string, property: string): unknown {
    const value = this.#resources[id]?.Properties?.[property];
    return value === undefined ? undefined : this.#resolver.resolve(value, this.#at(id, property));
  }

  #string(id: string, property: string): string | undefined {
    const value = this.#resources[id]?.Properties?.[property];
    return value === undefined ? undefined : this.#resolver.string(value, this.#at(id, property));
  }

  /** Whether a property (`ApiId`) refers to the resource `target` (`!Ref Api`). */
  #refersTo(id: string, property: string, target: string): boolean {
    return resourceRefsIn(this.#string(id, property)).some((ref) => ref.id === target);
  }

  /** The resource of one of `types` a property refers to; an issue when there is none. */
  #referenced(
    id: string,
    property: string,
    types: readonly string[],
    expected?: string,
  ): string | undefined {
    const value = this.#string(id, property);
    if (value === undefined) {
      if (this.#resources[id]?.Properties?.[property] === undefined) {
        this.#issues.add(this.#at(id), expected ?? `a ${property}`, "none");
      }
      return undefined;
    }
    const ref = resourceRefsIn(value).find((r) =>
      types.includes(String(this.#resources[r.id]?.Type)),
    );
    if (ref) return ref.id;
    const candidates = Object.entries(this.#resources)
      .filter(([, resource]) => types.includes(String(resource?.Type)))
      .map(([name]) => name);
    this.#issues.add(
      this.#at(id, property),
      expected ??
        `a reference to a ${types.join(" or ")} of this template (${listNames(candidates)})`,
      quote(value.replace(/\u27ea|\u27eb/g, "")),
    );
    return undefined;
  }

  #stage(belongs: (id: string) => boolean): { name: string; at?: DocumentPath } {
    const [stage] = this.#ofType(STAGE).filter(([id]) => belongs(id));
    if (!stage) return { name: DEFAULT_STAGE };
    const name = this.#string(stage[0], "StageName");
    return { name: name ?? DEFAULT_STAGE, at: this.#at(stage[0], "StageName") };
  }

  /** A route's integration: the function it invokes (and how), or the backend it reaches. */
  #integration(routeId: string): ReadIntegration | undefined {
    const integrationId = this.#referenced(routeId, "Target", [INTEGRATION], undefined);
    if (!integrationId) return undefined;
    return readIntegration(integrationId, {
      string: (id, property) => this.#string(id, property),
      value: (id, property) => this.#property(id, property),
      at: (id, property) => this.#at(id, property),
      has: (id, property) => this.#resources[id]?.Properties?.[property] !== undefined,
      functionIn: (id, property) => this.#functionIn(id, property),
      responsesOf: (id) =>
        this.#ofType(INTEGRATION_RESPONSE)
          .filter(([responseId]) => this.#refersTo(responseId, "IntegrationId", id))
          .map(([responseId]) => responseId),
      hasTables: this.#ofType("AWS::DynamoDB::Table").length > 0,
      issues: this.#issues,
    });
  }

  /** The Lambda function an invocation URI names: by reference, or by its FunctionName in an ARN. */
  #functionIn(id: string, property: string): string | undefined {
    const uri = this.#string(id, property);
    if (uri === undefined) {
      if (this.#resources[id]?.Properties?.[property] === undefined) {
        this.#issues.add(this.#at(id), `an ${property} naming a Lambda function`, "none");
      }
      return undefined;
    }
    const byRef = resourceRefsIn(uri).find((r) =>
      FUNCTION_TYPES.includes(String(this.#resources[r.id]?.Type)),
    );
    if (byRef) return byRef.id;
    const named = /:function:([^/:]+)/.exec(uri)?.[1];
    const byName = this.#ofType(SAM_FUNCTION)
      .concat(this.#ofType(LAMBDA_FUNCTION))
      .find(([fnId]) => this.#string(fnId, "FunctionName") === named);
    if (byName) return byName[0];
    this.#issues.add(
      this.#at(id, property),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, shown to the user
      "a Lambda function of this template (!GetAtt Fn.Arn, ${Fn.Arn} or its FunctionName in the ARN)",
      quote(uri.replace(/\u27ea|\u27eb/g, "")),
    );
    return undefined;
  }

  #authorizer(routeId: string): AuthorizerDraft | undefined {
    const id = this.#referenced(routeId, "AuthorizerId", [AUTHORIZER], undefined);
    if (!id) return undefined;
    const type = this.#string(id, "AuthorizerType");
    if (type !== "REQUEST") {
      this.#issues.add(
        this.#at(id, "AuthorizerType"),
        "REQUEST (WebSocket APIs have REQUEST authorizers only)",
        describeValue(type),
      );
      return undefined;
    }
    const functionId = this.#functionIn(id, "AuthorizerUri");
    if (!functionId) return undefined;
    const fn = this.#function(functionId, this.#at(id, "AuthorizerUri"));
    if (!fn) return undefined;
    const sources = this.#property(id, "IdentitySource") ?? [];
    const list = typeof sources === "string" ? sources.split(",").map((s) => s.trim()) : sources;
    if (!Array.isArray(list) || !list.every((s) => typeof s === "string")) {
      this.#issues.add(
        this.#at(id, "IdentitySource"),
        "a list of identity sources",
        describeValue(sources),
      );
      return undefined;
    }
    return {
      name: this.#string(id, "Name") ?? id,
      handler: fn.handler,
      functionName: fn.name,
      timeoutMs: fn.timeoutMs,
      memoryMb: fn.memoryMb,
      environment: fn.environment,
      ...(fn.runtime ? { runtime: fn.runtime } : {}),
      identitySource: list as string[],
      identitySourceAt: this.#at(id, "IdentitySource"),
      at: this.#at(id),
    };
  }

  readonly #functions = new Map<string, FunctionInfo | undefined>();

  /** A function, read once however many routes use it (so its issues are reported once). */
  #function(id: string, _usedAt: DocumentPath): FunctionInfo | undefined {
    if (!this.#functions.has(id)) this.#functions.set(id, this.#readFunction(id));
    return this.#functions.get(id);
  }

  /** A function's handler, name and settings (SAM `Globals.Function` under its own properties). */
  #readFunction(id: string): FunctionInfo | undefined {
    const resource = this.#resources[id] as Resource;
    const sam = resource.Type === SAM_FUNCTION;
    const globals =
      sam && isRecord(this.#template.Globals) && isRecord(this.#template.Globals.Function)
        ? this.#template.Globals.Function
        : {};
    const own = (property: string) => resource.Properties?.[property] !== undefined;
    // Globals are written elsewhere in the file: read each setting where it is written.
    const setting = (property: string): { value: unknown; at: DocumentPath } | undefined => {
      if (own(property)) return { value: this.#property(id, property), at: this.#at(id, property) };
      if (globals[property] !== undefined) {
        const at = ["Globals", "Function", property];
        return { value: this.#resolver.resolve(globals[property], at), at };
      }
      return undefined;
    };
    const runtime = setting("Runtime");
    if (runtime && (typeof runtime.value !== "string" || !runtime.value.startsWith("nodejs"))) {
      this.#issues.add(
        runtime.at,
        "a Node.js runtime (nodejs18.x, nodejs20.x, ...)",
        describeValue(runtime.value),
      );
    }
    const handler = setting("Handler");
    const handlerAt = handler?.at ?? this.#at(id);
    let dir: string | undefined;
    if (sam) {
      if (
        own("InlineCode") ||
        (own("PackageType") && this.#property(id, "PackageType") === "Image")
      ) {
        this.#issues.add(
          this.#at(id, own("InlineCode") ? "InlineCode" : "PackageType"),
          "CodeUri with a local folder (inline code and images do not run locally)",
          own("InlineCode") ? "InlineCode" : "an image",
        );
        return undefined;
      }
      const codeUri = setting("CodeUri");
      if (codeUri && typeof codeUri.value !== "string") {
        this.#issues.add(
          codeUri.at,
          "a local folder (S3 locations do not run locally)",
          describeValue(codeUri.value),
        );
        return undefined;
      }
      dir = (codeUri?.value as string | undefined) ?? ".";
    } else {
      const code = this.#property(id, "Code");
      if (typeof code !== "string") {
        this.#issues.add(
          this.#at(id, "Code"),
          "a local folder (as `aws cloudformation package` reads it; ZipFile, S3 and image code do not run locally)",
          describeValue(code),
        );
        return undefined;
      }
      dir = code;
    }
    const ref =
      typeof handler?.value === "string" ? lambdaHandlerRef(handler.value, dir) : undefined;
    if (!ref) {
      this.#issues.add(
        handlerAt,
        "a Handler as file.export (e.g. app.handler)",
        describeValue(handler?.value),
      );
      return undefined;
    }
    const timeout = setting("Timeout");
    const memory = setting("MemorySize");
    const name = this.#string(id, "FunctionName") ?? `${this.#stackName}-${id}`;
    return {
      handler: {
        ref,
        at: handlerAt,
        ...(typeof runtime?.value === "string" ? { runtime: runtime.value } : {}),
      },
      name,
      timeoutMs: readTimeout(
        timeout?.value,
        timeout?.at ?? this.#at(id),
        this.#issues,
        DEFAULT_TIMEOUT_SECONDS,
      ),
      memoryMb: readMemory(
        memory?.value,
        memory?.at ?? this.#at(id),
        this.#issues,
        DEFAULT_MEMORY_MB,
      ),
      environment: this.#environment(id, globals),
      ...(nodeRuntime(runtime?.value) ? { runtime: runtime?.value as string } : {}),
    };
  }

  /** `Environment.Variables`, the function's over the Globals', references made concrete. */
  #environment(id: string, globals: Record<string, unknown>): Record<string, string> {
    const variables: Record<string, string> = {};
    const read = (value: unknown, at: DocumentPath) => {
      if (value === undefined) return;
      const resolved = this.#resolver.resolve(value, at);
      const vars = isRecord(resolved) ? resolved.Variables : undefined;
      const env = readEnvironment(vars, [...at, "Variables"], this.#issues);
      for (const [name, text] of Object.entries(env)) {
        variables[name] = replaceResourceRefs(text, (ref) =>
          localResourceValue(ref, this.#resources[ref.id], this.#names as LocalNames, (property) =>
            this.#string(ref.id, property),
          ),
        );
      }
    };
    read(globals.Environment, ["Globals", "Function", "Environment"]);
    read(this.#resources[id]?.Properties?.Environment, this.#at(id, "Environment"));
    return variables;
  }
}
