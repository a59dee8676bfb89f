import type { HandlerOutput } from "./handler-output.js";
import type { FunctionSpec } from "./invoker.js";

/** Messages between the gateway and an isolated function's worker thread. */
export type ToWorker =
  | {
      type: "invoke";
      id: number;
      spec: FunctionSpec;
      event: unknown;
      requestId: string;
      body?: { value: unknown };
    }
  | { type: "reply"; callId: number; ok: true; value: unknown }
  | { type: "reply"; callId: number; ok: false; error: SerializedError };

export type FromWorker =
  | { type: "result"; id: number; outcome: SerializedOutcome }
  | { type: "call"; callId: number; op: BindingOp; args: unknown[] }
  /** The running handler printed with `console` (tagged in the gateway's log). */
  | { type: "output"; output: HandlerOutput };

export type BindingOp =
  | "send"
  | "sendMany"
  | "disconnect"
  | "info"
  | "put"
  | "get"
  | "delete"
  | "query"
  | "list";

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** Set for `Reject` (so the gateway can answer the handshake with its status). */
  reject?: { statusCode: number; body?: string };
}

export type SerializedOutcome =
  | { kind: "ok"; result: unknown; durationMs: number }
  | { kind: "error"; error: SerializedError; durationMs: number }
  | { kind: "timeout"; durationMs: number };

/** Errors as plain data (structured clone drops prototypes and custom fields). */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const out: SerializedError = { name: error.name, message: error.message };
    if (error.stack) out.stack = error.stack;
    const maybe = error as { statusCode?: unknown; body?: unknown };
    if (error.name === "Reject" && typeof maybe.statusCode === "number") {
      out.reject = {
        statusCode: maybe.statusCode,
        ...(typeof maybe.body === "string" ? { body: maybe.body } : {}),
      };
    }
    return out;
  }
  return {
    name: "Error",
    message: typeof error === "string" ? error : (JSON.stringify(error) ?? String(error)),
  };
}
