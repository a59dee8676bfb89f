import { isUtf8 } from "node:buffer";
import { formatWithOptions } from "node:util";
import type { Gateway } from "./gateway.js";
import type { GatewayEventMap } from "./gateway-events.js";
import { escapeField as e, escapeBlock } from "./log-escape.js";
import { trimStack } from "./stack-trim.js";

export type LogMode = "pretty" | "json" | "quiet";

export interface LogOptions {
  mode: LogMode;
  write?: (line: string) => void;
  /**
   * ANSI colours (pretty mode). Default: when stdout is a TTY and `NO_COLOR` is unset or empty
   * (https://no-color.org).
   */
  color?: boolean;
  /** Fields every JSON line carries (e.g. `{ node }` for a cluster node). */
  fields?: Record<string, unknown>;
  /**
   * Log what clients send and receive (`--log-payloads`): each message's first
   * {@link MAX_PAYLOAD_CHARS} characters, escaped. Off by default: payloads carry user data.
   */
  payloads?: boolean;
}

/** Characters of a payload a line shows (`--log-payloads`); the rest is counted, not shown. */
export const MAX_PAYLOAD_CHARS = 1024;

/** A payload as a log field: text (bytes as UTF-8 when they are, else base64), cut to the bound. */
function payloadText(data: string | Uint8Array): string {
  let text: string;
  if (typeof data === "string") text = data;
  else {
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    text = isUtf8(bytes) ? bytes.toString("utf8") : `base64:${bytes.toString("base64")}`;
  }
  return text.length > MAX_PAYLOAD_CHARS
    ? `${text.slice(0, MAX_PAYLOAD_CHARS)}… (${text.length - MAX_PAYLOAD_CHARS} more)`
    : text;
}

/** Durations in JSON lines: milliseconds to 0.1 ms (timer resolution says no more). */
const tenths = (n: number) => Math.round(n * 10) / 10;

/** Every `...Ms` field of a JSON line rounded with {@link tenths}. */
function roundDurations(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = typeof value === "number" && key.endsWith("Ms") ? tenths(value) : value;
  }
  return out;
}

