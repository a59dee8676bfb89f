import { ConfigError, SwitchboardError } from "../errors.js";

/** Node's system errors carry a code, and for listen() the address and port. */
interface SystemError extends Error {
  code?: string;
  address?: string;
  port?: number;
  syscall?: string;
}

/**
 * What to tell the developer about a failure: one line saying what happened and what to do.
 * Switchboard's own errors carry such a message; the system errors a developer causes (a
 * busy port, a host that is not ours) are translated; anything else is a bug, shown with its
 * message and, with `SWITCHBOARD_DEBUG=1`, its stack.
 *
 * @example
 * ```ts
 * describeFailure(Object.assign(new Error("listen EADDRINUSE"), { code: "EADDRINUSE", port: 3001 }));
 * // "switchboard: port 3001 is in use: stop what holds it, or pass --port 0 for a free port"
 * ```
 */
export function describeFailure(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  if (error instanceof SwitchboardError) return `switchboard: ${error.code}: ${error.message}`;
  const system = error as SystemError;
  if (error instanceof Error && system.syscall === "listen") {
    const where = `${system.address ?? "the host"}:${system.port ?? "?"}`;
    if (system.code === "EADDRINUSE") {
      return `switchboard: port ${system.port} on ${system.address ?? "this host"} is in use: stop what holds it, or pass --port 0 for a free port (or another --port)`;
    }
    if (system.code === "EACCES") {
      return `switchboard: no permission to listen on ${where} (ports below 1024 need privileges): pass --port 0 or a port above 1023`;
    }
    if (system.code === "EADDRNOTAVAIL" || system.code === "ENOTFOUND") {
      return `switchboard: ${system.address ?? "the host"} is not an address of this machine: pass --host 127.0.0.1 (or 0.0.0.0 for every interface)`;
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  const stack =
    process.env.SWITCHBOARD_DEBUG && error instanceof Error && error.stack
      ? `\n${error.stack}`
      : "";
  return `switchboard: unexpected error: ${message}${stack}\n  This is a bug in Switchboard; run again with SWITCHBOARD_DEBUG=1 for the stack and report it.`;
}

/**
 * Print {@link describeFailure} on stderr.
 *
 * @example
 * ```ts
 * try { await loadApp(dir); } catch (error) { printError(error); process.exitCode = 1; }
 * ```
 */
export function printError(error: unknown): void {
  process.stderr.write(`${describeFailure(error)}\n`);
}

/**
 * Report on stderr why a command failed and set exit code 1: {@link printError} (the one format
 * every command prints failures in), then
 * `outcome` (e.g. `deploy failed`) on a line of its own.
 *
 * @example
 * ```ts
 * try {
 *   await deployAwsApp(options);
 * } catch (error) {
 *   reportCommandFailure(error, "deploy failed");
 * }
 * ```
 */
export function reportCommandFailure(error: unknown, outcome: string): void {
  printError(error);
  process.stderr.write(`${outcome}\n`);
  process.exitCode = 1;
}
