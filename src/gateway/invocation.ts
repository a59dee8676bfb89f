import type { FunctionSpec, InvokeOutcome } from "../invoker/invoker.js";
import type { RuntimeBindings } from "../runtime/bindings.js";
import type { GatewayCore } from "./gateway-core.js";
import type { Generation } from "./generation.js";
import { resultStatus } from "./route-response.js";

/** One invocation as the gateway makes it: which function, for whom, with what. */
export interface Invocation {
  spec: FunctionSpec;
  event: { requestContext: { requestId: string } };
  bindings: RuntimeBindings;
  connectionId: string;
  /** As the `invoke` report names it (`$connect (authorizer)` for the authorizer). */
  routeKey: string;
  /** An error that is an answer, not a fault (the authorizer's `Unauthorized`): reported `denied`. */
  isDenial?: (error: unknown) => boolean;
}

/** Invoke a function on a generation's invoker, then report the outcome (`invoke` event). */
export async function invokeAndReport(
  core: GatewayCore,
  gen: Generation,
  call: Invocation,
): Promise<InvokeOutcome> {
  const outcome = await invoke(gen, call);
  reportInvocation(core, call, outcome);
  return outcome;
}

/** Start an invocation on a generation's invoker (its outcome never rejects). */
export function invoke(gen: Generation, call: Invocation): Promise<InvokeOutcome> {
  return gen.invoker.invoke(
    call.spec,
    call.event,
    call.bindings,
    call.event.requestContext.requestId,
  );
}

/**
 * {@link invoke} with the outcome handed to `done` (never a rejection): through the invoker's
 * `invokeThen` when it has one, so the message path makes no promise of its own.
 */
export function invokeThen(
  gen: Generation,
  call: Invocation,
  done: (outcome: InvokeOutcome) => void,
): void {
  const { invoker } = gen;
  if (invoker.invokeThen) {
    const requestId = call.event.requestContext.requestId;
    invoker.invokeThen(call.spec, call.event, call.bindings, requestId, done);
    return;
  }
  // An invoker's promise never rejects (its contract); one that breaks it fails the call only.
  invoke(gen, call).then(done, (error: unknown) => done({ kind: "error", error, durationMs: 0 }));
}

/** Report an invocation's outcome: the `invocation` record and the `invoke` event. */
export function reportInvocation(
  core: GatewayCore,
  call: Invocation,
  outcome: InvokeOutcome,
): void {
  const events = core.events;
  if (events.listenerCount("invocation") > 0) {
    events.emit("invocation", {
      connectionId: call.connectionId,
      routeKey: call.routeKey,
      functionName: call.spec.functionName,
      event: call.event,
      outcome,
      at: Date.now(),
    });
  }
  if (events.listenerCount("invoke") === 0 && outcome.kind === "ok") return;
  const statusCode = outcome.kind === "ok" ? resultStatus(outcome.result) : undefined;
  const denied = outcome.kind === "error" && call.isDenial?.(outcome.error) === true;
  events.emit("invoke", {
    connectionId: call.connectionId,
    routeKey: call.routeKey,
    functionName: call.spec.functionName,
    outcome: denied ? "denied" : outcome.kind,
    durationMs: outcome.durationMs,
    ...(statusCode !== undefined ? { statusCode } : {}),
    ...(outcome.kind === "error" && !denied ? { error: outcome.error } : {}),
  });
}
