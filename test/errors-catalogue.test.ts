import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ERRORS, type ErrorCode } from "../src/errors.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DOC = readFileSync(path.join(ROOT, "docs", "errors.md"), "utf8");

/** The docs row of a code, split into its cells. */
function row(code: string): string[] | undefined {
  const line = DOC.split("\n").find((l) => l.startsWith(`| \`${code}\` |`));
  return line
    ?.split("|")
    .slice(1, -1)
    .map((cell) => cell.trim());
}

/** Every source file under src/, for the "every code is used" check. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(file);
    return entry.name.endsWith(".ts") ? [file] : [];
  });
}

describe("the error catalogue and docs/errors.md are one", () => {
  const codes = Object.keys(ERRORS) as ErrorCode[];

  it.each(codes)("%s is documented with its message, status, error type and close code", (code) => {
    const cells = row(code);
    expect(cells, `no row for ${code} in docs/errors.md`).toBeDefined();
    const entry: { message: string; status: number; type?: string; close?: number } = ERRORS[code];
    const [, message, status, type, close] = cells as string[];
    expect(message).toBe(entry.message);
    expect(status).toBe(String(entry.status));
    expect(type).toBe(entry.type ? `\`${entry.type}\`` : "-");
    expect(close).toBe(entry.close !== undefined ? String(entry.close) : "-");
  });

  it("documents no code the catalogue does not have", () => {
    const documented = [...DOC.matchAll(/^\| `(SB_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...codes].sort());
  });

  it("uses every code somewhere outside the catalogue", () => {
    const text = sources(path.join(ROOT, "src"))
      .filter((file) => !file.endsWith(`${path.sep}errors.ts`))
      .map((file) => readFileSync(file, "utf8"))
      .join("\n");
    expect(
      codes.filter((code) => !text.includes(`"${code}"`) && !text.includes(`ERRORS.${code}`)),
    ).toEqual([]);
  });
});
