import type { StandardSchemaV1 } from "@standard-schema/spec";

export type BodyValidation =
  | { ok: true; value: unknown }
  | { ok: false; issues: ReadonlyArray<StandardSchemaV1.Issue> };

/** True for any Standard Schema (zod, valibot, arktype, ...). */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as Partial<StandardSchemaV1>)["~standard"]?.validate === "function"
  );
}

/** Marks a frame whose text is not JSON (distinct from a JSON string). */
export const NOT_JSON: unique symbol = Symbol("notJson");

/** Validate a frame already parsed with {@link parseJson}; a frame that is not JSON fails. */
export async function validateParsed(
  schema: StandardSchemaV1,
  parsed: unknown,
): Promise<BodyValidation> {
  if (parsed === NOT_JSON) return { ok: false, issues: [{ message: "body is not JSON" }] };
  let result = schema["~standard"].validate(parsed);
  if (result instanceof Promise) result = await result;
  return result.issues ? { ok: false, issues: result.issues } : { ok: true, value: result.value };
}

/** Parse the frame text as JSON and validate it; a frame that is not JSON fails too. */
export function validateBody(
  schema: StandardSchemaV1,
  raw: string | undefined,
): Promise<BodyValidation> {
  return validateParsed(schema, raw === undefined ? undefined : parseJson(raw));
}

/** The frame text as JSON when it is JSON, else the text itself. */
export function parseBody(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  const parsed = parseJson(raw);
  return parsed === NOT_JSON ? raw : parsed;
}

/** The frame text parsed as JSON, or {@link NOT_JSON}. */
export function parseJson(raw: string): unknown {
  const first = raw.charCodeAt(0);
  // Only `{`, `[`, `"`, digits, `-`, t/f/n can start JSON; skip the throw for plain text.
  if (
    first === 123 ||
    first === 91 ||
    first === 34 ||
    first === 45 ||
    (first >= 48 && first <= 57) ||
    first === 116 ||
    first === 102 ||
    first === 110 ||
    first === 32 ||
    first === 9 ||
    first === 10 ||
    first === 13
  ) {
    try {
      return JSON.parse(raw);
    } catch {
      return NOT_JSON;
    }
  }
  return NOT_JSON;
}
