import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { threadId } from "node:worker_threads";
import * as esbuild from "esbuild";
import { buildFailureMessages } from "./esbuild-messages.js";
import { DEFAULT_NODE_RUNTIME, type RuntimeSdk, runtimeSdk } from "./lambda-runtime.js";
import { formatByNodeRules, type ModuleFormat } from "./module-format.js";
import { runtimeSdkPlugin } from "./runtime-sdk-plugin.js";

/** A module as the gateway sees it: its exports and every local file it was built from. */
export interface LoadedModule {
  file: string;
  exports: Record<string, unknown>;
  /** Absolute paths of the local source files bundled into it (watched for hot reload). */
  inputs: string[];
  /**
   * How Node would load the file itself (`exports` is always an ES namespace; a CommonJS
   * module's `module.exports` is its `default`). See {@link exportRoot}.
   */
  format: ModuleFormat;
}

/** A handler module that does not build; carries esbuild's messages. */
export class ModuleBuildError extends Error {
  readonly file: string;
  readonly details: string[];
  constructor(file: string, details: string[]) {
    super(`${file}: does not build\n${details.join("\n")}`);
    this.name = "ModuleBuildError";
    this.file = file;
    this.details = details;
  }
}

type Import = (specifier: string) => Promise<Record<string, unknown>>;

// Native dynamic import, so that test runners and bundlers that rewrite `import()` leave it alone.
// It lives in a CommonJS file loaded by Node's own `require`: an `import()` made with
// `new Function` inside code a test runner evaluated through `vm` (vitest) has no loader behind
// it and fails with ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING.
let nativeImport: Promise<Import> | undefined;
async function importNatively(cacheDir: string, specifier: string) {
  // One helper per process, even when several modules build at once.
  nativeImport ??= (async () => {
    const helper = path.join(cacheDir, "native-import.cjs");
    // Written aside and renamed: another process sharing the cache dir may be reading it.
    const partial = `${helper}.${process.pid}-${threadId}.tmp`;
    await writeFile(partial, "module.exports = (specifier) => import(specifier);\n");
    await rename(partial, helper);
    return createRequire(import.meta.url)(helper) as Import;
  })().catch((error: unknown) => {
    nativeImport = undefined;
    throw error;
  });
  return (await nativeImport)(specifier);
}

const ownRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const ownExt = existsSync(path.join(ownRoot, "index.ts")) ? ".ts" : ".js";

/** `switchboard` and its subpaths resolve to the copy that runs the gateway, so versions never drift. */
function ownEntry(specifier: string): string | undefined {
  if (specifier === "switchboard") return path.join(ownRoot, `index${ownExt}`);
  const sub = /^switchboard\/(runtime|gateway)$/.exec(specifier)?.[1];
  return sub ? path.join(ownRoot, sub, `index${ownExt}`) : undefined;
}

const LOADERS: Record<string, esbuild.Loader> = {
  ".ts": "ts",
  ".mts": "ts",
  ".cts": "ts",
  ".tsx": "tsx",
  ".js": "js",
  ".mjs": "js",
  ".cjs": "js",
  ".jsx": "jsx",
};

const localFilePlugin: esbuild.Plugin = {
  name: "switchboard-local",
  setup(build) {
    build.onResolve({ filter: /^switchboard(\/.*)?$/ }, (args) => {
      const entry = ownEntry(args.path);
      if (!entry) return undefined;
      // Compiled copy: import it where it is. Source copy (tests): bundle it.
      return ownExt === ".js" ? { path: entry, external: true } : { path: entry };
    });
    // The source copy's own dependencies (yaml, zod, ...) resolve from its own node_modules,
    // wherever the app lives: an app never has to install what Switchboard itself imports.
    if (ownExt === ".ts") {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (!args.importer.startsWith(ownRoot) || args.path.startsWith("node:")) return undefined;
        try {
          return { path: fileURLToPath(import.meta.resolve(args.path)), external: true };
        } catch {
          return undefined;
        }
      });
    }
    // Bundled files keep their own location: import.meta.url, __dirname and __filename
    // are rewritten to the original file's, so code reading files next to itself works.
    build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      let text = await readFile(args.path, "utf8");
      const url = JSON.stringify(pathToFileURL(args.path).href);
      text = text
        .replace(/\bimport\.meta\.url\b/g, url)
        .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(path.dirname(args.path)))
        .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path));
      const prelude: string[] = [];
      for (const name of ["__dirname", "__filename"] as const) {
        if (
          text.includes(name) &&
          !new RegExp(`\\b(const|let|var|function)\\s+${name}\\b`).test(text)
        ) {
          const value = name === "__dirname" ? path.dirname(args.path) : args.path;
          prelude.push(`var ${name} = ${JSON.stringify(value)};`);
        }
      }
      const loader = LOADERS[path.extname(args.path)] ?? "js";
      return { contents: prelude.join("") + text, loader };
    });
  },
};

