/**
 * AWS route selection expressions for WebSocket APIs:
 * `$request.body.action`, `$request.body.message.type`, `${request.body.service}/${request.body.action}`,
 * static text, and `\$default` as a literal. Evaluated once (not recursively); a missing path
 * selects `""`; non-string values are stringified the way API Gateway does (`[a, b]`, `{k=v}`).
 */

/** Compiled expression: from the parsed JSON body (or `undefined` when the frame was not JSON) to a route key. */
export type RouteSelector = (body: unknown) => string;

type Part = { literal: string } | { path: PathSegment[] };
type PathSegment = string | number;

/** A route selection expression that does not parse, with the position of the problem. */
export class RouteSelectionSyntaxError extends Error {
  readonly expression: string;
  readonly index: number;
  constructor(expression: string, index: number, message: string) {
    super(`${message} at character ${index + 1} of "${expression}"`);
    this.name = "RouteSelectionSyntaxError";
    this.expression = expression;
    this.index = index;
  }
}

const BODY_PREFIX = "request.body";

function parsePath(expression: string, start: number, text: string): PathSegment[] {
  // text is what follows `request.body` (without the leading `$`/`${`)
  const segments: PathSegment[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === ".") {
      const match = /^[A-Za-z0-9_$@:-]+/.exec(text.slice(i + 1));
      if (!match)
        throw new RouteSelectionSyntaxError(
          expression,
          start + i + 1,
          "expected a field name after '.'",
        );
      segments.push(match[0]);
      i += 1 + match[0].length;
    } else if (ch === "[") {
      const rest = text.slice(i);
      const quoted = /^\[\s*(['"])(.*?)\1\s*\]/.exec(rest);
      const index = /^\[\s*(\d+)\s*\]/.exec(rest);
      if (quoted) {
        segments.push(quoted[2] ?? "");
        i += quoted[0].length;
      } else if (index) {
        segments.push(Number(index[1]));
        i += index[0].length;
      } else {
        throw new RouteSelectionSyntaxError(expression, start + i, "expected [index] or ['name']");
      }
    } else {
      throw new RouteSelectionSyntaxError(expression, start + i, `unexpected '${ch}'`);
    }
  }
  if (segments.length === 0) {
    throw new RouteSelectionSyntaxError(expression, start, "expected a path after $request.body");
  }
  return segments;
}

/** Parse an expression into literal and path parts; throws {@link RouteSelectionSyntaxError}. */
export function parseRouteSelectionExpression(expression: string): Part[] {
  const parts: Part[] = [];
  let literal = "";
  let i = 0;
  const flush = () => {
    if (literal) parts.push({ literal });
    literal = "";
  };
  while (i < expression.length) {
    const ch = expression[i];
    if (ch === "\\" && expression[i + 1] === "$") {
      literal += "$";
      i += 2;
      continue;
    }
    if (ch === "$" && expression[i + 1] === "{") {
      const end = expression.indexOf("}", i + 2);
      if (end < 0) throw new RouteSelectionSyntaxError(expression, i, "unclosed '${'");
      const inner = expression.slice(i + 2, end).trim();
      if (!inner.startsWith(BODY_PREFIX)) {
        throw new RouteSelectionSyntaxError(
          expression,
          i + 2,
          `expected request.body inside $\{...}`,
        );
      }
      flush();
      parts.push({
        path: parsePath(expression, i + 2 + BODY_PREFIX.length, inner.slice(BODY_PREFIX.length)),
      });
      i = end + 1;
      continue;
    }
    if (ch === "$" && expression.startsWith(`$${BODY_PREFIX}`, i)) {
      const from = i + 1 + BODY_PREFIX.length;
      const match = /^(?:\.[A-Za-z0-9_$@:-]+|\[[^\]]*\])+/.exec(expression.slice(from));
      flush();
      parts.push({ path: parsePath(expression, from, match ? match[0] : "") });
      i = from + (match ? match[0].length : 0);
      continue;
    }
    if (ch === "$" && /^\$(request|context|stageVariables)\b/.test(expression.slice(i))) {
      throw new RouteSelectionSyntaxError(
        expression,
        i,
        "WebSocket route selection supports only $request.body.<path>",
      );
    }
    literal += ch;
    i += 1;
  }
  flush();
  if (parts.length === 0) throw new RouteSelectionSyntaxError(expression, 0, "empty expression");
  return parts;
}

/** API Gateway's (Java-flavoured) string form of a selected value. */
export function stringifySelected(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return `[${value.map(stringifySelected).join(", ")}]`;
  if (typeof value === "object") {
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}=${stringifySelected(v)}`)
      .join(", ")}}`;
  }
  return String(value);
}

/**
 * One step of a path into parsed JSON: only JSON's own members. A string, number or boolean has
 * none (`"text".length` is not in the body), and neither has anything an object inherits
 * (`constructor`, `toString`), so those select `""` like any missing path.
 */
function member(value: unknown, segment: PathSegment): unknown {
  if (value === null || typeof value !== "object") return undefined;
  if (Array.isArray(value)) return typeof segment === "number" ? value[segment] : undefined;
  return Object.hasOwn(value, segment)
    ? (value as Record<string | number, unknown>)[segment]
    : undefined;
}

function lookup(body: unknown, path: PathSegment[]): unknown {
  let current = body;
  for (const segment of path) {
    current = member(current, segment);
    if (current === undefined) return undefined;
  }
  return current;
}

/** Compile an expression once; the result runs per message. */
export function compileRouteSelection(expression: string): RouteSelector {
  const parts = parseRouteSelectionExpression(expression);
  const [only] = parts;
  if (parts.length === 1 && only && "path" in only) {
    const path = only.path;
    if (path.length === 1) {
      const key = path[0] as string | number;
      return (body) => stringifySelected(member(body, key));
    }
    return (body) => stringifySelected(lookup(body, path));
  }
  return (body) => {
    let key = "";
    for (const part of parts) {
      key += "literal" in part ? part.literal : stringifySelected(lookup(body, part.path));
    }
    return key;
  };
}
