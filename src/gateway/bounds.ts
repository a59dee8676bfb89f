/**
 * The gateway's own bounds on what one connection may hold in memory. API Gateway has no
 * documented figure for either queue (docs/fidelity.md § Bounds); these keep one client from
 * exhausting the process.
 */
export interface GatewayBounds {
  /**
   * Messages waiting behind a connection's running invocation. One more closes the
   * connection with 1008 (AWS's close code for too many requests from one client).
   */
  queuedMessages: number;
  /** Bytes of those waiting messages; past it, the same 1008 close. */
  queuedBytes: number;
  /**
   * Bytes written to a connection and not yet taken by the client. A PostToConnection past it
   * answers 429 `LimitExceededException` ("the WebSocket client side buffer is full", as AWS
   * documents it); the connection stays open.
   */
  outboundBytes: number;
}

/** Defaults: 1,000 messages or 8 MiB waiting; 4 MiB unread. */
export const DEFAULT_BOUNDS: Readonly<GatewayBounds> = Object.freeze({
  queuedMessages: 1000,
  queuedBytes: 8 * 1024 * 1024,
  outboundBytes: 4 * 1024 * 1024,
});
