/**
 * The JSONPath subset API Gateway mapping templates use in `$input.path(x)` and
 * `$input.json(x)`: `$`, `.name`, `['name']`, `[0]`, `[*]` (deep scan, `..name`, is not supported: it
 * selects nothing). A path that does not parse selects nothing rather than failing the request.
 * (A JSONPath library would be a new dependency; this is the subset the AWS examples use.)
 */
export function evaluateJsonPath(root: unknown, path: string): unknown {
  const trimmed = path.trim();
  if (!trimmed.startsWith("$")) return undefined;
  let current: unknown[] = [root];
  let many = false;
  let i = 1;
  while (i < trimmed.length) {
    const parsed = pathStep(trimmed.slice(i));
    if (!parsed) return undefined;
    const { step, length } = parsed;
    i += length;
    const next: unknown[] = [];
    for (const value of current) {
      if (value === null || typeof value !== "object") continue;
      if (step === "*") {
        many = true;
        next.push(...(Array.isArray(value) ? value : Object.values(value)));
      } else if (Array.isArray(value)) {
        if (typeof step === "number" && step < value.length) next.push(value[step]);
      } else if (Object.hasOwn(value, step)) {
        next.push((value as Record<string, unknown>)[step]);
      }
    }
    current = next;
  }
  return many ? current : current[0];
}

/** One step at the start of `rest`, and how many characters it takes. */
function pathStep(rest: string): { step: string | number | "*"; length: number } | undefined {
  const name = /^\.([A-Za-z0-9_$@:-]+)/.exec(rest);
  if (name) return { step: name[1] as string, length: name[0].length };
  const all = /^\.\*|^\[\*\]/.exec(rest);
  if (all) return { step: "*", length: all[0].length };
  const index = /^\[(\d+)\]/.exec(rest);
  if (index) return { step: Number(index[1]), length: index[0].length };
  const quoted = /^\[\s*'((?:[^'\\]|\\.)*)'\s*\]|^\[\s*"((?:[^"\\]|\\.)*)"\s*\]/.exec(rest);
  if (quoted) {
    return {
      step: (quoted[1] ?? quoted[2] ?? "").replace(/\\(.)/g, "$1"),
      length: quoted[0].length,
    };
  }
  return undefined;
}
