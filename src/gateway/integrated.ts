import { integrationLabel } from "../app/integration.js";
import type { Route } from "../app/model.js";
import { type IntegrationOutcome, runIntegration } from "../integrations/index.js";
import type { InvokeOutcome } from "../invoker/invoker.js";
import type { WebSocketEvent } from "../runtime/events.js";
import { bindingsFor, type GatewayCore } from "./gateway-core.js";
import { type Generation, specOf } from "./generation.js";

/**
 * Run a route whose integration is not a Lambda proxy (`AWS` with templates, `MOCK`, `HTTP`,
 * `HTTP_PROXY`, an AWS service) and report it as an `invoke` event: a function route's own
 * function is reported by its invocation, a backend route under its integration's name.
 * Never rejects.
 */
export async function runRouteIntegration(
  core: GatewayCore,
  gen: Generation,
  route: Route,
  event: WebSocketEvent,
  frame: string,
): Promise<IntegrationOutcome> {
  const integration = route.integration;
  const connectionId = event.requestContext.connectionId;
  if (!integration) return { kind: "error", error: new Error("not an integrated route") };
  const started = performance.now();
  let invoke: ((payload: unknown) => Promise<InvokeOutcome>) | undefined;
  if (route.target !== undefined) {
    const spec = specOf(gen, route);
    invoke = async (payload) => {
      const outcome = await gen.invoker.invoke(
        spec,
        payload,
        bindingsFor(core, { value: payload }),
        event.requestContext.requestId,
      );
      core.events.emit("invoke", {
        connectionId,
        routeKey: route.key,
        functionName: spec.functionName,
        outcome: outcome.kind,
        durationMs: outcome.durationMs,
        ...(outcome.kind === "error" ? { error: outcome.error } : {}),
      });
      return outcome;
    };
  }
  const outcome = await runIntegration(integration, {
    event,
    frame,
    timeoutMs: route.timeoutMs,
    ...(invoke ? { invoke } : {}),
  });
  if (route.target === undefined) {
    core.events.emit("invoke", {
      connectionId,
      routeKey: route.key,
      functionName: integrationLabel(route.integration),
      outcome: outcome.kind,
      durationMs: Math.round(performance.now() - started),
      ...(outcome.kind === "ok" ? { statusCode: outcome.status } : {}),
      ...(outcome.kind === "error" ? { error: outcome.error } : {}),
    });
  }
  return outcome;
}
