import path from "node:path";

/** Files named in a reload line before the rest are counted. */
const SHOWN_FILES = 5;

/**
 * What a reload changed, for its log line: `src/chat.ts changed; routes +ping -whoami`. Empty
 * when nothing is known (a reload asked for in code, nothing added or removed).
 */
export function reloadSummary(
  changed: readonly string[],
  routes: { added: readonly string[]; removed: readonly string[] },
  cwd = process.cwd(),
): string {
  const parts: string[] = [];
  if (changed.length > 0) {
    const shown = changed.slice(0, SHOWN_FILES).map((file) => path.relative(cwd, file) || file);
    const more = changed.length - shown.length;
    parts.push(`${shown.join(", ")}${more > 0 ? ` and ${more} more` : ""} changed`);
  }
  const keys = [...routes.added.map((k) => `+${k}`), ...routes.removed.map((k) => `-${k}`)];
  if (keys.length > 0) parts.push(`routes ${keys.join(" ")}`);
  return parts.join("; ");
}
