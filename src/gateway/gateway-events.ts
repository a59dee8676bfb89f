import type { HandlerOutput } from "../invoker/handler-output.js";
import type { MemoryReturnReport } from "./memory-return.js";

/**
 * What the gateway reports. Logs, metrics and the dashboard subscribe; the gateway itself never
 * formats output.
 */
export interface GatewayEventMap {
  /** A handshake finished: accepted (101) or refused with an HTTP status. */
  connect: [ConnectReport];
  /**
   * A data frame arrived and a route was selected (or none). `text` is the message itself (a
   * reference, no copy: logged only with `--log-payloads`).
   */
  message: [{ connectionId: string; routeKey: string | undefined; bytes: number; text: string }];
  /** A function ran. */
  invoke: [InvokeReport];
  /** Data went out to a client (`data` by reference: logged only with `--log-payloads`). */
  send: [
    {
      connectionId: string;
      bytes: number;
      via: "management" | "route-response" | "error-frame";
      data: string | Uint8Array;
    },
  ];
  /** A connection closed; `$disconnect` is invoked after this. */
  disconnect: [
    {
      connectionId: string;
      code: number;
      reason: string;
      durationMs: number;
      /** Messages that were still waiting (not started): dropped, never run. */
      dropped?: number;
    },
  ];
  /** An `@connections` request was answered. */
  management: [{ method: string; connectionId: string; status: number }];
  /**
   * Redis (the shared table and cluster bus) was lost or is back: one event per transition.
   * `since` is when the new state began (epoch ms).
   */
  redis: [{ up: boolean; since: number; message: string }];
  /** A management call was forwarded to the node that holds the connection (a cluster). */
  forward: [ForwardReport];
  /**
   * A data frame in or out with its text (at most {@link FRAME_TEXT_CHARS} characters). Emitted
   * only while someone listens (the dev inspector): the hot path pays nothing otherwise.
   */
  frame: [FrameReport];
  /** A function ran: the event it got and its outcome (result or error). Only while someone listens. */
  invocation: [InvocationReport];
  /** A connection was accepted: what its handshake carried. Only while someone listens. */
  opened: [OpenedReport];
  /**
   * A handler printed with `console` (in-process while faults are contained, or in an
   * `--isolate` worker): tagged. A listener takes the line: it is no longer printed to stdout
   * (a logger writes it instead).
   */
  output: [HandlerOutput];
  /**
   * The same lines as `output`, for readers that keep them without printing them (the dev
   * inspector joins each to its invocation): a listener here never stops a line from being
   * printed.
   */
  outputCopy: [HandlerOutput];
  /**
   * The server gave memory back after a load drop: full GCs run while it was quiet (only with
   * `serve({ gc })`; see `MemoryReturnBounds`).
   */
  memory: [MemoryReturnReport];
  /** Something went wrong that no client sees in full (handler errors, socket errors). */
  error: [{ connectionId?: string; routeKey?: string; message: string; error?: unknown }];
}

export interface ConnectReport {
  /** Absent when the handshake was refused before it got one (wrong path, draining). */
  connectionId?: string;
  status: number;
  durationMs: number;
  sourceIp: string;
  /** Why a handshake was refused. */
  reason?: string;
}

export interface InvokeReport {
  connectionId: string;
  routeKey: string;
  functionName: string;
  /**
   * `denied`: the authorizer refused (`throw new Error("Unauthorized")`), an answer and not a
   * fault; `bad-request`: the body failed the route's schema (the function did not run).
   */
  outcome: "ok" | "error" | "timeout" | "bad-request" | "denied";
  statusCode?: number;
  durationMs: number;
  error?: unknown;
  /**
   * Why a body failed its schema (`bad-request`): each issue as `path: message`. For the log
   * only; the client gets API Gateway's fixed `Bad request body` frame.
   */
  issues?: string[];
}

export interface ForwardReport {
  op: "send" | "disconnect" | "info";
  /** `ok`, `gone` (no node holds the connection: 410) or `error` (the cluster failed). */
  outcome: "ok" | "gone" | "error";
  durationMs: number;
}

/** Characters of a frame's text a `frame` report carries (the rest is cut; `bytes` is the size). */
export const FRAME_TEXT_CHARS = 8192;

export interface FrameReport {
  connectionId: string;
  direction: "in" | "out";
  /** The text (UTF-8), or base64 for binary data; at most {@link FRAME_TEXT_CHARS} characters. */
  data: string;
  bytes: number;
  truncated: boolean;
  binary: boolean;
  /** Why data went out (`out` only). */
  via?: "management" | "route-response" | "error-frame";
  at: number;
}

export interface InvocationReport {
  connectionId: string;
  routeKey: string;
  functionName: string;
  /** The event as the function got it (the object itself: serialize it, never mutate it). */
  event: unknown;
  outcome:
    | { kind: "ok"; result: unknown; durationMs: number }
    | { kind: "error"; error: unknown; durationMs: number }
    | { kind: "timeout"; durationMs: number };
  at: number;
}

export interface OpenedReport {
  connectionId: string;
  connectedAt: number;
  sourceIp: string;
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  /** The authorizer's context, when an authorizer allowed the connection. */
  authorizer?: unknown;
}
