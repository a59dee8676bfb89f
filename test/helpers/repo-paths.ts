import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root folder. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The chat example (`examples/chat`), the app the AWS build tests ship. */
export const CHAT_EXAMPLE = path.join(REPO_ROOT, "examples", "chat");

/**
 * A fresh scratch folder path for one test file: `test/.tmp/<name>-<pid>-<random>`. Inside
 * the repo, so bundles built there keep `@aws-sdk/*` external (as on Lambda) and resolve it
 * from node_modules. Not created: the caller makes and removes it.
 *
 * @example
 * ```ts
 * const TMP = repoScratchDir("aws-build"); // <repo>/test/.tmp/aws-build-4242-a1b2c3
 * ```
 */
export function repoScratchDir(name: string): string {
  return path.join(
    REPO_ROOT,
    "test",
    ".tmp",
    `${name}-${process.pid}-${randomBytes(3).toString("hex")}`,
  );
}
