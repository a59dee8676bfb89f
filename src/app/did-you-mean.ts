import { quote } from "./describe-value.js";

/**
 * Edit distance with adjacent transpositions (optimal string alignment): `routs` → `routes` is
 * 1, `rotues` → `routes` is 1. Compared without case, so `Routes` is 0 from `routes`.
 */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  // Rows i-2, i-1 and i of the table.
  let before: number[] = [];
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) {
        best = Math.min(best, (before[j - 2] ?? 0) + 1);
      }
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[y.length] ?? 0;
}

/**
 * The allowed name `written` was most likely meant to be: the closest one within a third of
 * its length (at least 1 edit), when exactly one is closest. Keys already present are not
 * suggested (`routes` written twice is a different problem).
 *
 * @example
 * ```ts
 * didYouMean("routs", ["name", "routes"]); // "routes"
 * didYouMean("colour", ["name", "routes"]); // undefined
 * ```
 */
export function didYouMean(
  written: string,
  allowed: readonly string[],
  present: readonly string[] = [],
): string | undefined {
  if (written.length > 64) return undefined;
  const limit = Math.max(1, Math.floor(written.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  let tie = false;
  for (const name of allowed) {
    if (present.includes(name)) continue;
    const d = distance(written, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
      tie = false;
    } else if (d === bestDistance) tie = true;
  }
  return best !== undefined && bestDistance <= limit && !tie ? best : undefined;
}

/**
 * The "found" half of an unknown-key issue: `unknown key "routs" (did you mean routes?)`.
 *
 * @example
 * ```ts
 * unknownKey("routs", ["name", "routes"]); // 'unknown key "routs" (did you mean routes?)'
 * ```
 */
export function unknownKey(
  key: string,
  allowed: readonly string[],
  present: readonly string[] = [],
): string {
  return withSuggestion(`unknown key ${quote(key)}`, didYouMean(key, allowed, present));
}

/** `found` followed by ` (did you mean <meant>?)` when there is a suggestion. */
export function withSuggestion(found: string, meant: string | undefined): string {
  return meant === undefined ? found : `${found} (did you mean ${meant}?)`;
}
