#!/usr/bin/env node
// The CLI runs from the compiled output (`npm install` builds it through `prepare`).
import { existsSync } from "node:fs";
import { setFlagsFromString } from "node:v8";

// Before any of the gateway's code runs: V8's allocation-site pretenuring, once it sees the
// per-message objects of a loaded gateway survive a few scavenges, allocates them straight in
// the old generation; the dead ones then keep what they point to alive through every scavenge,
// and the server settles, at random, in a mode where the garbage collector takes a quarter of
// its CPU (measured: half the echo throughput, and 10-20x the bytes promoted; bench/README.md,
// "Before/after"). Messages are short-lived by design, so the gateway is better off without it.
setFlagsFromString("--no-allocation-site-pretenuring");

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("switchboard: dist/ is missing; run `npm run build` in the package first.\n");
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv);
