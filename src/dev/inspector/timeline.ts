import type { EventEmitter } from "node:events";
import type { Gateway } from "../../gateway/gateway.js";
import type { GatewayEventMap, OpenedReport } from "../../gateway/gateway-events.js";
import type { HandlerOutput } from "../../invoker/handler-output.js";

/** Entries the timeline keeps (the oldest go first). */
export const TIMELINE_ENTRIES = 1000;
/**
 * Characters of JSON kept of one recorded value (a result, an error; an event's body, and its
 * other fields as much again): a value over it is kept as its cut JSON text. With frames cut at
 * 8,192 characters (`FRAME_TEXT_CHARS`), one entry holds at most about 64 K characters, the
 * whole timeline (1,000 entries) a few tens of MB at worst, typically far less.
 */
export const VALUE_CHARS = 16_384;
/** Events recorded only while the inspector is in use (see {@link Timeline.startLive}). */
const LIVE_EVENTS = new Set(["frame", "invocation", "invoke", "management", "outputCopy"]);

/**
 * Console lines kept with one invocation (`console.log`, `console.error`, ...); the lines after
 * them are counted (`outputDropped`), not kept. The terminal (or the `--json` log) gets every
 * line in full, as CloudWatch Logs would.
 */
export const OUTPUT_LINES = 100;
/**
 * Characters of console output kept with one invocation, all its lines together: the line that
 * reaches it is cut (its text then ends with how much was cut), the lines after it are counted.
 */
export const OUTPUT_CHARS = VALUE_CHARS;
/**
 * Invocations whose console lines wait for their end (the `invocation` event comes after the
 * lines): beyond it the oldest one's lines are forgotten. Lines printed after an invocation
 * ended (a timer it left running, in-process) wait here too until forgotten: never shown.
 */
export const PENDING_OUTPUTS = TIMELINE_ENTRIES;

/** One console line of an invocation, as the page shows it. */
export interface OutputLine {
  /** The console method called: `log`, `info`, `warn`, `error` or `debug`. */
  method: HandlerOutput["method"];
  text: string;
}

/** An invocation's console lines while it runs, within {@link OUTPUT_LINES} and {@link OUTPUT_CHARS}. */
interface PendingOutput {
  lines: OutputLine[];
  chars: number;
  dropped: number;
}

/** Connections whose details are kept after they closed (the open ones are always kept). */
export const CLOSED_CONNECTIONS = 100;

export type EntryKind = "connect" | "frame" | "invoke" | "disconnect" | "error" | "management";

/** One line of the timeline, as the page gets it (plain JSON). */
export interface Entry {
  seq: number;
  at: number;
  kind: EntryKind;
  connectionId?: string;
  /** One line for the list. */
  summary: string;
  /** Everything recorded, shown as JSON in the detail pane. */
  detail: Record<string, unknown>;
  /** `invoke` entries: the route, so the event can be run again. */
  routeKey?: string;
  /** `invoke` entries: failed (error, timeout, bad request); `frame`: an error frame. */
  failed?: boolean;
}

/** What the inspector knows of a connection (from its handshake). */
export interface ConnectionDetails extends OpenedReport {
  closedAt?: number;
  close?: { code: number; reason: string };
}

/** A value as JSON-safe data, cut to {@link VALUE_CHARS} (then kept as `{ truncated, json }`). */
export function jsonSafe(value: unknown, limit = VALUE_CHARS): unknown {
  if (value === undefined) return null;
  let json: string | undefined;
  try {
    json = JSON.stringify(value, (_key, v: unknown) =>
      typeof v === "bigint" ? v.toString() : v instanceof Error ? errorJson(v) : v,
    );
  } catch (error) {
    return { unserializable: String(error) };
  }
  if (json === undefined) return String(value);
  if (json.length > limit) return { truncated: true, json: json.slice(0, limit) };
  return JSON.parse(json) as unknown;
}

/** An error as the page shows it: name, message and the stack (source-mapped when enabled). */
function errorJson(error: Error): Record<string, unknown> {
  return { name: error.name, message: error.message, stack: error.stack };
}

/** An error, or anything thrown, as JSON. */
function thrown(error: unknown): unknown {
  return error instanceof Error ? errorJson(error) : jsonSafe(error);
}

/** Cut a string (an event body) to {@link VALUE_CHARS}. */
function cut(text: string): string {
  return text.length > VALUE_CHARS ? text.slice(0, VALUE_CHARS) : text;
}

/**
 * The recorded copy of an event: its body cut to {@link VALUE_CHARS}, so one message cannot
 * fill the timeline. A shallow copy, not a JSON round trip: the gateway builds events from
 * plain JSON values, and this runs for every invocation while the inspector records.
 */
function recordedEvent(event: unknown): unknown {
  if (event === null || typeof event !== "object") return jsonSafe(event);
  const body = (event as { body?: unknown }).body;
  if (typeof body !== "string" || body.length <= VALUE_CHARS) return { ...event };
  return { ...event, body: cut(body), bodyTruncated: true };
}

