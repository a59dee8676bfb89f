import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { BackendIntegration, LambdaIntegration } from "./integration.js";
import type { LoadWarning } from "./load-warning.js";

/**
 * The normalized, validated description of a WebSocket API. Every loader produces one;
 * every consumer (gateway, CloudFormation compiler, `switchboard routes`) reads only this.
 */
export interface App {
  /** Application name (used for stack and function names). */
  name: string;
  /** Stage name; the gateway serves `/` and `/{stage}`. */
  stage: string;
  /**
   * The AWS region the source declares (Serverless `provider.region`, Architect `@aws region`):
   * the region its functions run in, which `switchboard dev` uses unless given another.
   */
  region?: string;
  /** Absolute folder that handler paths are relative to. */
  root: string;
  /** Where the app came from (absolute path) and which loader read it. */
  source: { file: string; format: AppFormat };
  /** AWS route selection expression, e.g. `$request.body.action`. */
  routeSelectionExpression: string;
  routes: Route[];
  /** REQUEST authorizer, evaluated on `$connect` only (as on AWS). */
  authorizer?: Authorizer;
  /** The connection table handlers reach through `ctx.connections`. */
  connections: ConnectionTableConfig;
  /** Environment variables every function gets (a route's own win). */
  environment: Record<string, string>;
  limits: Limits;
  /**
   * DynamoDB tables the app declares (CloudFormation resources, Architect `@tables`), which
   * `switchboard dev` creates in its local DynamoDB. Absent when there are none.
   */
  tables?: TableDeclaration[];
  /**
   * The folder of static files the source declares (absolute; Architect `@static folder`,
   * default `public`), which `switchboard dev` serves. Absent: `<root>/public` when it exists.
   */
  staticDir?: string;
  /** What the loader accepted as the source framework does but the author may not mean. */
  warnings?: LoadWarning[];
  /** Secrets every function gets as environment variables (native format; see docs/handlers.md). */
  secrets?: Secret[];
  /** Run with `{ stage, tables }` once loaded in dev and after deploy (native `seed`). */
  seed?: HandlerTarget;
}

/** A secret: the environment variable it is given in, and on AWS the Secrets Manager ARN (default `<app>/<stage>/<name>`). */
export interface Secret {
  name: string;
  arn?: string;
}

/** A DynamoDB table as declared: what the local DynamoDB creates. */
export interface TableDeclaration {
  /** The physical name functions address (`TableName`, or the name the stack would give). */
  name: string;
  /** Where it is declared: the logical id (`ConnectionsTable`) or the `@tables` name. */
  declaredAs: string;
  /** Key attributes and their types. */
  attributes: Record<string, TableAttributeType>;
  key: TableKey;
  globalIndexes?: TableIndex[];
  localIndexes?: TableIndex[];
  /** The TTL attribute (`TimeToLiveSpecification` with `Enabled: true`, Architect `ttl`). */
  ttlAttribute?: string;
  /** Native `tables` only: the `TABLE_*` variable, and the stream; `switchboard build` compiles these. */
  env?: string;
  stream?: "NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES" | "KEYS_ONLY";
}

export type TableAttributeType = "S" | "N" | "B";

export interface TableKey {
  hash: string;
  range?: string;
}

export interface TableIndex {
  name: string;
  key: TableKey;
  /** `ALL` unless declared otherwise. */
  projection: { type: "ALL" | "KEYS_ONLY" | "INCLUDE"; nonKeyAttributes?: string[] };
}

export type AppFormat =
  | "switchboard-ts"
  | "switchboard-yaml"
  | "switchboard-json"
  | "object"
  /** serverless.yml / .yaml / .json / .ts / .js (Serverless Framework). */
  | "serverless"
  /** app.arc, .arc, arc.json, arc.yaml, package.json#arc (Architect). */
  | "architect"
  /** SAM or plain CloudFormation template (template.yaml / .yml / .json). */
  | "cloudformation"
  /** LambdaSharp-style module (Module.yml). */
  | "lambdasharp"
  /** The output folder of `switchboard build` (manifest.json + template.json + zips). */
  | "switchboard-build";

/** Which function a route invokes. */
export interface HandlerTarget {
  /** Absolute path of the handler module. */
  file: string;
  /** Name of the export (`handler` unless the config says otherwise). */
  export: string;
  /** A method to call on the export (a class is instantiated once, an object used as is). */
  method?: string;
  /**
   * The function's Lambda runtime as its source names it (`nodejs20.x`); absent when it names
   * none (a current Node.js runtime). Decides which AWS SDK its imports fall back to.
   */
  runtime?: string;
}

