import { readFileSync } from "node:fs";
import path from "node:path";
import { parseEnv } from "node:util";
import type { SecretLookup } from "../app/load-options.js";

/**
 * The values of an app's secrets in `switchboard dev`: each from the process environment, else
 * `.env.<stage>`, else `.env`, both beside the config (parsed by Node's own `util.parseEnv`:
 * quotes, `#` comments and escapes as dotenv reads them). Files are read once per lookup; a
 * file that does not exist is skipped.
 *
 * @example
 * ```ts
 * const { values, missing } = readSecrets(["MONGODB_URI"], { stage: "dev", root: "/app" });
 * ```
 */
export function readSecrets(
  names: readonly string[],
  where: { stage: string; root: string },
  env: NodeJS.ProcessEnv = process.env,
): SecretLookup {
  const files = [`.env.${where.stage}`, ".env"].map((name) => path.join(where.root, name));
  const parsed = files.map((file) => ({ file, values: readEnvFile(file) }));
  const values: Record<string, string> = {};
  const missing: SecretLookup["missing"] = [];
  for (const name of names) {
    const value = env[name] ?? parsed.map((f) => f.values?.[name]).find((v) => v !== undefined);
    if (value !== undefined) values[name] = value;
    else missing.push({ name, lookedIn: ["the environment", ...files] });
  }
  return { values, missing };
}

function readEnvFile(file: string): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  return parseEnv(text) as Record<string, string>;
}
