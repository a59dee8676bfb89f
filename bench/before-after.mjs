#!/usr/bin/env node
// Before/after: this checkout's Switchboard against another commit's, scenario by scenario in
// alternating order, several rounds, reported as the median of the per-round ratios. One full
// run (run.mjs) measures each system's scenarios one after another, minutes apart; on a shared
// machine whose speed drifts by tens of percent between minutes, that cannot resolve a 10%
// change. Here both systems of a pair run back to back, and the order flips every round.
//
//   npm run build && node bench/before-after.mjs --baseline <checkout with dist/ built>
//     [--rounds 5] [--scenarios 1,2,3,4,5,6,7] [--threads n] [--out dir]
//
// Writes <out>/before-after-<date>.{json,md} (default bench/results). Not CI: it takes about
// 2.5 minutes a round with every scenario.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { LoadGen } from "./lib/loadgen.mjs";
import { openFileLimits, runUnderHardFileLimit, waitForQuiet } from "./lib/procstat.mjs";
import { perCpu } from "./lib/report.mjs";
import { defaults, SCENARIOS } from "./lib/scenarios.mjs";
import { BENCH, SYSTEMS, switchboardAt } from "./lib/systems.mjs";

const { values: opts } = parseArgs({
  options: {
    baseline: { type: "string" },
    rounds: { type: "string", default: "5" },
    scenarios: { type: "string", default: "1,2,3,4,5,6,7" },
    threads: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opts.help || !opts.baseline) {
  console.log(
    "Usage: node bench/before-after.mjs --baseline <checkout with dist/ built> [--rounds 5] [--scenarios 1,2,...] [--threads n] [--out dir]",
  );
  process.exit(opts.help ? 0 : 2);
}
runUnderHardFileLimit();
const fd = openFileLimits();
const rounds = Math.max(1, Number(opts.rounds));
const ids = opts.scenarios.split(",").map((s) => `s${s.trim()}`);
for (const id of ids) if (!(id in SCENARIOS)) throw new Error(`unknown scenario ${id}`);
const product = SYSTEMS.find((s) => s.id === "switchboard");
const baseline = switchboardAt("switchboard-baseline", "baseline", opts.baseline);
for (const system of [product, baseline]) {
  const ok = system?.available();
  if (!ok?.ok) throw new Error(`${system?.label}: ${ok?.reason}`);
}

/**
 * Each scenario's figure, and whether more is better. Scenario 1 without its fixed-rate phase
 * (a latency figure, not a before/after one).
 * @type {Record<string, { what: string, higher: boolean, of: (r: any) => number }>}
 */
const FIGURES = {
  s1: { what: "msgs/s", higher: true, of: (r) => r.msgsPerSec },
  s2: { what: "msgs/s", higher: true, of: (r) => r.msgsPerSec },
  s3: { what: "msgs/s", higher: true, of: (r) => r.msgsPerSec },
  s4: {
    what: "ms until the last of 10,000 has it",
    higher: false,
    of: (r) => r.runs.at(-1)?.timeToLastMs,
  },
  s5: { what: "connections/s", higher: true, of: (r) => r.connPerSec },
  s6: { what: "KB per idle connection", higher: false, of: (r) => r.kbPerConn },
  s7: { what: "ms until all 10,000 answered", higher: false, of: (r) => r.durationMs },
};
const CPU = new Set(["s1", "s2", "s3"]);

const threads = Number(opts.threads ?? Math.max(2, cpus().length));
const lg = new LoadGen(threads);
const log = (/** @type {string} */ line) => console.log(line);
/** @type {Array<{ round: number, scenario: string, system: string, figure: number, perCpu?: number }>} */
const samples = [];
const params = defaults(false, fd.hard);
params.s1 = { ...params.s1, fixedFraction: 0 };
try {
  for (let round = 1; round <= rounds; round++) {
    for (const id of ids) {
      const order = round % 2 === 1 ? [product, baseline] : [baseline, product];
      for (const system of order) {
        await waitForQuiet(10_000);
        const r = await SCENARIOS[id].run(
          { system, lg, quick: false, log: () => undefined, fdLimit: fd.hard },
          params[id],
        );
        const figure = FIGURES[id].of(r);
        samples.push({
          round,
          scenario: id,
          system: system.id,
          figure,
          ...(CPU.has(id) ? { perCpu: perCpu(r) } : {}),
        });
        log(
          `round ${round} ${id} ${system.id}: ${figure}${CPU.has(id) ? ` (${Math.round(perCpu(r))} per server CPU-s)` : ""}`,
        );
      }
    }
  }
} finally {
  await lg.terminate();
}

const median = (/** @type {number[]} */ xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** This checkout's figure over the baseline's, per round (> 1: more of it). */
const ratios = (/** @type {string} */ id, /** @type {"figure" | "perCpu"} */ key) =>
  [...new Set(samples.filter((x) => x.scenario === id).map((x) => x.round))].map((round) => {
    const at = (/** @type {string} */ sys) =>
      samples.find((x) => x.scenario === id && x.round === round && x.system === sys)?.[key] ?? NaN;
    return at("switchboard") / at("switchboard-baseline");
  });
const fmt = (/** @type {number} */ x) => x.toFixed(2);
const rows = ids.map((id) => {
  const f = FIGURES[id];
  const r = ratios(id, "figure");
  const cpu = CPU.has(id) ? ratios(id, "perCpu") : [];
  const m = median(r);
  // Better or worse in every round, or only in some: then the difference is within what this
  // machine's rounds spread over.
  const worse = r.filter((x) => (f.higher ? x < 1 : x > 1)).length;
  const verdict =
    worse === 0
      ? "not slower"
      : worse === r.length
        ? "slower"
        : `within the spread (${worse} of ${r.length} rounds worse)`;
  return {
    scenario: id,
    what: f.what,
    higherIsBetter: f.higher,
    ratios: r,
    median: m,
    perCpuRatios: cpu,
    perCpuMedian: cpu.length ? median(cpu) : undefined,
    verdict,
  };
});
const date = new Date().toISOString();
const outDir = opts.out ?? join(BENCH, "results");
mkdirSync(outDir, { recursive: true });
const base = join(outDir, `before-after-${date.replace(/:/g, "-").slice(0, 19)}`);
writeFileSync(
  `${base}.json`,
  JSON.stringify(
    { date, node: process.version, baseline: opts.baseline, rounds, samples, rows },
    null,
    2,
  ),
);
const md = [
  `# Before/after — ${date}`,
  "",
  `This checkout against \`${opts.baseline}\`, Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? "?"}: ${rounds} rounds, each scenario run for both systems back to back, the order flipped every round. Ratio: this checkout's figure over the baseline's, per round. Verdict: "slower" when worse in every round, "not slower" when in none.`,
  "",
  "| scenario | figure | ratio per round | median | per server CPU-s (median) | verdict |",
  "| --- | --- | --- | --- | --- | --- |",
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${r.what} (${r.higherIsBetter ? "higher" : "lower"} is better) | ${r.ratios.map(fmt).join(", ")} | ${fmt(r.median)} | ${r.perCpuMedian !== undefined ? fmt(r.perCpuMedian) : "–"} | ${r.verdict} |`,
  ),
  "",
];
writeFileSync(`${base}.md`, md.join("\n"));
log(`\n${md.join("\n")}\nWrote ${base}.{json,md}`);