/**
 * A route: a function of the app (Lambda proxy, or `AWS` non-proxy with templates), or a
 * backend that runs no function (`MOCK`, `HTTP`, `HTTP_PROXY`, an AWS service).
 */
export type Route = FunctionRoute | BackendRoute;

/** A route that runs a function of the app. */
export interface FunctionRoute extends RouteCommon {
  target: HandlerTarget;
  /** Absent: Lambda proxy (the event in, the result out). */
  integration?: LambdaIntegration;
}

/** A route that runs no function: its integration is the backend. */
export interface BackendRoute extends RouteCommon {
  target?: undefined;
  integration: BackendIntegration;
}

interface RouteCommon {
  /** `$connect`, `$disconnect`, `$default` or a custom key. */
  key: string;
  /** Lambda function name, when the source format names functions (Serverless, SAM); else derived. */
  functionName?: string;
  /** Two-way route: the handler's result is sent back (AWS `RouteResponseSelectionExpression: $default`). */
  routeResponse: boolean;
  /** Body schema: validated before the handler runs; a failure gets the AWS `Bad request body` frame. */
  body?: BodySchema;
  /** Integration timeout in milliseconds (AWS: 50 ms – 29 s). */
  timeoutMs: number;
  /** Lambda memory size in MB (used when compiled to AWS). */
  memoryMb: number;
  /** Environment variables for this function (merged over the app's). */
  environment: Record<string, string>;
  /** Native tables (`declaredAs`) its function may use; absent: all. */
  tables?: string[];
  /** Secrets of its own, besides the app's. */
  secrets?: Secret[];
}

/** A schema given directly (TypeScript config) or as a reference to an exported schema. */
export type BodySchema =
  | { kind: "schema"; schema: StandardSchemaV1 }
  | { kind: "ref"; file: string; export: string };

export interface Authorizer {
  name: string;
  target: HandlerTarget;
  /** e.g. `route.request.header.Authorization`, `route.request.querystring.token`. */
  identitySource: string[];
  /** Lambda function name, when the source format names it; else `<app>-<stage>-<name>`. */
  functionName?: string;
  /** Lambda timeout in ms (default {@link AUTHORIZER_DEFAULTS}); API Gateway waits 29 s at most. */
  timeoutMs?: number;
  /** Lambda memory size in MB (default {@link AUTHORIZER_DEFAULTS}). */
  memoryMb?: number;
  /** The authorizer function's own environment (merged over the app's). */
  environment?: Record<string, string>;
}

/** An authorizer's function settings when the app does not declare them (dev and build alike). */
export const AUTHORIZER_DEFAULTS = Object.freeze({ memoryMb: 256, timeoutMs: 10_000 });

export interface ConnectionTableConfig {
  /** Seconds a record lives after its last write (0 = forever). */
  ttlSeconds: number;
  /** Record fields that can be queried (`userId`, `room`, ...). */
  indexes: string[];
}

export interface Limits {
  /** Largest inbound message, bytes (AWS 128 KiB; bigger closes with 1009). */
  messageBytes: number;
  /** Largest inbound frame, bytes (AWS 32 KiB; bigger closes with 1009). */
  frameBytes: number;
  /** Idle timeout, ms (AWS 10 min; close 1001). Only data frames count as activity. */
  idleTimeoutMs: number;
  /** Longest connection lifetime, ms (AWS 2 h; close 1001). */
  maxConnectionMs: number;
  /** Default integration timeout, ms (AWS 29 s). */
  timeoutMs: number;
}

/** AWS API Gateway WebSocket defaults. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  messageBytes: 128 * 1024,
  frameBytes: 32 * 1024,
  idleTimeoutMs: 10 * 60 * 1000,
  maxConnectionMs: 2 * 60 * 60 * 1000,
  timeoutMs: 29_000,
});

export const DEFAULT_ROUTE_SELECTION_EXPRESSION = "$request.body.action";
export const DEFAULT_STAGE = "dev";
export const DEFAULT_MEMORY_MB = 1024;

/** Route keys with a meaning of their own. */
export const CONNECT = "$connect";
export const DISCONNECT = "$disconnect";
export const DEFAULT_ROUTE = "$default";