/**
 * The recorded copy of a result. A Lambda proxy result (`{ statusCode, body }`, the usual
 * case) or a string is copied with its body cut; anything else goes through {@link jsonSafe}.
 */
function recordedResult(result: unknown): unknown {
  if (typeof result === "string") return cut(result);
  if (result !== null && typeof result === "object" && !Array.isArray(result)) {
    const { statusCode, body, ...rest } = result as { statusCode?: unknown; body?: unknown };
    if (
      Object.keys(rest).length === 0 &&
      (statusCode === undefined || typeof statusCode === "number") &&
      (body === undefined || typeof body === "string")
    ) {
      return {
        ...(statusCode !== undefined ? { statusCode } : {}),
        ...(body !== undefined ? { body: cut(body) } : {}),
      };
    }
  }
  return jsonSafe(result);
}

/** How much an invocation printed, for its line in the list. */
function consoleLines(output: PendingOutput): string {
  const count = output.lines.length + output.dropped;
  return ` · ${count} console line${count === 1 ? "" : "s"}`;
}

/**
 * Records what a gateway reports into a bounded ring buffer ({@link TIMELINE_ENTRIES}) and
 * keeps each connection's handshake details, and tells listeners of each new entry. It
 * subscribes to the rich events (`frame`, `invocation`, `opened`) only while it is attached, so
 * a gateway without an inspector pays nothing for them.
 */
export class Timeline {
  readonly #entries: (Entry | undefined)[] = new Array(TIMELINE_ENTRIES);
  #seq = 0;
  readonly #connections = new Map<string, ConnectionDetails>();
  readonly #closed: string[] = [];
  readonly #listeners = new Set<(entry: Entry) => void>();
  readonly #detach: () => void;

