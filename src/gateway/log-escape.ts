/**
 * Characters that must not reach a terminal raw from client input: C0 and C1 controls (a newline
 * forges a log line, ESC starts a colour or cursor sequence), DEL, the Unicode line and paragraph
 * separators, and the bidirectional overrides and isolates (they reorder what is shown).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_KEEP_NEWLINE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

const escapeOne = (char: string) =>
  SHORT[char] ?? `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`;

/**
 * One log field as text that stays on its line and shows what it holds: control characters
 * become JSON-style escapes (`\n`, `\u001b`). For every value that can carry client input
 * (connection ids from `@connections` paths, close reasons, route keys, error messages).
 */
export function escapeField(value: unknown): string {
  return String(value).replace(UNSAFE, escapeOne);
}

/**
 * A multi-line block (an error's stack): control characters escaped as in {@link escapeField}
 * except the newlines, and every line after the first indented, so no line of it can pass for a
 * log line of its own.
 */
export function escapeBlock(value: string): string {
  return value.replace(UNSAFE_KEEP_NEWLINE, escapeOne).replace(/\n(?! {2})/g, "\n  ");
}
