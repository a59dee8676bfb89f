import type { ConnectionInfo } from "../runtime/management.js";

/**
 * Connections held by other gateways (a cluster, `cluster.ts`): the management API falls back
 * to these for ids this gateway does not hold, and tells them which connections it holds.
 */
export interface RemoteConnections {
  /** PostToConnection on the node that holds the connection. Throws GoneError when none does. */
  send(connectionId: string, data: string | Uint8Array): Promise<void>;
  disconnect(connectionId: string): Promise<void>;
  info(connectionId: string): Promise<ConnectionInfo>;
  /** This gateway accepted a connection (after `$connect`). */
  opened(connectionId: string): void;
  /** This gateway's connection closed. */
  closed(connectionId: string): void;
}