  constructor(gateway: Gateway) {
    const handlers: { [K in keyof GatewayEventMap]?: (...args: GatewayEventMap[K]) => void } = {
      opened: (r) => {
        this.#connections.set(r.connectionId, { ...r });
      },
      connect: (r) =>
        this.#add({
          kind: "connect",
          connectionId: r.connectionId,
          summary: `connect ${r.status}${r.reason ? ` (${r.reason})` : ""} from ${r.sourceIp}`,
          detail: { ...r },
          failed: r.status !== 101,
        }),
      frame: (r) =>
        this.#add({
          kind: "frame",
          connectionId: r.connectionId,
          summary: `${r.direction === "in" ? "⇢ in" : "⇠ out"} ${r.bytes} B${r.via && r.via !== "management" ? ` (${r.via})` : ""}: ${r.data.slice(0, 120)}`,
          detail: { ...r },
          failed: r.via === "error-frame",
        }),
      outputCopy: (r) => this.#keepOutput(r),
      invocation: (r) => {
        const { outcome } = r;
        const output = this.#takeOutput(r.event);
        this.#add({
          kind: "invoke",
          connectionId: r.connectionId,
          routeKey: r.routeKey,
          summary: `${r.routeKey} → ${outcome.kind} in ${outcome.durationMs.toFixed(1)} ms (${r.functionName})${output ? consoleLines(output) : ""}`,
          detail: {
            routeKey: r.routeKey,
            functionName: r.functionName,
            outcome: outcome.kind,
            durationMs: Math.round(outcome.durationMs * 100) / 100,
            event: recordedEvent(r.event),
            ...(outcome.kind === "ok" ? { result: recordedResult(outcome.result) } : {}),
            ...(outcome.kind === "error" ? { error: thrown(outcome.error) } : {}),
            ...(output ? { output: output.lines } : {}),
            ...(output?.dropped ? { outputDropped: output.dropped } : {}),
          },
          failed: outcome.kind !== "ok",
        });
      },
      invoke: (r) => {
        // Other outcomes come with their event as `invocation`; a refused body has none.
        if (r.outcome !== "bad-request") return;
        this.#add({
          kind: "invoke",
          connectionId: r.connectionId,
          summary: `${r.routeKey} → bad request (body schema)`,
          detail: { ...r },
          failed: true,
        });
      },
      disconnect: (r) => {
        const known = this.#connections.get(r.connectionId);
        if (known) {
          known.closedAt = Date.now();
          known.close = { code: r.code, reason: r.reason };
          this.#closed.push(r.connectionId);
          while (this.#closed.length > CLOSED_CONNECTIONS) {
            this.#connections.delete(this.#closed.shift() as string);
          }
        }
        this.#add({
          kind: "disconnect",
          connectionId: r.connectionId,
          summary: `disconnect ${r.code}${r.reason ? ` ${r.reason}` : ""} after ${Math.round(r.durationMs)} ms`,
          detail: { ...r },
        });
      },
      management: (r) =>
        this.#add({
          kind: "management",
          connectionId: r.connectionId,
          summary: `@connections ${r.method} → ${r.status}`,
          detail: { ...r },
          failed: r.status >= 400,
        }),
      error: (r) =>
        this.#add({
          kind: "error",
          ...(r.connectionId ? { connectionId: r.connectionId } : {}),
          summary: r.message,
          detail: {
            ...(r.connectionId ? { connectionId: r.connectionId } : {}),
            ...(r.routeKey ? { routeKey: r.routeKey } : {}),
            message: r.message,
            ...(r.error !== undefined ? { error: thrown(r.error) } : {}),
          },
          failed: true,
        }),
    };
    // One loop over the typed map: the emitter seen untyped (each handler matches its name).
    const emitter = gateway as unknown as EventEmitter;
    const pairs = Object.entries(handlers) as [string, (...args: unknown[]) => void][];
    // Frames and invocations (every message's cost) are recorded only while live; the rest
    // (connections, refusals, errors) always.
    const always = pairs.filter(([name]) => !LIVE_EVENTS.has(name));
    this.#live = pairs.filter(([name]) => LIVE_EVENTS.has(name));
    this.#emitter = emitter;
    for (const [name, fn] of always) emitter.on(name, fn);
    this.#detach = () => {
      for (const [name, fn] of always) emitter.off(name, fn);
      this.stopLive();
    };
  }

  readonly #live: [string, (...args: unknown[]) => void][];
  readonly #emitter: EventEmitter;
  #recording = false;

  /** Whether frames and invocations are being recorded. */
  get live(): boolean {
    return this.#recording;
  }

  /**
   * Record frames and invocations from now on. Off until the inspector is opened: they are
   * built for every message, and a dev server nobody inspects should not pay for them.
   */
  startLive(): void {
    if (this.#recording) return;
    this.#recording = true;
    for (const [name, fn] of this.#live) this.#emitter.on(name, fn);
  }

  /** Stop recording frames and invocations (what was recorded stays). */
  stopLive(): void {
    if (!this.#recording) return;
    this.#recording = false;
    for (const [name, fn] of this.#live) this.#emitter.off(name, fn);
    this.#outputs.clear();
  }

  /** Console lines of invocations not ended yet, by request id (oldest first). */
  readonly #outputs = new Map<string, PendingOutput>();

  /** Keep a console line until its invocation ends, within the bounds. */
  #keepOutput(output: HandlerOutput): void {
    let pending = this.#outputs.get(output.requestId);
    if (!pending) {
      if (this.#outputs.size >= PENDING_OUTPUTS) {
        this.#outputs.delete(this.#outputs.keys().next().value as string);
      }
      pending = { lines: [], chars: 0, dropped: 0 };
      this.#outputs.set(output.requestId, pending);
    }
    const room = OUTPUT_CHARS - pending.chars;
    if (pending.lines.length >= OUTPUT_LINES || room <= 0) {
      pending.dropped++;
      return;
    }
    const { text } = output;
    const kept =
      text.length > room ? `${text.slice(0, room)}… (${text.length - room} more characters)` : text;
    pending.chars += Math.min(text.length, room);
    pending.lines.push({ method: output.method, text: kept });
  }

  /** The console lines of the invocation that got `event` (by its request id), now ended. */
  #takeOutput(event: unknown): PendingOutput | undefined {
    const context = (event as { requestContext?: { requestId?: unknown } } | null)?.requestContext;
    const requestId = context?.requestId;
    if (typeof requestId !== "string") return undefined;
    const pending = this.#outputs.get(requestId);
    this.#outputs.delete(requestId);
    return pending;
  }

  #add(entry: Omit<Entry, "seq" | "at">): void {
    const full: Entry = { seq: ++this.#seq, at: Date.now(), ...entry };
    this.#entries[full.seq % TIMELINE_ENTRIES] = full;
    for (const listener of this.#listeners) listener(full);
  }

  /** The entries still kept, oldest first. */
  entries(): Entry[] {
    const kept: Entry[] = [];
    const first = Math.max(1, this.#seq - TIMELINE_ENTRIES + 1);
    for (let seq = first; seq <= this.#seq; seq++) {
      const entry = this.#entries[seq % TIMELINE_ENTRIES];
      if (entry?.seq === seq) kept.push(entry);
    }
    return kept;
  }

  /** An entry, if it is still kept. */
  entry(seq: number): Entry | undefined {
    const entry = this.#entries[seq % TIMELINE_ENTRIES];
    return entry?.seq === seq ? entry : undefined;
  }

  /** Details of a connection (open, or among the last {@link CLOSED_CONNECTIONS} closed). */
  connection(connectionId: string): ConnectionDetails | undefined {
    return this.#connections.get(connectionId);
  }

  /** Known connections, open ones first. */
  connections(): ConnectionDetails[] {
    return [...this.#connections.values()].sort(
      (a, b) => Number(a.closedAt !== undefined) - Number(b.closedAt !== undefined),
    );
  }

  /** Be told of each new entry; returns the unsubscribe function. */
  subscribe(listener: (entry: Entry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stop recording (the gateway stops building the rich events when nobody else listens). */
  close(): void {
    this.#detach();
    this.#listeners.clear();
  }
}
