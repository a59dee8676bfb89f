import type { Duplex } from "node:stream";
import type { Limits } from "../app/model.js";
import { DISCONNECT } from "../app/model.js";
import { CLOSES } from "../wire.js";
import { Connection, failedWith, type WebSocketLike } from "./connection.js";
import { onMessage } from "./dispatch.js";
import { buildDisconnectEvent, type ConnectionFacts } from "./events.js";
import { guardFrameSize } from "./frame-guard.js";
import { bindingsFor, type GatewayCore, reportError } from "./gateway-core.js";
import { type Generation, specOf } from "./generation.js";
import { runRouteIntegration } from "./integrated.js";
import { invokeAndReport } from "./invocation.js";

/**
 * A connection's life after its handshake: registered, guarded (frame size, idle and
 * lifetime limits), its messages dispatched in order, and `$disconnect` run once it closes.
 */
export function accept(
  core: GatewayCore,
  ws: WebSocketLike,
  facts: ConnectionFacts,
  socket: Duplex,
  limits: Limits,
): Connection {
  const conn = new Connection(facts, ws, socket);
  conn.onWorkError = (error) =>
    reportError(core, {
      connectionId: conn.id,
      message: `queued work failed: ${String(error)}`,
      error,
    });
  core.connections.add(conn);
  guardFrameSize(socket, limits.frameBytes, () =>
    conn.close(CLOSES.tooBig.code, CLOSES.tooBig.reason),
  );
  // One timer per connection for both limits (idle and lifetime): it wakes at the earlier
  // deadline and re-arms itself, so activity costs a field write, not a timer reset.
  const endOfLife = conn.facts.connectedAt + limits.maxConnectionMs;
  const check = () => {
    const now = Date.now();
    const idleDeadline = conn.lastActiveAt + limits.idleTimeoutMs;
    if (now >= endOfLife || now >= idleDeadline) {
      conn.close(CLOSES.goingAway.code, CLOSES.goingAway.reason);
      return;
    }
    conn.timer = setTimeout(check, Math.min(idleDeadline, endOfLife) - now);
  };
  conn.timer = setTimeout(check, Math.min(limits.idleTimeoutMs, limits.maxConnectionMs));
  ws.on("message", (data, isBinary) => onMessage(core, conn, data, isBinary));
  ws.on("error", (error) => {
    // ws closes the socket itself (e.g. 1009 for a message over maxPayload); record why.
    const code = (error as { code?: string }).code;
    if (code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" && !conn.closing) {
      conn.closing = { ...CLOSES.tooBig };
    }
    reportError(core, { connectionId: conn.id, message: error.message, error });
  });
  ws.on("close", (code, reasonBuffer) => onClose(core, conn, code, reasonBuffer.toString()));
  return conn;
}

function onClose(core: GatewayCore, conn: Connection, code: number, reason: string): void {
  conn.ended = true;
  conn.clearTimer();
  core.connections.remove(conn);
  const closing = conn.closing;
  const statusCode = closing ? closing.code : code;
  const statusReason = closing ? closing.reason : code === 1005 ? CLOSES.noStatusReason : reason;
  core.events.emit("disconnect", {
    connectionId: conn.id,
    code: statusCode,
    reason: statusReason,
    durationMs: Date.now() - conn.facts.connectedAt,
    ...(conn.waiting > 0 ? { dropped: conn.waiting } : {}),
  });
  const gen = core.generation;
  if (!gen.disconnectRoute) return;
  // Behind the connection's queued messages, so handlers see events in order.
  // Paced: a burst of closes spreads its `$disconnect`s over several event-loop turns.
  conn.enqueue((done) => {
    core.disconnects
      .run(() => invokeDisconnect(core, gen, conn.facts, statusCode, statusReason))
      .then(() => done(), failedWith(done));
  });
  const tail = conn.idle();
  core.settling.add(tail);
  void tail.then(() => core.settling.delete(tail));
}

/** Run `$disconnect` (if the app has one) for a connection that ended with `code`. */
export async function invokeDisconnect(
  core: GatewayCore,
  gen: Generation,
  facts: ConnectionFacts,
  code: number,
  reason: string,
): Promise<void> {
  const route = gen.disconnectRoute;
  if (!route || core.abandoned) return;
  const event = buildDisconnectEvent(facts, code, reason, Date.now());
  if (route.integration !== undefined || route.target === undefined) {
    await runRouteIntegration(core, gen, route, event, "");
    return;
  }
  await invokeAndReport(core, gen, {
    spec: specOf(gen, route),
    event,
    bindings: bindingsFor(core),
    connectionId: facts.connectionId,
    routeKey: DISCONNECT,
  });
}
