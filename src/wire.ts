import { STATUS_CODES } from "node:http";
import { ERRORS, type ErrorCode } from "./errors.js";

/**
 * Every answer the gateway puts on the wire, built from the error catalogue (`src/errors.ts`)
 * in this one file: error frames, close codes and reasons, refused handshakes and the
 * `@connections` API's errors. Byte for byte as API Gateway sends them (see docs/fidelity.md):
 * frames and integration errors put a space after `"message":`, the gateway's own refusals
 * do not, and the validation frame has its own spacing.
 */

/** A close the gateway (or the client) ends a connection with: code and reason. */
export interface Close {
  code: number;
  reason: string;
}

function closeOf(
  code:
    | "SB_ERR_MESSAGE_TOO_BIG"
    | "SB_ERR_BINARY_FRAME"
    | "SB_ERR_GOING_AWAY"
    | "SB_ERR_TOO_MANY_REQUESTS",
) {
  const entry = ERRORS[code];
  return { code: entry.close, reason: entry.message } as const;
}

/** Close codes and reasons, as `$disconnect` reports them and clients receive them. */
export const CLOSES = {
  /** After `DELETE @connections/{id}` (AWS's text, seen in `$disconnect`). */
  normal: { code: 1000, reason: "Connection Closed Normally" },
  /** Idle timeout, the lifetime limit, or the gateway shutting down. */
  goingAway: closeOf("SB_ERR_GOING_AWAY"),
  /** A binary frame arrived. */
  binary: closeOf("SB_ERR_BINARY_FRAME"),
  /** A message over 128 KiB or a frame over 32 KiB. */
  tooBig: closeOf("SB_ERR_MESSAGE_TOO_BIG"),
  /** One client queued more messages than the gateway holds for it. */
  tooManyRequests: closeOf("SB_ERR_TOO_MANY_REQUESTS"),
  /** The client's close frame had no status: the reason AWS reports for 1005. */
  noStatusReason: "Client-side close frame status not set",
  /** The TCP connection dropped without a close frame. */
  abnormal: { code: 1006, reason: "" },
} as const;

type FrameCode = "SB_ERR_FORBIDDEN" | "SB_ERR_HANDLER_FAILED" | "SB_ERR_HANDLER_TIMEOUT";

/**
 * The error frame for a message: no route (`SB_ERR_FORBIDDEN`), the integration failed
 * (`SB_ERR_HANDLER_FAILED`) or timed out (`SB_ERR_HANDLER_TIMEOUT`).
 *
 * @example
 * ```ts
 * errorFrame("SB_ERR_FORBIDDEN", "XDmENcnwIE0CFEQ=", "XDmGEE2RoE0FRdQ=");
 * // {"message": "Forbidden", "connectionId":"XDmENcnwIE0CFEQ=", "requestId":"XDmGEE2RoE0FRdQ="}
 * ```
 */
export function errorFrame(code: FrameCode, connectionId: string, requestId: string): string {
  return `{"message": "${ERRORS[code].message}", "connectionId":"${connectionId}", "requestId":"${requestId}"}`;
}

/** The frame for a body that failed its route's request model (AWS's own spacing). */
export function badRequestBodyFrame(connectionId: string, messageId: string): string {
  return `{"message" : "${ERRORS.SB_ERR_BAD_REQUEST_BODY.message}", "connectionId": "${connectionId}", "messageId": "${messageId}"}`;
}

/** An HTTP answer: a refused handshake or an `@connections` response. */
export interface HttpAnswer {
  status: number;
  body: string;
  headers: Record<string, string>;
}

/**
 * The HTTP answer for a catalogue code: `{"message":"..."}` and `x-amzn-ErrorType` where AWS
 * sends one. `GoneException` has an empty body, as on AWS.
 */
export function httpError(code: ErrorCode, status?: number): HttpAnswer {
  const entry: { message: string; status: number; type?: string } = ERRORS[code];
  const headers: Record<string, string> = entry.type ? { "x-amzn-ErrorType": entry.type } : {};
  if (code === "SB_ERR_GONE") return { status: entry.status, body: "", headers };
  const finalStatus = status ?? entry.status;
  const message =
    code === "SB_ERR_BAD_HANDSHAKE" ? (STATUS_CODES[finalStatus] ?? entry.message) : entry.message;
  return { status: finalStatus, body: `{"message":"${message}"}`, headers };
}

/**
 * A refused `@connections` signature: the catalogue's status and error type, with the message
 * AWS gives for this case (it names what was wrong, e.g. an expired date).
 */
export function signatureError(
  code:
    | "SB_ERR_MISSING_AUTH_TOKEN"
    | "SB_ERR_INCOMPLETE_SIGNATURE"
    | "SB_ERR_INVALID_SIGNATURE"
    | "SB_ERR_UNRECOGNIZED_CLIENT",
  message: string = ERRORS[code].message,
): HttpAnswer {
  const entry = ERRORS[code];
  return {
    status: entry.status,
    body: JSON.stringify({ message }),
    headers: { "x-amzn-ErrorType": entry.type },
  };
}

/**
 * The answer to a handshake whose integration (authorizer or `$connect`) failed or timed out:
 * integration errors keep API Gateway's spacing (`{"message": "..."}`).
 */
export function integrationError(
  code: "SB_ERR_HANDLER_FAILED" | "SB_ERR_HANDLER_TIMEOUT",
  status: number = ERRORS[code].status,
): HttpAnswer {
  return { status, body: `{"message": "${ERRORS[code].message}"}`, headers: {} };
}

/** An authorizer policy that does not allow `$connect`: 403 without an error type header. */
export function policyDenied(): HttpAnswer {
  return { status: 403, body: `{"message":"${ERRORS.SB_ERR_FORBIDDEN.message}"}`, headers: {} };
}
