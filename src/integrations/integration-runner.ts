import type { Integration } from "../app/integration.js";
import type { InvokeOutcome } from "../invoker/invoker.js";
import type { WebSocketEvent } from "../runtime/events.js";

/** One run of a route's integration, as the gateway asks for it. */
export interface IntegrationCall {
  /** The event the gateway built (its `requestContext` is the templates' `$context`). */
  event: WebSocketEvent;
  /** The frame (`""` on `$connect`/`$disconnect`). */
  frame: string;
  /** The route's integration timeout. */
  timeoutMs: number;
  /** Runs the route's own function with a payload (`AWS` integrations to a Lambda function). */
  invoke?: (payload: unknown) => Promise<InvokeOutcome>;
}

/** What an integration produced for the route response. */
export type IntegrationOutcome =
  /** `body`: what a two-way route sends back (undefined: nothing). `status`: the backend's. */
  | { kind: "ok"; status: number; body: string | undefined }
  /** The integration failed: answered as AWS answers a failing integration. */
  | { kind: "error"; error: unknown }
  | { kind: "timeout" };

/** Runs one kind of integration. */
export interface IntegrationRunner<I extends Integration = Integration> {
  run(integration: I, call: IntegrationCall): Promise<IntegrationOutcome>;
}
