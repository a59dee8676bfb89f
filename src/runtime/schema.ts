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

/** Parse the frame text as JSON and validate it; a frame that is not JSON fails too. */
export async function validateBody(
  schema: StandardSchemaV1,
  raw: string | undefined,
): Promise<BodyValidation> {
  let parsed: unknown;
  try {
    parsed = raw === undefined ? undefined : JSON.parse(raw);
  } catch {
    return { ok: false, issues: [{ message: "body is not JSON" }] };
  }
  let result = schema["~standard"].validate(parsed);
  if (result instanceof Promise) result = await result;
  return result.issues ? { ok: false, issues: result.issues } : { ok: true, value: result.value };
}

/** The frame text as JSON when it is JSON, else the text itself. */
export function parseBody(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
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
      return raw;
    }
  }
  return raw;
}
