import { CONNECT, DISCONNECT } from "../app/model.js";
import type { InvokeOutcome } from "../invoker/invoker.js";
import { NOT_JSON, parseJson } from "../runtime/schema.js";
import { bindingsFor, type GatewayCore } from "./gateway-core.js";
import { specOf } from "./generation.js";
import { newId } from "./ids.js";
import { invokeAndReport } from "./invocation.js";

/** An event to run again: a copy of one a route's function got, its body possibly edited. */
export interface ReplayEvent {
  requestContext: { connectionId?: string; [key: string]: unknown };
  body?: string;
  [key: string]: unknown;
}

/**
 * Invoke a route's function again with a recorded event (the dev inspector's "re-invoke"), on
 * the generation now served, reported like any invocation. The event gets a fresh request id
 * (and message id for messages) and time; `ctx.body` is the body parsed as JSON, else its text,
 * as for a message without a body schema. Nothing is sent to the client: a two-way route's
 * answer is only the outcome. Throws when the route does not exist (any more).
 */
export function replay(
  core: GatewayCore,
  routeKey: string,
  recorded: ReplayEvent,
): Promise<InvokeOutcome> {
  const gen = core.generation;
  const route = gen.routes.get(routeKey);
  if (!route) throw new Error(`no route "${routeKey}" in the app now served`);
  // Only functions are invoked again; a backend integration (HTTP, MOCK, ...) is not a function.
  if (route.target === undefined) {
    throw new Error(`route "${routeKey}" is served by an integration, not a function`);
  }
  const now = Date.now();
  const requestContext = {
    ...recorded.requestContext,
    requestId: newId(),
    requestTimeEpoch: now,
    ...(routeKey !== CONNECT && routeKey !== DISCONNECT ? { messageId: newId() } : {}),
  };
  const event = { ...recorded, requestContext };
  const lifecycle = routeKey === CONNECT || routeKey === DISCONNECT;
  const text = typeof recorded.body === "string" ? recorded.body : undefined;
  const parsed = text === undefined ? undefined : parseJson(text);
  return invokeAndReport(core, gen, {
    spec: specOf(gen, route),
    event,
    bindings:
      lifecycle || text === undefined
        ? bindingsFor(core)
        : bindingsFor(core, { value: parsed === NOT_JSON ? text : parsed }),
    connectionId: String(requestContext.connectionId ?? ""),
    routeKey,
  });
}