const ms = (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n)}ms`;

function errorText(error: unknown): string {
  if (error instanceof Error) {
    return error.stack ? trimStack(error.stack) : `${error.name}: ${error.message}`;
  }
  return formatWithOptions({ colors: false }, "%o", error);
}

/**
 * Subscribe a logger to a gateway's events: one line per connect, message, invoke, send and
 * disconnect, with route, connection id, status and duration. `json` writes one JSON object
 * per line; `quiet` writes only errors.
 */
export function attachLogger(gateway: Gateway, options: LogOptions): () => void {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const noColor = (process.env.NO_COLOR ?? "") !== "";
  const color =
    options.color ?? (options.mode === "pretty" && process.stdout.isTTY === true && !noColor);
  const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const time = () => new Date().toISOString().slice(11, 23);
  const line = (
    kind: string,
    fields: Record<string, unknown>,
    text: string,
    level: "info" | "warn" | "error" = "info",
  ) => {
    if (options.mode === "quiet" && level === "info") return;
    if (options.mode === "json") {
      write(
        JSON.stringify({
          time: new Date().toISOString(),
          level,
          event: kind,
          ...options.fields,
          ...roundDurations(fields),
        }),
      );
    } else {
      write(`${paint(90, time())} ${kind.padEnd(10)} ${text}`);
    }
  };
  const listeners: Array<[keyof GatewayEventMap, (...args: never[]) => void]> = [];
  // Quiet mode listens only where errors come from: a listener costs the gateway an event
  // record per message even when the line is dropped.
  const quietEvents = new Set<keyof GatewayEventMap>(["invoke", "error", "redis"]);
  const on = <K extends keyof GatewayEventMap>(
    event: K,
    fn: (...args: GatewayEventMap[K]) => void,
  ) => {
    if (options.mode === "quiet" && !quietEvents.has(event)) return;
    (gateway.on as (e: K, f: (...args: GatewayEventMap[K]) => void) => Gateway)(event, fn);
    listeners.push([event, fn as unknown as (...args: never[]) => void]);
  };
  on("connect", (r) => {
    const ok = r.status === 101;
    line(
      "connect",
      { ...r },
      `${e(r.connectionId ?? "-")} ${paint(ok ? 32 : 31, String(r.status))} ${ms(r.durationMs)} ${e(r.sourceIp)}${r.reason ? ` (${e(r.reason)})` : ""}`,
    );
  });
  on("message", (r) => {
    const { text, ...fields } = r;
    const payload = options.payloads ? payloadText(text) : undefined;
    line(
      "message",
      payload !== undefined ? { ...fields, payload } : fields,
      `${e(r.connectionId)} ${r.routeKey !== undefined ? e(r.routeKey) : paint(33, "(no route)")} ${r.bytes}B${
        payload !== undefined ? ` ${e(payload)}` : ""
      }`,
    );
  });
  on("invoke", (r) => {
    const failed = r.outcome !== "ok";
    if (!failed && options.mode === "quiet") return;
    // A denial and a rejected body are answers to a client, not faults: warnings, no stack.
    const answered = r.outcome === "denied" || r.outcome === "bad-request";
    const { error, ...fields } = r;
    const detail =
      error !== undefined
        ? `\n  ${paint(31, escapeBlock(errorText(error)))}`
        : r.issues
          ? `\n  ${paint(33, escapeBlock(r.issues.join("\n")))}`
          : "";
    line(
      "invoke",
      { ...fields, ...(error !== undefined ? { error: errorText(error) } : {}) },
      `${e(r.connectionId)} ${e(r.routeKey)} → ${e(r.functionName)} ${paint(failed ? (answered ? 33 : 31) : 32, r.outcome)}${
        r.statusCode !== undefined ? ` ${r.statusCode}` : ""
      } ${ms(r.durationMs)}${detail}`,
      failed ? (answered ? "warn" : "error") : "info",
    );
  });
  on("send", (r) => {
    const { data, ...fields } = r;
    const payload = options.payloads ? payloadText(data) : undefined;
    line(
      "send",
      payload !== undefined ? { ...fields, payload } : fields,
      `${e(r.connectionId)} ${r.bytes}B via ${r.via}${payload !== undefined ? ` ${e(payload)}` : ""}`,
    );
  });
  on("output", (r) => {
    line(
      "output",
      { ...r },
      `${e(r.connectionId ?? "-")} ${e(r.functionName)} ${escapeBlock(r.text)}`,
      r.method === "error" ? "error" : r.method === "warn" ? "warn" : "info",
    );
  });
  on("management", (r) => {
    line("manage", { ...r }, `${e(r.method)} @connections/${e(r.connectionId)} ${r.status}`);
  });
  on("disconnect", (r) => {
    line(
      "disconnect",
      { ...r },
      `${e(r.connectionId)} ${r.code} ${e(JSON.stringify(r.reason))} after ${ms(r.durationMs)}${
        r.dropped
          ? paint(33, ` (${r.dropped} queued message${r.dropped === 1 ? "" : "s"} dropped)`)
          : ""
      }`,
    );
  });
  on("redis", (r) => {
    line(
      "redis",
      { ...r },
      r.up ? paint(32, `reachable again (${r.message})`) : paint(31, `unreachable: ${r.message}`),
      // The recovery shows in quiet mode too, beside the loss it ends.
      r.up ? "warn" : "error",
    );
  });
  on("memory", (r) => {
    const mb = (bytes: number) => Math.round(bytes / 104857.6) / 10;
    const { heapBefore, heapAfter, ...fields } = r;
    const before = mb(heapBefore);
    const after = mb(heapAfter);
    line(
      "memory",
      { ...fields, heapBeforeMB: before, heapAfterMB: after },
      `connections fell from ${r.peak} to ${r.connections}, quiet: ${r.gcs} full GC${r.gcs === 1 ? "" : "s"} (${ms(r.gcMs)}), V8 heap ${before} → ${after} MB`,
    );
  });
  on("error", (r) => {
    const { error, ...fields } = r;
    line("error", fields, `${e(r.connectionId ?? "-")} ${escapeBlock(r.message)}`, "error");
  });
  return () => {
    for (const [event, fn] of listeners) {
      (gateway.off as (e: string, f: (...args: never[]) => void) => Gateway)(event, fn);
    }
  };
}
