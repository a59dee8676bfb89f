import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "./repo-paths.js";

/** Entries of the repo's node_modules a project never gets: the package itself, caches. */
const NOT_LINKED = new Set([".bin", ".cache", ".vite", ".package-lock.json", "switchboard"]);

let packed: string | undefined;

/**
 * The package as `npm install switchboard` would unpack it: `npm pack` of the repository (its
 * `files` list, dist/ as built by test/global-setup.ts), extracted once per test process into a
 * temporary folder. Returns the extracted package folder.
 */
export function packedPackage(): string {
  if (packed) return packed;
  const dir = mkdtempSync(path.join(os.tmpdir(), "switchboard-pack-"));
  // --ignore-scripts: dist/ is already built; `prepare` would rebuild it for nothing.
  const out = execFileSync(
    "npm",
    ["pack", "--ignore-scripts", "--pack-destination", dir, "--json"],
    {
      cwd: REPO_ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const [{ filename }] = JSON.parse(out) as [{ filename: string }];
  execFileSync("tar", ["xzf", path.join(dir, filename), "-C", dir]);
  packed = path.join(dir, "package");
  return packed;
}

/**
 * Make `project` look like it ran `npm install` offline: `node_modules/switchboard` is a copy of
 * the packed package (so only what the package ships is there), every other entry of the
 * repository's node_modules is a symlink (zod, ws, typescript, vitest, @types/*: the same
 * versions an install would hoist), and `node_modules/.bin` has `switchboard` beside the
 * repository's bins, so `npx switchboard` and npm scripts find it without the network.
 */
export function installPacked(project: string): void {
  const modules = path.join(project, "node_modules");
  const bin = path.join(modules, ".bin");
  mkdirSync(bin, { recursive: true });
  const repoModules = realpathSync(path.join(REPO_ROOT, "node_modules"));
  for (const entry of readdirSync(repoModules)) {
    if (NOT_LINKED.has(entry)) continue;
    symlinkSync(path.join(repoModules, entry), path.join(modules, entry));
  }
  for (const entry of readdirSync(path.join(repoModules, ".bin"))) {
    symlinkSync(realpathSync(path.join(repoModules, ".bin", entry)), path.join(bin, entry));
  }
  cpSync(packedPackage(), path.join(modules, "switchboard"), { recursive: true });
  symlinkSync("../switchboard/bin/switchboard.js", path.join(bin, "switchboard"));
}

/** The environment a project's commands run with: its own bins first, offline, no colours. */
export function projectEnv(project: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${path.join(project, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}`,
    npm_config_offline: "true",
    npm_config_update_notifier: "false",
    NO_COLOR: "1",
  };
}
