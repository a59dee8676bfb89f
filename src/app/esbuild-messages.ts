import type * as esbuild from "esbuild";

/**
 * The errors of a failed esbuild build, one `file:line:column text` line each (column
 * 1-based, as editors count), or just the text when esbuild gives no location. Empty when
 * `error` carries no esbuild messages.
 *
 * @example
 * ```ts
 * try {
 *   await esbuild.build(options);
 * } catch (error) {
 *   buildFailureMessages(error); // ["src/app.ts:3:7 Expected \";\" but found \"x\""]
 * }
 * ```
 */
export function buildFailureMessages(error: unknown): string[] {
  const failure = error as esbuild.BuildFailure;
  return (failure.errors ?? []).map((m) =>
    m.location
      ? `${m.location.file}:${m.location.line}:${m.location.column + 1} ${m.text}`
      : m.text,
  );
}
