import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { FunctionRoute, Route } from "../app/model.js";
import { CONNECT, DISCONNECT } from "../app/model.js";
import type { WebSocketEvent } from "../runtime/events.js";
import { LimitExceededError } from "../runtime/management.js";
import { NOT_JSON, parseJson, validateParsed } from "../runtime/schema.js";
import { badRequestBodyFrame, CLOSES, errorFrame } from "../wire.js";
import { type Connection, type Done, failedWith } from "./connection.js";
import { buildMessageEvent } from "./events.js";
import { bindingsFor, type GatewayCore, reportError } from "./gateway-core.js";
import { FRAME_TEXT_CHARS } from "./gateway-events.js";
import { type Generation, specOf } from "./generation.js";
import { runRouteIntegration } from "./integrated.js";
import { invokeThen, reportInvocation } from "./invocation.js";
import { routeResponseBody } from "./route-response.js";
import { describeIssues } from "./schema-issues.js";

/** A data frame arrived: select its route now, run it behind the connection's earlier work. */
export function onMessage(core: GatewayCore, conn: Connection, data: Buffer, isBinary: boolean) {
  if (conn.closing) return;
  if (isBinary) {
    conn.close(CLOSES.binary.code, CLOSES.binary.reason);
    return;
  }
  conn.lastActiveAt = Date.now();
  const gen = core.generation;
  const text = data.toString();
  if (core.events.listenerCount("frame") > 0) {
    core.events.emit("frame", {
      connectionId: conn.id,
      direction: "in",
      data: text.length > FRAME_TEXT_CHARS ? text.slice(0, FRAME_TEXT_CHARS) : text,
      bytes: data.length,
      truncated: text.length > FRAME_TEXT_CHARS,
      binary: false,
      at: Date.now(),
    });
  }
  // Parsed once per frame: route selection, the body schema and the typed API all use it.
  const parsed = parseJson(text);
  let key: string;
  try {
    key = gen.select(parsed !== null && typeof parsed === "object" ? parsed : undefined);
  } catch (error) {
    // A value too deeply nested to stringify: unmatched ($default), never a crash.
    key = "";
    reportError(core, {
      connectionId: conn.id,
      message: `route selection failed: ${error}`,
      error,
    });
  }
  // $connect/$disconnect are lifecycle routes: a message naming them is not a match.
  const exact = key === CONNECT || key === DISCONNECT ? undefined : gen.routes.get(key);
  const route = exact ?? gen.defaultRoute;
  if (core.events.listenerCount("message") > 0) {
    core.events.emit("message", {
      connectionId: conn.id,
      routeKey: route?.key,
      bytes: data.length,
      text,
    });
  }
  const bytes = data.length;
  const { bounds } = core;
  if (conn.waiting >= bounds.queuedMessages || conn.waitingBytes + bytes > bounds.queuedBytes) {
    reportError(core, {
      connectionId: conn.id,
      message: `too many queued messages (${conn.waiting} waiting, ${conn.waitingBytes} bytes): closing with 1008`,
    });
    conn.close(CLOSES.tooManyRequests.code, CLOSES.tooManyRequests.reason);
    return;
  }
  conn.waiting++;
  conn.waitingBytes += bytes;
  conn.enqueue((done) => {
    conn.waiting--;
    conn.waitingBytes -= bytes;
    // The connection ended while this waited: nobody to answer, and `$disconnect` runs next.
    if (conn.ended || core.abandoned) {
      conn.dropped++;
      done();
      return;
    }
    dispatch(core, gen, conn, route, text, parsed, done);
  });
}

/** The body schema of a route, looked up once per generation (then read without a hop). */
async function schemaOf(gen: Generation, route: Route): Promise<StandardSchemaV1 | undefined> {
  let known = gen.schemas.get(route);
  if (!known) {
    known = gen.invoker.bodySchema(route).catch(() => undefined);
    gen.schemas.set(route, known);
  }
  if (!(known instanceof Promise)) return known.schema;
  const schema = await known;
  gen.schemas.set(route, { schema });
  return schema;
}

/**
 * Run one message: validate its body, invoke its route, answer (route response or error frame),
 * then call `done`. Callbacks, not promises: a route without a body schema (whose lookup has
 * settled) makes no promise of the gateway's own between the frame and its answer, where each
 * would pay Node 20's promise hooks while fault containment is on (bench/README.md).
 */
function dispatch(
  core: GatewayCore,
  gen: Generation,
  conn: Connection,
  route: Route | undefined,
  text: string,
  parsed: unknown,
  done: Done,
): void {
  const event = buildMessageEvent(conn.facts, route?.key ?? "", text, Date.now());
  if (!route) {
    const rc = event.requestContext;
    answer(core, conn, errorFrame("SB_ERR_FORBIDDEN", conn.id, rc.requestId), "error-frame");
    done();
    return;
  }
  // The one branch on the integration kind: a Lambda proxy route (a `target`, no
  // `integration`) goes on as before.
  if (route.integration !== undefined || route.target === undefined) {
    dispatchIntegrated(core, gen, conn, route, event, text).then(() => done(), failedWith(done));
    return;
  }
  const known = gen.schemas.get(route);
  if (known && !(known instanceof Promise) && !known.schema) {
    // What `ctx.body` is without a schema: the JSON value, or the text when it is not JSON.
    invokeAndAnswer(core, gen, conn, route, event, parsed === NOT_JSON ? text : parsed, done);
    return;
  }
  validatedBody(core, gen, conn, route, event, text, parsed).then((body) => {
    if (body) invokeAndAnswer(core, gen, conn, route, event, body.value, done);
    else done();
  }, failedWith(done));
}

