import { SwitchboardError } from "../errors.js";

/** What `GetConnection` tells about a connection. */
export interface ConnectionInfo {
  connectedAt: Date;
  lastActiveAt: Date;
  identity: { sourceIp: string; userAgent?: string };
}

/**
 * What {@link Management.sendMany} did with each id it was given: every id (each occurrence of
 * a repeated one) is in exactly one list.
 */
export interface SendManyResult {
  /** Handed to the connection. */
  sent: string[];
  /** Gone (410): no such connection, or it closed. */
  gone: string[];
  /** Not sent for another reason (429 buffer full, 503 cluster unreachable, ...). */
  failed: Array<{ connectionId: string; error: unknown }>;
}

/**
 * The management API handlers talk back through (`@connections`). Three implementations:
 * in-process (the dev gateway), and the AWS SDK client pointed at our HTTP endpoint or at AWS.
 * Handlers never know which one they got.
 */
export interface Management {
  /**
   * PostToConnection. Objects are not accepted here: callers serialize. Throws
   * {@link GoneError}, or {@link LimitExceededError} when the client's buffer is full.
   */
  send(connectionId: string, data: string | Uint8Array): Promise<void>;
  /**
   * PostToConnection of the same data to many connections in one call (optional: AWS's API
   * has no such call, so the SDK client lacks it and `ctx.broadcast` sends one by one there).
   * Never rejects: each id's outcome is in the result. The gateway's implementation sends to
   * its own connections directly and to another node's in one cluster message per node.
   */
  sendMany?(connectionIds: readonly string[], data: string | Uint8Array): Promise<SendManyResult>;
  /** DeleteConnection. Throws {@link GoneError}. */
  disconnect(connectionId: string): Promise<void>;
  /** GetConnection. Throws {@link GoneError}. */
  info(connectionId: string): Promise<ConnectionInfo>;
}

/** The connection does not exist (any more), or has not finished `$connect` (AWS 410). */
export class GoneError extends SwitchboardError {
  readonly connectionId: string;
  constructor(connectionId: string, options?: { cause?: unknown }) {
    super("SB_ERR_GONE", `Connection ${connectionId} is gone`, options);
    this.name = "GoneException";
    this.connectionId = connectionId;
  }
}

/**
 * PostToConnection found the client's buffer full (it does not read what it is sent): AWS's
 * 429 `LimitExceededException`. The connection stays open; the data was not sent.
 */
export class LimitExceededError extends SwitchboardError {
  readonly connectionId: string;
  constructor(connectionId: string) {
    super("SB_ERR_LIMIT_EXCEEDED", `Connection ${connectionId}: the client side buffer is full`);
    this.name = "LimitExceededException";
    this.connectionId = connectionId;
  }
}

/** True for our GoneError and for the AWS SDK's GoneException (410). */
export function isGone(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === "GoneException" || e.$metadata?.httpStatusCode === 410;
}

/** Data as the wire sees it: strings and bytes as they are, anything else as JSON. */
export function serialize(data: unknown): string | Uint8Array {
  if (typeof data === "string" || data instanceof Uint8Array) return data;
  return JSON.stringify(data) ?? "null";
}
