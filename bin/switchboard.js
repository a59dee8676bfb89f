#!/usr/bin/env node
// The CLI runs from the compiled output (`npm install` builds it through `prepare`).
import { existsSync } from "node:fs";

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("switchboard: dist/ is missing; run `npm run build` in the package first.\n");
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv);
