import { formatConfigPlace } from "../errors.js";

/**
 * Something a loader accepted because the source framework accepts it, but that the author
 * may not mean (one route on two Serverless functions: the later wins, as on deploy). Located
 * like a config issue; the CLI prints each as `file:line:column path — warning: message`.
 */
export interface LoadWarning {
  /** As config issues show files (relative to the working directory when inside it). */
  file: string;
  line?: number;
  column?: number;
  /** `functions.b.events[0].websocket.route` */
  path: string;
  message: string;
}

/**
 * One warning as a line of text.
 *
 * @example
 * ```ts
 * formatLoadWarning(w); // 'serverless.yml:10:11 functions.b.events[0].websocket.route — warning: ...'
 * ```
 */
export function formatLoadWarning(warning: LoadWarning): string {
  return `${formatConfigPlace(warning)} — warning: ${warning.message}`;
}
