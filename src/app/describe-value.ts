import { isClass } from "../runtime/is-class.js";

/**
 * How a config value reads in an issue's "found" text: `a number (42)`, `a string ("abc")`,
 * `nothing`, `an array`, `class ChatFunction`.
 */
const MAX_SHOWN = 40;

/**
 * Describe a value for the "found" half of a config issue.
 *
 * @example
 * ```ts
 * describeValue(42); // 'a number (42)'
 * describeValue(undefined); // 'nothing'
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? "an empty array" : "an array";
  switch (typeof value) {
    case "string":
      return value === "" ? "an empty string" : `a string (${quote(value)})`;
    case "number":
      return `a number (${value})`;
    case "boolean":
      return `a boolean (${value})`;
    case "bigint":
      return `a bigint (${value})`;
    case "symbol":
      return "a symbol";
    case "function":
      if (isClass(value)) return value.name ? `class ${value.name}` : "a class";
      return value.name ? `a function (${value.name})` : "a function";
    default:
      return Object.keys(value).length === 0 ? "an empty object" : "an object";
  }
}

/** A string in double quotes, shortened so one issue stays on one line. */
export function quote(text: string): string {
  const shown = text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
  return JSON.stringify(shown);
}

/** `a, b, c` or `none` for an empty list. */
export function listNames(names: readonly string[]): string {
  return names.length === 0 ? "none" : names.join(", ");
}
