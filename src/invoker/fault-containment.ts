import { AsyncLocalStorage } from "node:async_hooks";
import { inspect } from "node:util";

/**
 * Keeps a handler's process-level faults (an unhandled rejection, a throw in a timer callback,
 * `process.exit()`) to the invocation they belong to, as Lambda does (there each invocation has
 * the runtime to itself; here in-process functions share the gateway's process).
 *
 * Every in-process invocation runs inside an {@link AsyncLocalStorage} scope; timers, promises
 * and callbacks it creates carry that scope, so the process-level handlers find whose fault it
 * is. A fault with no scope is not a handler's: it is left to the other listeners, or, when
 * there are none, reported and the process ends with code 1 as Node would have ended it.
 */

/** One running invocation, as the fault handlers see it. */
export interface InvocationScope {
  readonly functionName: string;
  readonly requestId: string;
  /** The connection the invocation is for (tags its console output; see handler-output.ts). */
  readonly connectionId?: string | undefined;
  /** Fail the invocation with `error`; returns false when it had already ended. */
  fail(error: Error): boolean;
}

const scopes = new AsyncLocalStorage<InvocationScope>();

/**
 * Run `fn` (a handler call, a module load) so that faults it leaves behind are `scope`'s.
 * Only while containment is installed: a scope makes Node track every promise's context
 * (PromiseHooks), which costs on the message path, and nothing would read it otherwise.
 */
export function runInScope<T>(scope: InvocationScope, fn: () => T): T {
  return holders > 0 ? scopes.run(scope, fn) : fn();
}

/**
 * Call `fn(arg)` as code of no invocation (gateway work an invocation's callback goes on to:
 * the next message of its connection). Cheap when no scope is current.
 */
export function outsideScopes<A>(fn: (arg: A) => void, arg: A): void {
  if (holders > 0 && scopes.getStore() !== undefined) scopes.exit(fn, arg);
  else fn(arg);
}

/** The invocation the running code belongs to, if any (only while containment is installed). */
export function currentScope(): InvocationScope | undefined {
  return holders > 0 ? scopes.getStore() : undefined;
}

/** The error Lambda's Node.js runtime reports for an unhandled rejection. */
export function unhandledRejectionError(reason: unknown): Error {
  const text =
    reason instanceof Error ? `${reason.name}: ${reason.message}` : inspect(reason, { depth: 2 });
  const error = new Error(text);
  error.name = "Runtime.UnhandledPromiseRejection";
  if (reason instanceof Error && reason.stack) {
    error.stack = `Runtime.UnhandledPromiseRejection: ${reason.stack}`;
  }
  return error;
}

/** The error Lambda reports when the function's process exits during an invocation. */
export function exitError(requestId: string, code: unknown): Error {
  const status = typeof code === "number" || typeof code === "string" ? code : 0;
  const error = new Error(
    `RequestId: ${requestId} Error: Runtime exited with error: exit status ${status}`,
  );
  error.name = "Runtime.ExitError";
  return error;
}

/** Thrown by `process.exit()` inside an invocation, to unwind the handler's stack. */
class ExitUnwind extends Error {
  constructor() {
    super("process.exit() inside a handler: the invocation failed; the gateway keeps running");
    this.name = "Runtime.ExitError";
  }
}

/** Where faults of invocations that had already ended go (a log line). */
export type LateFaultReport = (message: string, error: unknown) => void;

let holders = 0;
const reporters = new Set<LateFaultReport>();
let originalExit: typeof process.exit | undefined;

function late(scope: InvocationScope, kind: string, error: unknown): void {
  const message = `${scope.functionName} (${scope.requestId}): ${kind} after the invocation ended`;
  for (const report of reporters) report(message, error);
}

/** Node's own ending for a fault that is nobody's: print it, exit 1. */
function notOurs(error: unknown): void {
  process.stderr.write(`Uncaught ${inspect(error)}\n`);
  (originalExit ?? process.exit)(1);
}

function onUncaughtException(error: unknown): void {
  if (error instanceof ExitUnwind) return; // its invocation has already failed
  const scope = scopes.getStore();
  if (scope) {
    const failure = error instanceof Error ? error : new Error(inspect(error));
    if (!scope.fail(failure)) late(scope, "uncaught exception", error);
    return;
  }
  // Not a handler's: as before (other listeners decide, else Node's crash).
  if (process.listenerCount("uncaughtException") > 1) return;
  notOurs(error);
}

function onUnhandledRejection(reason: unknown): void {
  if (reason instanceof ExitUnwind) return;
  const scope = scopes.getStore();
  if (scope) {
    const failure = unhandledRejectionError(reason);
    if (!scope.fail(failure)) late(scope, "unhandled rejection", failure);
    return;
  }
  if (process.listenerCount("unhandledRejection") > 1) return;
  notOurs(reason);
}

function containedExit(this: NodeJS.Process, code?: number | string | null): never {
  const scope = scopes.getStore();
  const exit = originalExit ?? process.exit;
  if (!scope) return exit.call(this, code);
  if (!scope.fail(exitError(scope.requestId, code ?? process.exitCode ?? 0))) {
    late(scope, "process.exit()", exitError(scope.requestId, code));
  }
  throw new ExitUnwind();
}

/**
 * Install the process-level handlers (and a `process.exit` that fails only the calling
 * invocation) while a gateway serves in-process functions; call the returned function when it
 * stops. Nested holders share one installation; the last release removes it.
 */
export function containHandlerFaults(report?: LateFaultReport): () => void {
  if (holders === 0) {
    process.on("uncaughtException", onUncaughtException);
    process.on("unhandledRejection", onUnhandledRejection);
    originalExit = process.exit;
    process.exit = containedExit as typeof process.exit;
  }
  holders += 1;
  if (report) reporters.add(report);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (report) reporters.delete(report);
    holders -= 1;
    if (holders > 0) return;
    process.off("uncaughtException", onUncaughtException);
    process.off("unhandledRejection", onUnhandledRejection);
    if (originalExit && process.exit === containedExit) process.exit = originalExit;
    originalExit = undefined;
    // Stop the promise tracking the scopes turned on.
    scopes.disable();
  };
}
