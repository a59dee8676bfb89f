import { readFileSync } from "node:fs";
import { SwitchboardError } from "../errors.js";
import type { AccessKey } from "./management-auth.js";

/** Where the key pairs that may sign `@connections` calls come from. */
export interface AccessKeySources {
  /** `SWITCHBOARD_ACCESS_KEY_ID` + `SWITCHBOARD_SECRET_ACCESS_KEY`, `SWITCHBOARD_ACCESS_KEYS_FILE`. */
  env?: NodeJS.ProcessEnv;
  /** A keys file named on the command line (wins over the variable). */
  file?: string;
}

/** IAM's access key format: 16 to 128 word characters. */
const KEY_ID = /^\w{16,128}$/;

function configError(where: string, expected: string, found: string): SwitchboardError {
  return new SwitchboardError("SB_ERR_CONFIG", `${where} — expected ${expected}, found ${found}`);
}

/**
 * Read a keys file: one pair a line, `ACCESS_KEY_ID SECRET` (spaces, a tab or a comma between
 * them), `#` comments and blank lines ignored. The CSV IAM's console downloads
 * (`Access key ID,Secret access key` header) is read as it is. Several pairs serve rotation:
 * add the new pair, move the callers over, remove the old one, restart the nodes.
 */
export function readAccessKeysFile(file: string): AccessKey[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw configError(
      file,
      "a readable keys file",
      (error as NodeJS.ErrnoException).code ?? String(error),
    );
  }
  const keys: AccessKey[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith("#") || /^access key id\s*,/i.test(line)) return;
    const [accessKeyId, secretAccessKey, ...extra] = line.split(/[\s,]+/);
    const where = `${file}:${index + 1}`;
    if (!accessKeyId || !KEY_ID.test(accessKeyId)) {
      throw configError(
        where,
        "an access key id (16-128 letters, digits or _) then its secret",
        JSON.stringify(accessKeyId ?? ""),
      );
    }
    if (!secretAccessKey || extra.length > 0) {
      throw configError(
        where,
        "two fields (access key id, secret access key)",
        `${1 + (secretAccessKey ? 1 : 0) + extra.length} field(s)`,
      );
    }
    keys.push({ accessKeyId, secretAccessKey });
  });
  if (keys.length === 0) throw configError(file, "at least one key pair", "none");
  return keys;
}

/**
 * The configured key pairs: the variables' pair first (the one functions sign with), then the
 * file's. Empty when nothing is configured. Throws `SB_ERR_CONFIG` for half a pair or a bad file.
 */
export function accessKeysFrom(sources: AccessKeySources = {}): AccessKey[] {
  const env = sources.env ?? process.env;
  const id = env.SWITCHBOARD_ACCESS_KEY_ID;
  const secret = env.SWITCHBOARD_SECRET_ACCESS_KEY;
  const keys: AccessKey[] = [];
  if (id || secret) {
    if (!id || !secret) {
      throw configError(
        "environment",
        "both SWITCHBOARD_ACCESS_KEY_ID and SWITCHBOARD_SECRET_ACCESS_KEY",
        `only ${id ? "SWITCHBOARD_ACCESS_KEY_ID" : "SWITCHBOARD_SECRET_ACCESS_KEY"}`,
      );
    }
    if (!KEY_ID.test(id)) {
      throw configError(
        "SWITCHBOARD_ACCESS_KEY_ID",
        "16-128 letters, digits or _",
        `${id.length} characters`,
      );
    }
    keys.push({ accessKeyId: id, secretAccessKey: secret });
  }
  const file = sources.file ?? env.SWITCHBOARD_ACCESS_KEYS_FILE;
  if (file) {
    for (const key of readAccessKeysFile(file)) {
      if (!keys.some((k) => k.accessKeyId === key.accessKeyId)) keys.push(key);
    }
  }
  return keys;
}
