import type { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { RuntimeBindings } from "../runtime/bindings.js";
import type { ConnectionStore } from "../runtime/connection-store.js";
import type { GatewayBounds } from "./bounds.js";
import type { WebSocketLike } from "./connection.js";
import type { Connections } from "./connections.js";
import type { GatewayEventMap } from "./gateway-events.js";
import type { Generation } from "./generation.js";
import type { Pacer } from "./pacer.js";

/**
 * What the gateway's parts (handshake, dispatch, session) share: the gateway's state, handed
 * to them by the `Gateway` that owns it, so none of them reaches into another.
 */
export interface GatewayCore {
  /** The app version now served (work in flight keeps the one it started with). */
  readonly generation: Generation;
  readonly region: string;
  readonly accountId: string;
  /** The gateway is shutting down: new handshakes are refused. */
  readonly closing: boolean;
  /** Past the shutdown deadline: nothing queued starts any more. */
  readonly abandoned: boolean;
  readonly connections: Connections;
  readonly table: ConnectionStore;
  /** Where reports go; `report` never throws (see {@link reportError}). */
  readonly events: EventEmitter<GatewayEventMap>;
  /** Starts `$disconnect` invocations a few at a time per event-loop turn. */
  readonly disconnects: Pacer;
  /** Which `Host` and `X-Forwarded-*` values handshake events carry (see `GatewayOptions.edge`). */
  readonly edge: "aws" | "local";
  /** The app's public domain (`requestContext.domainName`), when not the execute-api one. */
  readonly domainName: string | undefined;
  /** Per-connection bounds. */
  readonly bounds: GatewayBounds;
  /** Tails of closed connections whose queued work (`$disconnect` included) still runs. */
  readonly settling: Set<Promise<void>>;
  /** Turns an accepted handshake into a WebSocket (see {@link CompleteUpgrade}). */
  readonly completeUpgrade: CompleteUpgrade;
}

/**
 * The last step of an accepted handshake: answer 101 and hand over the WebSocket. `ws` by
 * default (`gen.wss.handleUpgrade`); the test kit gives its recorder instead. Calls `done`
 * synchronously, or never when it refused the handshake itself.
 */
export type CompleteUpgrade = (
  wss: Generation["wss"],
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  done: (ws: WebSocketLike) => void,
) => void;

/** The default {@link CompleteUpgrade}: `ws` writes the 101 and frames the socket. */
export const upgradeWithWs: CompleteUpgrade = (wss, req, socket, head, done) =>
  wss.handleUpgrade(req, socket, head, done);

/** The bindings a handler gets: the management API, the table, and the parsed body if any. */
export function bindingsFor(core: GatewayCore, body?: { value: unknown }): RuntimeBindings {
  return body
    ? { management: core.connections, connections: core.table, body }
    : { management: core.connections, connections: core.table };
}

/**
 * A report, never a throw: EventEmitter throws an "error" nobody listens for (a client's
 * oversized message would crash the process).
 */
export function reportError(core: GatewayCore, report: GatewayEventMap["error"][0]): void {
  if (core.events.listenerCount("error") > 0) core.events.emit("error", report);
}
