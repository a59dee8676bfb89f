import type { StandardSchemaV1 } from "@standard-schema/spec";
import {
  type App,
  AUTHORIZER_DEFAULTS,
  type Authorizer,
  type FunctionRoute,
  type HandlerTarget,
  type Route,
} from "../app/model.js";
import type { RuntimeBindings } from "../runtime/bindings.js";

/** One function as the invoker runs it: a route's or the authorizer's. */
export interface FunctionSpec {
  target: HandlerTarget;
  functionName: string;
  timeoutMs: number;
  memoryMb: number;
  /** The function's own environment (app's, then the route's), applied before it runs. */
  environment: Record<string, string>;
}

export type InvokeOutcome =
  | { kind: "ok"; result: unknown; durationMs: number }
  | { kind: "error"; error: unknown; durationMs: number }
  | { kind: "timeout"; durationMs: number };

/** Runs functions. In-process now; an isolated (worker thread) invoker implements the same. */
export interface Invoker {
  invoke(
    fn: FunctionSpec,
    event: unknown,
    bindings: RuntimeBindings,
    requestId: string,
  ): Promise<InvokeOutcome>;
  /**
   * {@link invoke}, answered through `done` (called once, never with a rejection) instead of a
   * promise. The gateway's message path uses it: no promise of the gateway's own per message,
   * which on Node 20 with fault containment on is a promise-hook round each. Optional: without
   * it the gateway waits on {@link invoke}.
   */
  invokeThen?(
    fn: FunctionSpec,
    event: unknown,
    bindings: RuntimeBindings,
    requestId: string,
    done: (outcome: InvokeOutcome) => void,
  ): void;
  /** The body schema of a route: from the config, or carried by a `websocketHandler({ body })`. */
  bodySchema(route: Route): Promise<StandardSchemaV1 | undefined>;
  /** Release what the invoker holds (worker threads); called when it is replaced or the server stops. */
  dispose?(): Promise<void>;
  /** A newer app generation took over: finish what still arrives, release resources when idle. */
  retire?(): void;
}

/** The function name a route runs as when its source did not name it (`chat-dev-send`). */
export function functionSpecFor(app: App, route: FunctionRoute): FunctionSpec {
  const slug = route.key.replace(/^\$/, "").replace(/[^A-Za-z0-9_-]/g, "_") || "route";
  return {
    target: route.target,
    functionName: route.functionName ?? `${app.name}-${app.stage}-${slug}`,
    timeoutMs: route.timeoutMs,
    memoryMb: route.memoryMb,
    environment: { ...app.environment, ...route.environment },
  };
}

/**
 * The authorizer's function as the app declares it (name, timeout, memory, environment over
 * the app's), with {@link AUTHORIZER_DEFAULTS} for what it does not declare: the same settings
 * the build deploys it with.
 */
export function authorizerSpecFor(app: App, authorizer: Authorizer): FunctionSpec {
  return {
    target: authorizer.target,
    functionName: authorizer.functionName ?? `${app.name}-${app.stage}-${authorizer.name}`,
    timeoutMs: authorizer.timeoutMs ?? AUTHORIZER_DEFAULTS.timeoutMs,
    memoryMb: authorizer.memoryMb ?? AUTHORIZER_DEFAULTS.memoryMb,
    environment: { ...app.environment, ...authorizer.environment },
  };
}
