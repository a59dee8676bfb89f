import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * V8's `gc()` for the server the CLI runs, without asking the user for `--expose-gc`: the flag
 * is set only while one new context is created (V8 installs `gc` in contexts created while it
 * is on), then set back, so that the handlers' code, their `vm` contexts and `--isolate`
 * workers never see a `gc` global. Undefined when the runtime gives none.
 *
 * Node documents no API that asks V8 for a full GC (nor one that notifies its memory reducer);
 * `--expose-gc` is the documented way to get one (Node's CLI docs), and
 * `v8.setFlagsFromString` the documented way to set it from inside the process.
 */
export function fullGc(): (() => void) | undefined {
  const given = (globalThis as { gc?: unknown }).gc;
  // `node --expose-gc`: the user's own, and the flag stays as they set it.
  if (typeof given === "function") return () => (given as () => void)();
  try {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("typeof gc === 'function' ? gc : undefined");
    return typeof gc === "function" ? () => (gc as () => void)() : undefined;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}

/** `{ gc }` for a server's options, or nothing when the runtime gives no `gc`. */
export function withGc(): { gc?: () => void } {
  const gc = fullGc();
  return gc ? { gc } : {};
}