/**
 * Builds handler and config modules with esbuild (local files bundled, packages external)
 * and imports the result. Each rebuild gets a fresh file name, so a reload sees new code
 * while connections stay open.
 */
export class ModuleLoader {
  readonly #cacheDir: string;
  readonly #cache = new Map<string, Promise<LoadedModule>>();
  readonly #loaded = new Map<string, LoadedModule>();
  /** Shared by every loader in the process, so output names never collide across reloads. */
  static #generation = 0;

  constructor(options: { cacheDir: string }) {
    this.#cacheDir = options.cacheDir;
    // Stacks of built handlers name their sources (`src/chat.ts:12`), not the bundle in the
    // cache (the bundles carry inline source maps; Node reads them as a module compiles).
    process.setSourceMapsEnabled(true);
  }

  /**
   * Load (build once, then cached) the module at an absolute path, for a function on `runtime`
   * (default {@link DEFAULT_NODE_RUNTIME}): its imports of the AWS SDK see what that Lambda
   * runtime carries when the app has no copy of its own.
   */
  load(file: string, options: { runtime?: string } = {}): Promise<LoadedModule> {
    const sdk = runtimeSdk(options.runtime);
    // One build per SDK generation: the runtime decides which SDK an import may fall back to.
    const key = `${sdk.version}:${file}`;
    let entry = this.#cache.get(key);
    if (!entry) {
      const building = this.#build(file, sdk);
      entry = building;
      this.#cache.set(key, building);
      // A build that settles after `invalidate()` (and a newer build) must not touch the cache.
      const current = () => this.#cache.get(key) === building;
      building.then(
        (mod) => {
          if (current()) this.#loaded.set(key, mod);
        },
        () => {
          if (current()) this.#cache.delete(key);
        },
      );
    }
    return entry;
  }

  /** Forget every cached module; the next `load` rebuilds. */
  invalidate(): void {
    this.#cache.clear();
    this.#loaded.clear();
  }

  /** Every local source file the modules loaded so far were built from (what to watch). */
  inputs(): string[] {
    const files = new Set<string>();
    for (const mod of this.#loaded.values()) for (const input of mod.inputs) files.add(input);
    return [...files];
  }

  async dispose(): Promise<void> {
    this.#cache.clear();
    this.#loaded.clear();
  }

  async #build(file: string, sdk: RuntimeSdk): Promise<LoadedModule> {
    await mkdir(this.#cacheDir, { recursive: true });
    const hash = createHash("sha1").update(file).digest("hex").slice(0, 10);
    const outfile = path.join(
      this.#cacheDir,
      // Per thread too: each worker thread (--isolate) has its own counter.
      `${path.basename(file).replace(/\.[^.]+$/, "")}-${hash}-${process.pid}-${threadId}-${++ModuleLoader.#generation}.mjs`,
    );
    let result: esbuild.BuildResult<{ metafile: true; write: true }>;
    try {
      result = await esbuild.build({
        entryPoints: [file],
        outfile,
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node20",
        packages: "external",
        sourcemap: "inline",
        metafile: true,
        write: true,
        logLevel: "silent",
        absWorkingDir: path.dirname(file),
        plugins: [localFilePlugin, runtimeSdkPlugin(sdk, this.#cacheDir)],
        banner: {
          js: 'import { createRequire as __sbCreateRequire } from "node:module"; const require = __sbCreateRequire(import.meta.url);',
        },
      });
    } catch (error) {
      const details = buildFailureMessages(error);
      throw new ModuleBuildError(file, details.length > 0 ? details : [String(error)]);
    }
    const cwd = path.dirname(file);
    let format: ModuleFormat | undefined;
    const inputs: string[] = [];
    for (const [input, meta] of Object.entries(result.metafile.inputs)) {
      const absolute = path.resolve(cwd, input);
      if (absolute === file) format = meta.format;
      if (!absolute.includes(`${path.sep}node_modules${path.sep}`)) inputs.push(absolute);
    }
    let exports: Record<string, unknown>;
    try {
      exports = await importNatively(this.#cacheDir, pathToFileURL(outfile).href);
    } finally {
      // The code is in memory now (or failed to load); the file would pile up on every reload.
      await rm(outfile, { force: true });
    }
    // esbuild classifies by syntax (and the package's "type"); a file with neither imports nor
    // exports is left unclassified and follows Node's rules.
    return { file, exports: { ...exports }, inputs, format: format ?? formatByNodeRules(file) };
  }
}
