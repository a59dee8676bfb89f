import type { ConnectionStore } from "./connection-store.js";
import type { Management } from "./management.js";

/**
 * What a Switchboard gateway hands its handlers, hidden on the Lambda `context` under a
 * registered symbol: it survives duplicate copies of this package (each handler bundle may
 * carry its own) and is invisible to plain handlers that enumerate the context.
 */
export const RUNTIME_BINDINGS = Symbol.for("switchboard.runtime");

export interface RuntimeBindings {
  management: Management;
  connections: ConnectionStore;
  /** The body as the gateway already parsed and validated it (saves a second parse). */
  body?: { value: unknown };
}

/** The bindings a gateway attached to this invocation's context, if any (none on AWS Lambda). */
export function getRuntimeBindings(context: unknown): RuntimeBindings | undefined {
  if (!context || typeof context !== "object") return undefined;
  return (context as { [RUNTIME_BINDINGS]?: RuntimeBindings })[RUNTIME_BINDINGS];
}

/**
 * Attach bindings without making them enumerable (plain handlers may log or spread the context).
 * Configurable, so that a wrapper (the Lambda entry of a built function, run by the dev gateway)
 * can attach them again with the body it validated.
 */
export function attachRuntimeBindings<T extends object>(context: T, bindings: RuntimeBindings): T {
  Object.defineProperty(context, RUNTIME_BINDINGS, {
    value: bindings,
    enumerable: false,
    configurable: true,
  });
  return context;
}

/** Marks a handler function with the body schema the gateway validates before invoking it. */
export const BODY_SCHEMA = Symbol.for("switchboard.bodySchema");
