import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Gateway } from "../gateway/gateway.js";

/** What the metrics read at scrape time (not from events). */
export interface MetricsState {
  /** Redis connection state: true up, false down, undefined when not clustered. */
  redisUp(): boolean | undefined;
  draining(): boolean;
}

/** Close codes counted by value; any other (a client may choose 3000-4999) is `other`. */
const CLOSE_CODES = new Set([1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011]);

/** Methods the `@connections` API knows; anything else is counted as `other` (bounded labels). */
const METHODS = new Set(["POST", "GET", "DELETE"]);

/**
 * Prometheus metrics for one gateway, built from its typed events (`gateway-events.ts`): the
 * gateway has no counters of its own, and emits nothing when nobody listens, so subscribing
 * here is the whole cost. Every label has a bounded set of values (statuses, the app's route
 * keys, outcomes, HTTP methods folded to four), so no client can grow the series.
 * Returns the registry and a function that unsubscribes.
 */
export function gatewayMetrics(
  gateway: Gateway,
  state: MetricsState,
): { registry: Registry; stop: () => void } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "switchboard_process_" });
  new Gauge({
    name: "switchboard_connections_open",
    help: "WebSocket connections open on this node",
    registers: [registry],
    collect() {
      this.set(gateway.size);
    },
  });
  new Gauge({
    name: "switchboard_redis_up",
    help: "1 when this node's Redis connection is ready, 0 when it is not (absent without --redis)",
    registers: [registry],
    collect() {
      const up = state.redisUp();
      if (up !== undefined) this.set(up ? 1 : 0);
    },
  });
  new Gauge({
    name: "switchboard_draining",
    help: "1 once this node is shutting down (SIGTERM/SIGINT)",
    registers: [registry],
    collect() {
      this.set(state.draining() ? 1 : 0);
    },
  });
  const connects = new Counter({
    name: "switchboard_connects_total",
    help: "Handshakes by outcome: 101 accepted, any other status refused",
    labelNames: ["status"] as const,
    registers: [registry],
  });
  const messagesIn = new Counter({
    name: "switchboard_messages_in_total",
    help: "Data frames received from clients",
    registers: [registry],
  });
  const messagesOut = new Counter({
    name: "switchboard_messages_out_total",
    help: "Messages sent to clients, by source (management, route-response, error-frame)",
    labelNames: ["via"] as const,
    registers: [registry],
  });
  const invocations = new Counter({
    name: "switchboard_invocations_total",
    help: "Function invocations by route and outcome (ok, error, timeout, bad-request)",
    labelNames: ["route", "outcome"] as const,
    registers: [registry],
  });
  const invocationSeconds = new Histogram({
    name: "switchboard_invocation_duration_seconds",
    help: "Function invocation duration by route",
    labelNames: ["route"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const management = new Counter({
    name: "switchboard_management_calls_total",
    help: "@connections calls by method and answered status",
    labelNames: ["method", "status"] as const,
    registers: [registry],
  });
  const forwards = new Counter({
    name: "switchboard_cluster_forwards_total",
    help: "Management calls forwarded to the node holding the connection, by op and outcome",
    labelNames: ["op", "outcome"] as const,
    registers: [registry],
  });
  const forwardSeconds = new Histogram({
    name: "switchboard_cluster_forward_duration_seconds",
    help: "Round trip of a forwarded management call",
    labelNames: ["op"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });
  const disconnects = new Counter({
    name: "switchboard_disconnects_total",
    help: "Connections closed, by close code",
    labelNames: ["code"] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: "switchboard_errors_total",
    help: "Errors no client sees in full (handler errors, socket errors)",
    registers: [registry],
  });

  const listeners = {
    connect: (r: { status: number }) => connects.inc({ status: String(r.status) }),
    message: () => messagesIn.inc(),
    send: (r: { via: string }) => messagesOut.inc({ via: r.via }),
    invoke: (r: { routeKey: string; outcome: string; durationMs: number }) => {
      invocations.inc({ route: r.routeKey, outcome: r.outcome });
      invocationSeconds.observe({ route: r.routeKey }, r.durationMs / 1000);
    },
    management: (r: { method: string; status: number }) =>
      management.inc({
        method: METHODS.has(r.method) ? r.method : "other",
        status: String(r.status),
      }),
    forward: (r: { op: string; outcome: string; durationMs: number }) => {
      forwards.inc({ op: r.op, outcome: r.outcome });
      forwardSeconds.observe({ op: r.op }, r.durationMs / 1000);
    },
    disconnect: (r: { code: number }) =>
      disconnects.inc({ code: CLOSE_CODES.has(r.code) ? String(r.code) : "other" }),
    error: () => errors.inc(),
  };
  for (const [event, fn] of Object.entries(listeners)) {
    (gateway.on as (e: string, f: (...args: never[]) => void) => Gateway)(event, fn);
  }
  return {
    registry,
    stop() {
      for (const [event, fn] of Object.entries(listeners)) {
        (gateway.off as (e: string, f: (...args: never[]) => void) => Gateway)(event, fn);
      }
      registry.clear();
    },
  };
}
