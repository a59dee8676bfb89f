// Preloaded into the server under a soak (`node --expose-gc --import <this> ...`; see
// bench/soak.mjs). On SIGUSR2 it writes the process's memory to $SOAK_MEMORY_FILE as JSON, in MB:
// `before` (as it is), then `afterGc`, after two forced full GCs 5 s apart, read 2 s after the
// second. Two, because V8 gives committed pages back only on a GC that sees a low allocation
// rate: the first one after a burst frees the objects but keeps most of the heap committed.
// The 2 s: V8 unmaps the freed pages from background threads.
import { writeFileSync } from "node:fs";

const file = process.env.SOAK_MEMORY_FILE;
const mb = (bytes) => Math.round((bytes / 1048576) * 10) / 10;
function usage() {
  const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return {
    rss: mb(rss),
    heapTotal: mb(heapTotal),
    heapUsed: mb(heapUsed),
    external: mb(external),
    arrayBuffers: mb(arrayBuffers),
  };
}

if (file && typeof globalThis.gc === "function") {
  const gc = globalThis.gc;
  process.on("SIGUSR2", () => {
    const before = usage();
    gc();
    setTimeout(() => {
      gc();
      setTimeout(() => writeFileSync(file, JSON.stringify({ before, afterGc: usage() })), 2000);
    }, 5000);
  });
}
