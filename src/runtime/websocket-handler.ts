import type { StandardSchemaV1 } from "@standard-schema/spec";
import { badRequestBodyFrame } from "../wire.js";
import { BODY_SCHEMA, getRuntimeBindings, type RuntimeBindings } from "./bindings.js";
import {
  type ConnectionRecord,
  type ConnectionStore,
  type DeclaredRow,
  MemoryConnectionStore,
} from "./connection-store.js";
import { DynamoDbConnectionStore } from "./connection-store-dynamodb.js";
import type {
  LambdaContext,
  WebSocketEvent,
  WebSocketEventType,
  WebSocketResult,
} from "./events.js";
import {
  type ConnectionInfo,
  isGone,
  type Management,
  type SendManyResult,
  serialize,
} from "./management.js";
import { SdkManagement } from "./management-sdk.js";
import { Reject } from "./reject.js";
import { parseBody, validateBody } from "./schema.js";
import { resolveSecrets } from "./secret-values.js";
import { type Tables, tablesFromEnvironment } from "./tables.js";

/**
 * Outcome of {@link WebSocketContext.broadcast}: connections the message was handed to (`sent`),
 * that were gone (`gone`, removed from the connection table) and that failed for another reason
 * (`failed`).
 */
export type BroadcastResult = SendManyResult;

/**
 * The context the typed API hands to a handler. `Row` types the connection table's rows: the
 * app's declared {@link ConnectionRow} by default, or a type given to `websocketHandler`.
 */
export interface WebSocketContext<Body = unknown, Row extends ConnectionRecord = DeclaredRow> {
  routeKey: string;
  eventType: WebSocketEventType;
  connectionId: string;
  domainName: string;
  stage: string;
  requestId: string;
  /** The parsed body: the schema's output when the route has one, else JSON or the raw text. */
  body: Body;
  /** The frame text as received (MESSAGE only). */
  rawBody: string | undefined;
  queryStringParameters: Record<string, string>;
  headers: Record<string, string>;
  /** `requestContext.authorizer`, when a Lambda authorizer let the connection in. */
  authorizer: Record<string, string | number> | undefined;
  event: WebSocketEvent;
  lambda: LambdaContext;
  /** Send to this connection. Objects are sent as JSON. */
  send(data: unknown): Promise<void>;
  /** Send to another connection. Throws GoneError if it is gone. */
  sendTo(connectionId: string, data: unknown): Promise<void>;
  /**
   * Send to many; gone connections are dropped from the table. On a Switchboard gateway in one
   * call (one cluster message per other node); elsewhere (AWS) one by one, 64 at a time.
   */
  broadcast(connectionIds: Iterable<string>, data: unknown): Promise<BroadcastResult>;
  /** Close a connection (this one by default). */
  disconnect(connectionId?: string): Promise<void>;
  /** GetConnection for a connection (this one by default). */
  info(connectionId?: string): Promise<ConnectionInfo>;
  /** The connection table. */
  connections: ConnectionStore<Row>;
  /** The app's declared tables by name (`ctx.tables.notes.get(...)`): see {@link TableClient}. */
  tables: Tables;
}

/** What a typed handler may return: a Lambda result, or any value (sent as JSON on two-way routes). */
export type TypedResult = WebSocketResult | Record<string, unknown> | unknown[] | number | boolean;

export type TypedHandler<Body, Row extends ConnectionRecord = DeclaredRow> = (
  event: WebSocketEvent,
  ctx: WebSocketContext<Body, Row>,
) => TypedResult | Promise<TypedResult>;

export interface WebSocketHandlerOptions<S extends StandardSchemaV1 | undefined> {
  /** Body schema (any Standard Schema). Invalid bodies get the AWS `Bad request body` frame. */
  body?: S;
}

/** A Lambda handler built by {@link websocketHandler}. */
export type BuiltHandler = ((
  event: WebSocketEvent,
  context: LambdaContext,
) => Promise<WebSocketResult>) & {
  [BODY_SCHEMA]?: StandardSchemaV1;
};

const BROADCAST_CONCURRENCY = 64;
let lambdaBindings: RuntimeBindings | undefined;
/** The endpoint `lambdaBindings.management` was built for (a warm container keeps both). */
let lambdaEndpoint: string | undefined;

/** Outside a Switchboard gateway (AWS Lambda): the SDK management client built from the event. */
export function bindingsFromEvent(event: WebSocketEvent): RuntimeBindings {
  const { domainName, stage } = event.requestContext;
  const endpoint =
    process.env.SWITCHBOARD_MANAGEMENT_ENDPOINT ??
    (domainName.endsWith(".amazonaws.com")
      ? `https://${domainName}/${stage}`
      : `https://${domainName}`);
  if (!lambdaBindings || lambdaEndpoint !== endpoint) {
    lambdaEndpoint = endpoint;
    lambdaBindings = {
      management: new SdkManagement({ endpoint }),
      // The DynamoDB table when built by `switchboard build` (see docs/aws.md).
      connections:
        lambdaBindings?.connections ??
        DynamoDbConnectionStore.fromEnvironment() ??
        new MemoryConnectionStore({ ttlSeconds: 0, indexes: [] }),
    };
  }
  return lambdaBindings;
}

function normalizeResult(value: TypedResult): WebSocketResult {
  if (value === undefined || value === null) return { statusCode: 200 };
  if (typeof value === "string") return { statusCode: 200, body: value };
  if (typeof value === "object" && !Array.isArray(value) && "statusCode" in value) {
    return value as WebSocketResult;
  }
  return { statusCode: 200, body: JSON.stringify(value) };
}