/**
 * `ctx.body` for a route whose body schema is not known yet, or is set: looked up, then
 * validated. Undefined when the body was rejected (the client has its 400-style frame).
 */
async function validatedBody(
  core: GatewayCore,
  gen: Generation,
  conn: Connection,
  route: FunctionRoute,
  event: WebSocketEvent,
  text: string,
  parsed: unknown,
): Promise<{ value: unknown } | undefined> {
  const known = gen.schemas.get(route);
  const schema = known && !(known instanceof Promise) ? known.schema : await schemaOf(gen, route);
  // What `ctx.body` is without a schema: the JSON value, or the text when it is not JSON.
  if (!schema) return { value: parsed === NOT_JSON ? text : parsed };
  const checked = await validateParsed(schema, parsed);
  if (checked.ok) return { value: checked.value };
  answer(
    core,
    conn,
    badRequestBodyFrame(conn.id, event.requestContext.messageId ?? ""),
    "error-frame",
  );
  core.events.emit("invoke", {
    connectionId: conn.id,
    routeKey: route.key,
    functionName: specOf(gen, route).functionName,
    outcome: "bad-request",
    durationMs: 0,
    issues: describeIssues(checked.issues),
  });
  return undefined;
}

/** Invoke a Lambda proxy route's function with `body` as `ctx.body`, answer, then `done`. */
function invokeAndAnswer(
  core: GatewayCore,
  gen: Generation,
  conn: Connection,
  route: FunctionRoute,
  event: WebSocketEvent,
  body: unknown,
  done: Done,
): void {
  const call = {
    spec: specOf(gen, route),
    event,
    bindings: bindingsFor(core, { value: body }),
    connectionId: conn.id,
    routeKey: route.key,
  };
  invokeThen(gen, call, (outcome) => {
    try {
      reportInvocation(core, call, outcome);
      const { requestId } = event.requestContext;
      if (outcome.kind === "timeout") {
        answer(core, conn, errorFrame("SB_ERR_HANDLER_TIMEOUT", conn.id, requestId), "error-frame");
      } else if (outcome.kind === "error") {
        answer(core, conn, errorFrame("SB_ERR_HANDLER_FAILED", conn.id, requestId), "error-frame");
      } else if (route.routeResponse) {
        sendRouteResponse(core, gen, conn, route, routeResponseBody(outcome.result), requestId);
      }
    } catch (error) {
      done(error ?? new Error("answering the invocation threw"));
      return;
    }
    done();
  });
}

/** A route that is not a Lambda proxy: its integration runs and maps the answer. */
async function dispatchIntegrated(
  core: GatewayCore,
  gen: Generation,
  conn: Connection,
  route: Route,
  event: WebSocketEvent,
  text: string,
): Promise<void> {
  const rc = event.requestContext;
  const outcome = await runRouteIntegration(core, gen, route, event, text);
  if (outcome.kind === "timeout") {
    answer(core, conn, errorFrame("SB_ERR_HANDLER_TIMEOUT", conn.id, rc.requestId), "error-frame");
    return;
  }
  if (outcome.kind === "error") {
    reportError(core, {
      connectionId: conn.id,
      routeKey: route.key,
      message: `integration failed: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`,
      error: outcome.error,
    });
    answer(core, conn, errorFrame("SB_ERR_HANDLER_FAILED", conn.id, rc.requestId), "error-frame");
    return;
  }
  if (route.routeResponse)
    sendRouteResponse(core, gen, conn, route, outcome.body || undefined, rc.requestId);
}

/** Send a two-way route's answer (nothing when there is none), within the message limit. */
function sendRouteResponse(
  core: GatewayCore,
  gen: Generation,
  conn: Connection,
  route: Route,
  responseBody: string | undefined,
  requestId: string,
): void {
  if (responseBody === undefined) return;
  // Over the message limit, the answer cannot be sent as one: a failed integration, as for
  // a `@connections` POST of that size (413).
  if (Buffer.byteLength(responseBody) > gen.app.limits.messageBytes) {
    reportError(core, {
      connectionId: conn.id,
      routeKey: route.key,
      message: `route response of ${Buffer.byteLength(responseBody)} bytes is over the ${gen.app.limits.messageBytes}-byte message limit`,
    });
    answer(core, conn, errorFrame("SB_ERR_HANDLER_FAILED", conn.id, requestId), "error-frame");
    return;
  }
  answer(core, conn, responseBody, "route-response");
}

/** Send an answer to the connection a message came from, if it is still there. */
function answer(
  core: GatewayCore,
  conn: Connection,
  data: string,
  via: "route-response" | "error-frame",
): void {
  try {
    core.connections.postToConnection(conn.id, data, via);
  } catch (error) {
    // Gone meanwhile: nothing to answer. A full client buffer loses this answer: say so.
    if (error instanceof LimitExceededError) {
      reportError(core, { connectionId: conn.id, message: `${via} dropped: ${error.message}` });
    }
  }
}
