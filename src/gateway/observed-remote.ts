import type { EventEmitter } from "node:events";
import type { RemoteConnections } from "../cluster/remote-connections.js";
import { GoneError } from "../runtime/management.js";
import type { ForwardReport, GatewayEventMap } from "./gateway-events.js";

/**
 * The cluster as the gateway sees it, with each forwarded call reported as a `forward` event
 * (op, outcome, duration) when someone listens: metrics count forwards without the cluster or
 * the management API knowing about them.
 */
export function observedRemote(
  remote: RemoteConnections,
  events: EventEmitter<GatewayEventMap>,
): RemoteConnections {
  const timed = <T>(op: ForwardReport["op"], call: () => Promise<T>): Promise<T> => {
    if (events.listenerCount("forward") === 0) return call();
    const started = performance.now();
    const report = (outcome: ForwardReport["outcome"]) =>
      events.emit("forward", { op, outcome, durationMs: performance.now() - started });
    return call().then(
      (value) => {
        report("ok");
        return value;
      },
      (error: unknown) => {
        report(error instanceof GoneError ? "gone" : "error");
        throw error;
      },
    );
  };
  return {
    send: (connectionId, data) => timed("send", () => remote.send(connectionId, data)),
    // One report per connection (the metric counts calls, whichever way they were batched).
    sendMany: async (connectionIds, data) => {
      if (events.listenerCount("forward") === 0) return remote.sendMany(connectionIds, data);
      const started = performance.now();
      const result = await remote.sendMany(connectionIds, data);
      const durationMs = performance.now() - started;
      const report = (outcome: ForwardReport["outcome"]) =>
        events.emit("forward", { op: "send", outcome, durationMs });
      for (const _ of result.sent) report("ok");
      for (const _ of result.gone) report("gone");
      for (const _ of result.failed) report("error");
      return result;
    },
    disconnect: (connectionId) => timed("disconnect", () => remote.disconnect(connectionId)),
    info: (connectionId) => timed("info", () => remote.info(connectionId)),
    register: (connectionId) => remote.register(connectionId),
    opened: (connectionId) => remote.opened(connectionId),
    closed: (connectionId) => remote.closed(connectionId),
  };
}