async function broadcastWith(
  management: Management,
  connections: ConnectionStore,
  ids: Iterable<string>,
  data: unknown,
): Promise<BroadcastResult> {
  const payload = serialize(data);
  const queue = [...ids];
  if (management.sendMany) {
    // One call: the gateway sends to its own connections and one message per other node.
    const result = queue.length > 0 ? await management.sendMany(queue, payload) : undefined;
    if (!result) return { sent: [], gone: [], failed: [] };
    await bounded(result.gone, (id) => connections.delete(id).catch(() => undefined));
    return result;
  }
  const result: BroadcastResult = { sent: [], gone: [], failed: [] };
  await bounded(queue, async (id) => {
    try {
      await management.send(id, payload);
      result.sent.push(id);
    } catch (error) {
      if (isGone(error)) {
        result.gone.push(id);
        await connections.delete(id).catch(() => undefined);
      } else {
        result.failed.push({ connectionId: id, error });
      }
    }
  });
  return result;
}

/** `task` for each item, {@link BROADCAST_CONCURRENCY} at a time. */
async function bounded(items: readonly string[], task: (item: string) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++] as string);
  };
  await Promise.all(Array.from({ length: Math.min(BROADCAST_CONCURRENCY, items.length) }, worker));
}

function buildContext<Body, Row extends ConnectionRecord = DeclaredRow>(
  event: WebSocketEvent,
  lambda: LambdaContext,
  bindings: RuntimeBindings,
  body: Body,
): WebSocketContext<Body, Row> {
  const rc = event.requestContext;
  const { management } = bindings;
  // The row type is the handler's declaration: the table keeps whatever it is given.
  const connections = bindings.connections as unknown as ConnectionStore<Row>;
  return {
    routeKey: rc.routeKey,
    eventType: rc.eventType,
    connectionId: rc.connectionId,
    domainName: rc.domainName,
    stage: rc.stage,
    requestId: rc.requestId,
    body,
    rawBody: event.body,
    queryStringParameters: event.queryStringParameters ?? {},
    headers: event.headers ?? {},
    authorizer: rc.authorizer,
    event,
    lambda,
    connections,
    tables: tablesFromEnvironment(),
    send: (data) => management.send(rc.connectionId, serialize(data)),
    sendTo: (id, data) => management.send(id, serialize(data)),
    broadcast: (ids, data) => broadcastWith(management, bindings.connections, ids, data),
    disconnect: (id) => management.disconnect(id ?? rc.connectionId),
    info: (id) => management.info(id ?? rc.connectionId),
  };
}

/**
 * Build a WebSocket Lambda handler with a typed context: `send`, `broadcast`, `disconnect`,
 * `info`, the connection table, and a parsed (optionally schema-validated) body. The result
 * is a plain Lambda handler: it runs unchanged in `switchboard dev` and on AWS Lambda.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { websocketHandler } from "switchboard/runtime";
 *
 * const Message = z.object({ action: z.literal("send"), text: z.string().max(500) });
 *
 * export const send = websocketHandler({ body: Message }, async (_event, ctx) => {
 *   const everyone = await ctx.connections.list();
 *   await ctx.broadcast(everyone.map((c) => c.connectionId), { text: ctx.body.text });
 * });
 * ```
 */
export function websocketHandler<Row extends ConnectionRecord = DeclaredRow>(
  handler: TypedHandler<unknown, Row>,
): BuiltHandler;
export function websocketHandler<
  S extends StandardSchemaV1,
  Row extends ConnectionRecord = DeclaredRow,
>(
  options: WebSocketHandlerOptions<S>,
  handler: TypedHandler<StandardSchemaV1.InferOutput<S>, Row>,
): BuiltHandler;
export function websocketHandler(
  optionsOrHandler: WebSocketHandlerOptions<StandardSchemaV1 | undefined> | TypedHandler<unknown>,
  maybeHandler?: TypedHandler<unknown>,
): BuiltHandler {
  const options = typeof optionsOrHandler === "function" ? {} : optionsOrHandler;
  const handler = (
    typeof optionsOrHandler === "function" ? optionsOrHandler : maybeHandler
  ) as TypedHandler<unknown>;
  const schema = options.body;
  const built: BuiltHandler = async (event, lambda) => {
    const gateway = getRuntimeBindings(lambda);
    const bindings = gateway ?? bindingsFromEvent(event);
    let body: unknown;
    if (gateway?.body) {
      body = gateway.body.value;
    } else if (schema && event.requestContext.eventType === "MESSAGE") {
      const checked = await validateBody(schema, event.body);
      if (!checked.ok) {
        // On AWS the gateway did not validate (no model): answer as it would have.
        await bindings.management
          .send(
            event.requestContext.connectionId,
            badRequestBodyFrame(
              event.requestContext.connectionId,
              event.requestContext.messageId ?? "",
            ),
          )
          .catch(() => undefined);
        return { statusCode: 400 };
      }
      body = checked.value;
    } else {
      body = parseBody(event.body);
    }
    try {
      // Secrets from Secrets Manager once per container (built or CDK functions; none in dev).
      await resolveSecrets();
      return normalizeResult(await handler(event, buildContext(event, lambda, bindings, body)));
    } catch (error) {
      if (Reject.is(error)) {
        return {
          statusCode: error.statusCode,
          ...(error.body !== undefined ? { body: error.body } : {}),
        };
      }
      throw error;
    }
  };
  if (schema) built[BODY_SCHEMA] = schema;
  return built;
}

export { buildContext as createWebSocketContext, normalizeResult };
