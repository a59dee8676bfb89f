import type { App } from "../app/model.js";
import { exportAt } from "../app/module-exports.js";
import type { ModuleLoader } from "../app/module-loader.js";
import type { SeedInput } from "../runtime/seed.js";

/** How long a dev seed may run before it is reported as timed out (a Lambda's longest run is 15 min). */
export const SEED_TIMEOUT_MS = 60_000;

/** What running the seed did. */
export type SeedReport =
  | { ok: true; durationMs: number }
  | { ok: false; error: string; durationMs: number };

/** The seed's input for an app: its stage and its tables' physical names. */
export function seedInput(app: App): SeedInput {
  return {
    stage: app.stage,
    tables: Object.fromEntries((app.tables ?? []).map((t) => [t.declaredAs, t.name])),
  };
}

/**
 * Run the app's seed (`seed: "file#export"`) against the local tables: loaded by the dev
 * server's module loader, called with {@link seedInput}, bounded by {@link SEED_TIMEOUT_MS}.
 * Never throws: a failure (throws, rejects, times out, not a function) is the report.
 */
export async function runSeed(app: App, loader: ModuleLoader): Promise<SeedReport | undefined> {
  const target = app.seed;
  if (!target) return undefined;
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  let timer: NodeJS.Timeout | undefined;
  try {
    const fn = exportAt(await loader.load(target.file), target.export);
    if (typeof fn !== "function") throw new TypeError(`export ${target.export} is not a function`);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`did not finish within ${SEED_TIMEOUT_MS / 1000} s`)),
        SEED_TIMEOUT_MS,
      );
    });
    await Promise.race([Promise.resolve().then(() => fn(seedInput(app))), timeout]);
    return { ok: true, durationMs: elapsed() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: message, durationMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}
