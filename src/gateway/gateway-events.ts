/**
 * What the gateway reports. Logs, metrics and the dashboard subscribe; the gateway itself never
 * formats output.
 */
export interface GatewayEventMap {
  /** A handshake finished: accepted (101) or refused with an HTTP status. */
  connect: [ConnectReport];
  /** A data frame arrived and a route was selected (or none). */
  message: [{ connectionId: string; routeKey: string | undefined; bytes: number }];
  /** A function ran. */
  invoke: [InvokeReport];
  /** Data went out to a client. */
  send: [
    { connectionId: string; bytes: number; via: "management" | "route-response" | "error-frame" },
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
  /** Something went wrong that no client sees in full (handler errors, socket errors). */
  error: [{ connectionId?: string; routeKey?: string; message: string; error?: unknown }];
}

export interface ConnectReport {
  connectionId: string;
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
  outcome: "ok" | "error" | "timeout" | "bad-request";
  statusCode?: number;
  durationMs: number;
  error?: unknown;
}

export interface ForwardReport {
  op: "send" | "disconnect" | "info";
  /** `ok`, `gone` (no node holds the connection: 410) or `error` (the cluster failed). */
  outcome: "ok" | "gone" | "error";
  durationMs: number;
}
