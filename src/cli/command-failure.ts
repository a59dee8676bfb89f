import { ConfigError, SwitchboardError } from "../errors.js";

/**
 * Report on stderr why a command failed and set exit code 1: a Switchboard error (config
 * problems included) as its message, anything unexpected with its stack, then `outcome`
 * (e.g. `deploy failed`) on a line of its own.
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
  if (error instanceof SwitchboardError || error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.stderr.write(`${outcome}\n`);
  process.exitCode = 1;
}
