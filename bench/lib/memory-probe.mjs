// Preloaded into the server under a soak (`node --expose-gc --import <this> ...`; see
// bench/soak.mjs). On SIGUSR2 it writes the process's memory to $SOAK_MEMORY_FILE as JSON, in MB,
// doing what $SOAK_MEMORY_FILE.cmd says:
//   - `read`: `before` only, as it is (no GC);
//   - `gc`: `before`, then `afterGc`, after two forced full GCs 6 s apart, read 2 s after the
//     second. Two, because V8 shrinks its young generation only on a GC that sees a low
//     allocation rate, which it measures between its own GCs over the last 5 s: the first GC
//     after a burst frees the objects but keeps most of the heap committed. The 2 s: V8 unmaps
//     the freed pages from background threads.
// The server's own memory return (src/gateway/memory-return.ts) uses the same `gc` (it takes
// `globalThis.gc` when there is one): `read` is what it did by itself. A signal wakes the
// server's event loop, which then counts the time it was waiting as busy (one second at 35%
// measured): the soak signals only before the clients and after its last RSS reading.
import { readFileSync, writeFileSync } from "node:fs";

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
    if (readFileSync(`${file}.cmd`, "utf8").trim() !== "gc") {
      writeFileSync(file, JSON.stringify({ before }));
      return;
    }
    gc();
    setTimeout(() => {
      gc();
      setTimeout(() => writeFileSync(file, JSON.stringify({ before, afterGc: usage() })), 2000);
    }, 6000);
  });
}
