import { createHash } from "node:crypto";
import { type Zippable, zipSync } from "fflate";

/**
 * The fixed timestamp of every entry. ZIP stores local (DOS) time and fflate reads it with
 * local-time getters, so the date is built from local components: the bytes are the same in
 * every time zone.
 */
const ZIP_EPOCH = new Date(1980, 0, 1, 0, 0, 0);
/** Unix regular file, rw-r--r--: Lambda needs the code world-readable. */
const FILE_ATTRS = (0o100644 << 16) >>> 0;
const UNIX = 3;

/** A zip and its SHA-256 (hex). */
export interface ZipArchive {
  bytes: Uint8Array;
  sha256: string;
}

/**
 * Zip files deterministically: entries sorted by name, fixed timestamps and permissions,
 * fixed compression level. The same files always give the same bytes (and hash).
 *
 * @example
 * ```ts
 * const { bytes, sha256 } = deterministicZip({ "index.mjs": code });
 * ```
 */
export function deterministicZip(files: Record<string, string | Uint8Array>): ZipArchive {
  const entries: Zippable = {};
  for (const name of Object.keys(files).sort()) {
    const content = files[name] as string | Uint8Array;
    const data = typeof content === "string" ? new TextEncoder().encode(content) : content;
    entries[name] = [data, { level: 9, mtime: ZIP_EPOCH, os: UNIX, attrs: FILE_ATTRS }];
  }
  const bytes = zipSync(entries, { level: 9, mtime: ZIP_EPOCH });
  return { bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}
