/**
 * The error frames API Gateway sends a client, byte for byte (spacing included: AWS puts a
 * space after `"message":` only, and the validation frame has its own spacing).
 */

/** No route matched and there is no `$default`. */
export function forbiddenFrame(connectionId: string, requestId: string): string {
  return `{"message": "Forbidden", "connectionId":"${connectionId}", "requestId":"${requestId}"}`;
}

/** The integration threw, failed or returned something unusable. */
export function internalServerErrorFrame(connectionId: string, requestId: string): string {
  return `{"message": "Internal server error", "connectionId":"${connectionId}", "requestId":"${requestId}"}`;
}

/** The integration did not answer within its timeout. */
export function timeoutFrame(connectionId: string, requestId: string): string {
  return `{"message": "Endpoint request timed out", "connectionId":"${connectionId}", "requestId":"${requestId}"}`;
}

/** Request (body) validation failed. */
export function badRequestBodyFrame(connectionId: string, messageId: string): string {
  return `{"message" : "Bad request body", "connectionId": "${connectionId}", "messageId": "${messageId}"}`;
}
