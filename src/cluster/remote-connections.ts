import type { ConnectionInfo, SendManyResult } from "../runtime/management.js";

/**
 * Connections held by other gateways (a cluster, `redis-cluster.ts`): the management API falls back
 * to these for ids this gateway does not hold, and tells them which connections it holds.
 */
export interface RemoteConnections {
  /** PostToConnection on the node that holds the connection. Throws GoneError when none does. */
  send(connectionId: string, data: string | Uint8Array): Promise<void>;
  /**
   * PostToConnection of the same data to many connections held elsewhere: one request per
   * owner node (per bounded batch of ids), not one per connection. Never rejects.
   */
  sendMany(connectionIds: readonly string[], data: string | Uint8Array): Promise<SendManyResult>;
  disconnect(connectionId: string): Promise<void>;
  info(connectionId: string): Promise<ConnectionInfo>;
  /**
   * Record that this gateway holds a connection, before its 101 goes out (awaited by the
   * handshake). Never rejects; bounded in time (when the shared state is unreachable the
   * connection is registered once it is back).
   */
  register(connectionId: string): Promise<void>;
  /** This gateway accepted a connection (after `$connect`). */
  opened(connectionId: string): void;
  /** This gateway's connection closed. */
  closed(connectionId: string): void;
}
