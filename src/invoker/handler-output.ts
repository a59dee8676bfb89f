import { formatWithOptions } from "node:util";
import { currentScope } from "./fault-containment.js";

/** One `console` call a handler made, with whose it is. */
export interface HandlerOutput {
  functionName: string;
  /** The connection the invocation was for (absent while a module's top level runs). */
  connectionId?: string;
  requestId: string;
  /** The console method called. */
  method: "log" | "info" | "warn" | "error" | "debug";
  text: string;
}

/**
 * Longest text kept per call: CloudWatch Logs' limit for one log event (256 KiB), which is what
 * a Lambda function's line would be cut to.
 */
export const MAX_OUTPUT_CHARS = 256 * 1024;

/** Where tagged output goes; returns false when nobody takes it (it is printed as before). */
export type OutputSink = (output: HandlerOutput) => boolean;

const LEVELS = ["log", "info", "warn", "error", "debug"] as const;

/** A console call's arguments as the line Node would print, cut at {@link MAX_OUTPUT_CHARS}. */
function formatOutput(args: unknown[]): string {
  const text = formatWithOptions({ colors: false }, ...(args as [unknown, ...unknown[]]));
  return text.length > MAX_OUTPUT_CHARS
    ? `${text.slice(0, MAX_OUTPUT_CHARS)}… (${text.length - MAX_OUTPUT_CHARS} more characters)`
    : text;
}
const sinks = new Set<OutputSink>();
/** Set while a sink runs: a sink that itself prints (a logger writing with `console.log`) prints. */
let sinking = false;
let originals: Partial<Record<(typeof LEVELS)[number], (...args: unknown[]) => void>> | undefined;

function tagged(level: (typeof LEVELS)[number], original: (...args: unknown[]) => void) {
  return function (this: Console, ...args: unknown[]): void {
    const scope = currentScope();
    if (scope && sinks.size > 0 && !sinking) {
      const text = formatOutput(args);
      const output: HandlerOutput = {
        functionName: scope.functionName,
        requestId: scope.requestId,
        method: level,
        text,
        ...(scope.connectionId !== undefined ? { connectionId: scope.connectionId } : {}),
      };
      let taken = false;
      sinking = true;
      try {
        for (const sink of sinks) taken = sink(output) || taken;
      } finally {
        sinking = false;
      }
      if (taken) return;
    }
    original.apply(this, args);
  };
}

/**
 * Output a handler printed elsewhere (an `--isolate` worker thread), already tagged: to the
 * sinks, else printed as the handler printed it.
 */
export function reportHandlerOutput(output: HandlerOutput): void {
  let taken = false;
  if (!sinking) {
    sinking = true;
    try {
      for (const sink of sinks) taken = sink(output) || taken;
    } finally {
      sinking = false;
    }
  }
  if (!taken) (originals?.[output.method] ?? console[output.method])(output.text);
}

/** Forward what handlers print in this thread (a worker's) to `post`, tagged by `current`. */
export function forwardHandlerOutput(
  current: () => Omit<HandlerOutput, "method" | "text"> | undefined,
  post: (output: HandlerOutput) => void,
): void {
  for (const level of LEVELS) {
    const original = console[level];
    console[level] = function (this: Console, ...args: unknown[]): void {
      const invocation = current();
      if (invocation) post({ ...invocation, method: level, text: formatOutput(args) });
      else original.apply(this, args);
    };
  }
}

/**
 * Tag what in-process handlers print with `console` (which function, which connection) and
 * hand it to `sink` instead of stdout, so `--json` output stays one JSON object per line. Works
 * inside invocation scopes, which exist while {@link containHandlerFaults} is in force; output
 * outside one (the gateway's, a test runner's) is untouched. Returns the release.
 */
export function tagHandlerOutput(sink: OutputSink): () => void {
  if (!originals) {
    originals = {};
    for (const level of LEVELS) {
      const original = console[level];
      originals[level] = original;
      console[level] = tagged(level, original);
    }
  }
  sinks.add(sink);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    sinks.delete(sink);
    if (sinks.size > 0 || !originals) return;
    for (const level of LEVELS) {
      const original = originals[level];
      if (original) console[level] = original;
    }
    originals = undefined;
  };
}
