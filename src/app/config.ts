import type { StandardSchemaV1 } from "@standard-schema/spec";

/**
 * A handler reference: `"path/to/file.ts#exportName"` (relative to the config file).
 * Without `#`, the export is `handler`, as in AWS Lambda's `file.handler`.
 */
export type HandlerRef = string;

/** One route in `switchboard.config.ts` / `switchboard.yaml`. A bare string is `{ handler }`. */
export interface RouteConfig {
  /** `file#export`, e.g. `src/chat.ts#send`. Absent: the app's top-level `handler`. */
  handler?: HandlerRef;
  /** Method to invoke on the export: a class is instantiated once (with `initialize()`), an object used as is. */
  method?: string;
  /** Send the handler's result back to the caller (two-way route). Default false. */
  routeResponse?: boolean;
  /** Body schema: any Standard Schema (zod, valibot, arktype) or a `file#export` reference to one. */
  body?: StandardSchemaV1 | HandlerRef;
  /** Integration timeout in seconds (AWS allows 0.05 – 29). Default `limits.timeout`. */
  timeout?: number;
  /** Lambda memory in MB. Default 1024. */
  memory?: number;
  environment?: Record<string, string>;
  /** Secrets this route's function gets as environment variables, besides the app's. */
  secrets?: SecretConfig[];
  /**
   * The declared tables this route's function may use (IAM grants and `TABLE_*` variables).
   * Absent: every declared table.
   */
  tables?: string[];
}

/**
 * A secret: an environment variable name (`"MONGODB_URI"`), resolved in dev from the
 * environment or `.env` / `.env.<stage>`, on AWS from Secrets Manager `<app>/<stage>/<NAME>`;
 * or `{ name, arn }` to read it from a given Secrets Manager secret on AWS.
 */
export type SecretConfig = string | { name: string; arn: string };

/** A key attribute: its name (a string attribute), or its name and type. */
export type KeyAttributeConfig = string | { name: string; type: "string" | "number" | "binary" };

/** A DynamoDB table of the app (`tables: { <name>: ... }`). */
export interface TableConfig {
  partitionKey: KeyAttributeConfig;
  sortKey?: KeyAttributeConfig;
  /** Global secondary indexes by name (projection: all attributes unless given). */
  indexes?: Record<
    string,
    {
      partitionKey: KeyAttributeConfig;
      sortKey?: KeyAttributeConfig;
      projection?: "all" | "keys" | string[];
    }
  >;
  /** The attribute holding each item's expiry (epoch seconds): DynamoDB TTL. */
  ttl?: string;
  /** A DynamoDB stream: `true` (new and old images) or the view type. */
  stream?: boolean | "NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES" | "KEYS_ONLY";
}

/** What a stage may override: any app-level setting but `name`, and any route setting. */
export type StageOverride = Partial<Omit<AppConfig, "name" | "stage" | "stages" | "routes">> & {
  routes?: Record<string, HandlerRef | RouteConfig | HttpRouteConfig>;
};

/**
 * A route served by an HTTP backend instead of a handler (API Gateway's `HTTP_PROXY`): the
 * frame is POSTed to `http` as is; on a two-way route the backend's body is sent back. On
 * `$connect` the backend's status decides the handshake.
 */
export interface HttpRouteConfig {
  /** The backend's `http://` or `https://` URL. */
  http: string;
  /** HTTP method (default `POST`). */
  method?: string;
  routeResponse?: boolean;
  /** Integration timeout in seconds (AWS allows 0.05 – 29). Default `limits.timeout`. */
  timeout?: number;
  /**
   * API Gateway's `RequestParameters`: `integration.request.header.{name}` or
   * `integration.request.querystring.{name}` ← `context.connectionId`, `'static'`,
   * `route.request.header.{name}`, `route.request.querystring.{name}`, `route.request.body.{path}`.
   */
  requestParameters?: Record<string, string>;
}

export interface AuthorizerConfig {
  handler: HandlerRef;
  method?: string;
  name?: string;
  /** Default `["route.request.header.Authorization"]`, as AWS. */
  identitySource?: string[];
  /** The authorizer function's timeout, seconds (default 10). */
  timeout?: number;
  /** The authorizer function's memory, MB (default 256). */
  memory?: number;
  /** The authorizer function's own environment (over the app's). */
  environment?: Record<string, string>;
}

export interface LimitsConfig {
  /** Bytes; AWS 131072. */
  messageBytes?: number;
  /** Bytes; AWS 32768. */
  frameBytes?: number;
  /** Seconds; AWS 600. */
  idleTimeout?: number;
  /** Seconds; AWS 7200. */
  maxConnectionDuration?: number;
  /** Default integration timeout, seconds; AWS 29. */
  timeout?: number;
}

/** The shape of `switchboard.config.ts` (via {@link defineApp}), `switchboard.yaml` and `switchboard.json`. */
export interface AppConfig {
  name: string;
  stage?: string;
  /** Default `$request.body.action`. */
  routeSelectionExpression?: string;
  routes: Record<string, HandlerRef | RouteConfig | HttpRouteConfig>;
  authorizer?: AuthorizerConfig;
  connections?: { ttl?: number; indexes?: string[] };
  environment?: Record<string, string>;
  limits?: LimitsConfig;
  /** Serves every route that names no handler of its own (`ctx.routeKey` tells them apart). */
  handler?: HandlerRef;
  /** Secrets every function gets as environment variables (see {@link SecretConfig}). */
  secrets?: SecretConfig[];
  /** DynamoDB tables: local in dev, `AWS::DynamoDB::Table` when built; `ctx.tables.<name>`. */
  tables?: Record<string, TableConfig>;
  /**
   * `file#export` run with `{ stage, tables }` once the app is loaded in dev and after each
   * deploy that changes it (a CloudFormation custom resource). Must be idempotent.
   */
  seed?: HandlerRef;
  /** Settings by stage, applied over the rest when that stage is served, built or deployed. */
  stages?: Record<string, StageOverride>;
}

/**
 * Declare a Switchboard app with full type checking. The object is returned unchanged;
 * validation happens when the app is loaded, with every problem reported at once.
 *
 * @example
 * ```ts
 * // switchboard.config.ts
 * import { defineApp } from "switchboard";
 * export default defineApp({
 *   name: "chat",
 *   routes: {
 *     $connect: "src/connect.ts#handler",
 *     send: { handler: "src/chat.ts#send", routeResponse: true },
 *     $default: "src/chat.ts#fallback",
 *   },
 * });
 * ```
 */
export function defineApp<const T extends AppConfig>(config: T): T {
  return config;
}
