import { findSourceMap } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Switchboard's own code (`src/` when run from source, `dist/` when installed). */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OWN = ["src", "dist"].flatMap((dir) => {
  const folder = path.join(ROOT, dir) + path.sep;
  return [folder, pathToFileURL(folder).href];
});
const BUNDLES = `${path.sep}.switchboard${path.sep}modules${path.sep}`;

/** A stack frame that is not the app's: Node's internals, or the gateway and invoker around it. */
function isInternal(frame: string): boolean {
  return (
    /\(node:|at node:|\(<anonymous>\)$|\(native\)$/.test(frame) ||
    frame.includes(`${BUNDLES}native-import.cjs`) ||
    OWN.some((own) => frame.includes(own))
  );
}

/** `…/.switchboard/modules/<name>.mjs:L:C` in a frame: the bundle and its position. */
const BUNDLE_POSITION =
  /((?:file:\/\/)?[^\s()]+\.switchboard[\\/]modules[\\/][^\s():]+\.mjs):(\d+):(\d+)/;

/**
 * A frame in a built handler bundle, pointed at the source it came from (the loader's bundles
 * carry inline source maps, which Node keeps once source maps are on). Node does this itself
 * unless something replaced `Error.prepareStackTrace` (a test runner, `source-map-support`),
 * so it is done here as well; a frame it cannot map stays as it is.
 */
function mapFrame(frame: string): string {
  const match = BUNDLE_POSITION.exec(frame);
  if (!match) return frame;
  const [whole, file = "", line = "0", column = "0"] = match;
  const url = file.startsWith("file:") ? file : pathToFileURL(file).href;
  const entry = findSourceMap(url)?.findEntry(Number(line) - 1, Number(column) - 1) as
    | { originalSource?: string; originalLine?: number; originalColumn?: number }
    | undefined;
  if (!entry?.originalSource || entry.originalLine === undefined) return frame;
  const source = entry.originalSource.startsWith("file:")
    ? fileURLToPath(entry.originalSource)
    : entry.originalSource;
  return frame.replace(
    whole,
    `${source}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1}`,
  );
}

/**
 * A handler's stack as its author wants it: the message and the app's frames, mapped to its
 * `src/` files, without the frames of Node and of Switchboard's invoker below them. A stack
 * with no frame of the app's keeps its frames.
 */
export function trimStack(stack: string): string {
  const lines = stack.split("\n").map((line) => (/^\s+at /.test(line) ? mapFrame(line) : line));
  const kept = lines.filter((line) => !/^\s+at /.test(line) || !isInternal(line));
  if (!kept.some((line) => /^\s+at /.test(line))) return lines.join("\n");
  return kept.join("\n");
}
