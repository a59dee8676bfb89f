import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SRC = path.join(ROOT, "src");
const DIST = path.join(ROOT, "dist");

/** Source files the build compiles (tsconfig.build.json: src, without tests). */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(file);
    return /\.ts$/.test(entry.name) && !/\.(test|d)\.ts$/.test(entry.name) ? [file] : [];
  });
}

/** Why dist/ needs a build, or undefined when every source has an up-to-date output. */
function staleReason(): string | undefined {
  for (const file of sources(SRC)) {
    const out = path.join(DIST, path.relative(SRC, file)).replace(/\.ts$/, ".js");
    if (!existsSync(out)) return `${path.relative(ROOT, out)} is missing`;
    if (statSync(out).mtimeMs < statSync(file).mtimeMs)
      return `${path.relative(ROOT, file)} changed`;
  }
  return undefined;
}

/**
 * The CLI suite runs `bin/switchboard.js`, which runs the compiled dist/. Build it (as
 * `npm run build` does) only when it is missing or older than src/.
 */
export default function setup(): void {
  const reason = staleReason();
  if (!reason) return;
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  process.stderr.write(`global setup: building dist/ (${reason})\n`);
  try {
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
      cwd: ROOT,
      stdio: "pipe",
    });
  } catch (error) {
    // tsc still emits on type errors; the typecheck script reports those. Fail only without output.
    const output = String((error as { stdout?: Buffer }).stdout ?? "");
    if (!existsSync(path.join(DIST, "cli", "main.js"))) throw new Error(`build failed:\n${output}`);
    process.stderr.write(
      `global setup: tsc reported errors (dist/ was still written):\n${output}\n`,
    );
  }
}
