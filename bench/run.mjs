#!/usr/bin/env node
// Switchboard benchmark harness (issue 5). `npm run bench` runs every scenario against every
// system (Switchboard, a raw ws ceiling, serverless-offline in two modes, Architect Sandbox) and
// writes bench/results/<date>.{json,md,svg}. `npm run bench -- --quick` is a ~30 s smoke run.
// Load goes to 127.0.0.1 only and every phase is bounded in count and time.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { renderChart } from "./lib/chart.mjs";
import { LoadGen } from "./lib/loadgen.mjs";
import { openFileLimits, runUnderHardFileLimit, waitForQuiet } from "./lib/procstat.mjs";
import { evaluateTargets, renderMarkdown } from "./lib/report.mjs";
import { defaults, SCENARIOS } from "./lib/scenarios.mjs";
import { BENCH, ROOT, SYSTEMS } from "./lib/systems.mjs";

const HELP = `Usage: npm run bench -- [options]

  --quick               30-60 s smoke run (tiny loads; results go to bench/results/tmp/)
  --systems a,b         only these systems (${SYSTEMS.map((s) => s.id).join(", ")})
  --scenarios 1,2,7     only these scenarios (1-7)
  --peers               quick run: include the peers (installs them if missing)
  --no-install          full run: skip peers that are not installed instead of running npm ci
  --threads n           load-generator worker threads (default: number of cores, min 2)
  --out dir             where to write results (default bench/results, quick: bench/results/tmp)
  --budget s            stop starting new scenarios after s seconds (default 500, quick 90)
  --quiet-wait s        full run: wait up to s seconds in total for other jobs on the machine to
                        go quiet before scenarios (default 30; 0 = never wait)
  --profile             CPU-profile Switchboard's server in each scenario: a .cpuprofile, a flame
                        graph (.svg) and a summary (.md) per scenario in bench/results/tmp/profiles/
                        (profiling slows the server: the run's numbers are not comparable)
  --render file.json    only re-render the .md and .svg of an earlier run
  -h, --help`;

const { values: opts } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    systems: { type: "string" },
    scenarios: { type: "string" },
    peers: { type: "boolean", default: false },
    "no-install": { type: "boolean", default: false },
    threads: { type: "string" },
    out: { type: "string" },
    budget: { type: "string" },
    "quiet-wait": { type: "string" },
    render: { type: "string" },
    profile: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opts.help) {
  console.log(HELP);
  process.exit(0);
}
if (opts.render) {
  // Re-render the Markdown report and the chart of an earlier run (after a report change).
  const file = opts.render;
  const report = JSON.parse(readFileSync(file, "utf8"));
  report.targets = evaluateTargets(report);
  const base = file.replace(/\.json$/, "");
  writeFileSync(`${base}.md`, renderMarkdown(report, `${basename(base)}.svg`));
  writeFileSync(`${base}.svg`, renderChart(report));
  console.log(`Rewrote ${base}.md and ${base}.svg`);
  process.exit(0);
}

// Raise the soft open-files limit to the hard one (the idle scenario holds ~20,000 sockets in
// this process too).
runUnderHardFileLimit();
const fd = openFileLimits();

const quick = opts.quick;
const started = Date.now();
const budgetMs = Number(opts.budget ?? (quick ? 90 : 500)) * 1000;
const threads = Number(opts.threads ?? Math.max(2, cpus().length));
const outDir = opts.out ?? join(BENCH, "results", quick ? "tmp" : "");
const profileDir = opts.profile ? join(BENCH, "results", "tmp", "profiles") : undefined;
const log = (/** @type {string} */ m) => console.log(m);

/** @type {import("./lib/systems.mjs").ScenarioId[]} */
const scenarioIds = /** @type {any} */ (
  (opts.scenarios ?? "1,2,3,4,5,6,7").split(",").map((s) => `s${s.trim().replace(/^s/, "")}`)
);
for (const id of scenarioIds) if (!(id in SCENARIOS)) throw new Error(`unknown scenario ${id}`);
const wanted = opts.systems?.split(",").map((s) => s.trim());
const systems = SYSTEMS.filter((s) => !wanted || wanted.includes(s.id));

/** Installs a peer from its lockfile (or `apt:<package>` with apt-get). @param {string} name */
function installPeer(name) {
  if (name.startsWith("apt:")) {
    const pkg = name.slice(4);
    log(`  installing the Debian package ${pkg} (apt-get install -y ${pkg}) ...`);
    return (
      spawnSync("apt-get", ["install", "-y", pkg], { stdio: ["ignore", "inherit", "inherit"] })
        .status === 0
    );
  }
  log(`  installing bench/peers/${name} (npm ci) ...`);
  const r = spawnSync(
    "npm",
    ["ci", "--no-audit", "--no-fund", "--prefix", join(BENCH, "peers", name)],
    {
      stdio: ["ignore", "inherit", "inherit"],
      cwd: ROOT,
    },
  );
  return r.status === 0;
}

const config = {
  date: new Date().toISOString(),
  quick,
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? "?"}`,
  memoryGB: Math.round(totalmem() / 2 ** 30),
  openFiles: fd,
  loadgenThreads: threads,
  target: "127.0.0.1 (sources 127.0.0.1-9)",
  parameters: defaults(quick, fd.hard),
};

log(
  `Switchboard benchmark${quick ? " (quick smoke run)" : ""}: ${config.cpus}, ${config.memoryGB} GB, Node ${config.node}`,
);
log(
  `  load generator: ${threads} worker threads; open-files limit ${fd.soft}/${fd.hard}; budget ${budgetMs / 1000} s`,
);

/** @type {Record<string, any>} */
const results = {};
/** @type {Record<string, any>} */
const systemInfo = {};
const lg = new LoadGen(threads);
let exitCode = 0;
/** At most this much waiting, per run, for other jobs on the machine to finish. */
let quietWaitLeftMs = Number(opts["quiet-wait"] ?? 30) * 1000;
try {
  for (const system of systems) {
    let avail = system.available();
    if (!avail.ok && avail.install && (quick ? opts.peers : !opts["no-install"])) {
      if (installPeer(avail.install)) avail = system.available();
    }
    if (!avail.ok && system.role === "product") {
      // The smoke run exists to keep the harness working against Switchboard: say so loudly.
      log(`\n## ${system.label}: NOT RUN: ${avail.reason}`);
      systemInfo[system.id] = {
        label: system.label,
        role: system.role,
        skipped: `not run: ${avail.reason}`,
      };
      exitCode = 1;
      continue;
    }
    if (!avail.ok) {
      const why =
        avail.install && quick && !opts.peers
          ? `skipped in --quick (peers are not installed; add --peers, or ${avail.install.startsWith("apt:") ? `apt-get install ${avail.install.slice(4)}` : `run npm ci --prefix bench/peers/${avail.install}`})`
          : `skipped: ${avail.reason}`;
      log(`\n## ${system.label}: ${why}`);
      systemInfo[system.id] = { label: system.label, role: system.role, skipped: why };
      continue;
    }
    if (quick && system.role === "peer" && !opts.peers) {
      const why = "skipped in --quick (add --peers to include)";
      log(`\n## ${system.label}: ${why}`);
      systemInfo[system.id] = { label: system.label, role: system.role, skipped: why };
      continue;
    }
    systemInfo[system.id] = { label: system.label, role: system.role, version: system.version() };
    log(`\n## ${system.label} (${systemInfo[system.id].version})`);
    results[system.id] = {};
    for (const id of scenarioIds) {
      const sc = SCENARIOS[id];
      if (system.unsupported[id]) {
        results[system.id][id] = { skipped: `n/a: ${system.unsupported[id]}` };
        log(`  ${sc.title}: n/a (${system.unsupported[id]})`);
        continue;
      }
      if (Date.now() - started > budgetMs) {
        results[system.id][id] = { skipped: "time budget exhausted" };
        log(`  ${sc.title}: skipped (time budget of ${budgetMs / 1000} s exhausted)`);
        continue;
      }
      const base = /** @type {Record<string, any>} */ (defaults(quick, fd.hard)[id]);
      /** @type {Record<string, number | string>} */
      const over = { ...system.overrides[id] };
      // Quick runs keep a peer's scale-downs but never exceed the quick sizes.
      if (quick) {
        for (const [k, v] of Object.entries(over))
          if (typeof v === "number") over[k] = Math.min(v, base[k] ?? v);
      }
      const params = { ...base, ...over };
      log(`  ${sc.title}${system.notes[id] && !quick ? ` [${system.notes[id]}]` : ""}`);
      // Other jobs on these 2 cores (tests, builds) skew everything: wait a little for quiet.
      if (!quick && quietWaitLeftMs > 0) {
        const { waitedMs, load } = await waitForQuiet(quietWaitLeftMs);
        quietWaitLeftMs -= waitedMs;
        if (waitedMs > 0)
          log(
            `    (waited ${(waitedMs / 1000).toFixed(1)} s for other jobs on the machine; load now ${Math.round(load)}% of a core)`,
          );
      }
      const t0 = Date.now();
      try {
        const referenceRate = results["raw-ws"]?.[id]?.fixedRate?.targetRate;
        const r = await sc.run(
          { system, lg, quick, log, fdLimit: fd.hard, profileDir, referenceRate },
          params,
        );
        results[system.id][id] = {
          ...r,
          note: quick ? undefined : system.notes[id],
          elapsedMs: Date.now() - t0,
        };
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        log(`    FAILED: ${msg.split("\n").slice(0, 6).join("\n    ")}`);
        results[system.id][id] = { failed: msg.slice(0, 2000), elapsedMs: Date.now() - t0 };
        if (system.role !== "peer") exitCode = 1; // a broken harness or product, not a slow peer
      }
    }
  }
} finally {
  await lg.terminate();
}

/**
 * Scenario 3's calibration: the AWS SDK client alone, in one process, against an HTTP server that
 * does nothing (lib/sdk-ceiling.mjs). Bounds what any in-process emulator can reach there.
 */
function sdkCeiling() {
  log("\n## Calibration: AWS SDK PostToConnection alone (scenario 3's ceiling)");
  const { connections, depth } = defaults(quick, fd.hard).s3;
  const inFlight = Number(connections) * Number(depth);
  const r = spawnSync(process.execPath, [join(BENCH, "lib/sdk-ceiling.mjs"), String(inFlight)], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, NODE_NO_WARNINGS: "1" },
  });
  try {
    const out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "");
    log(
      `  ${out.callsPerSec} calls/s, ${out.cpuUsPerCall} µs of CPU per call, ${inFlight} in flight`,
    );
    return out;
  } catch {
    log(`  failed: ${(r.stderr || r.error?.message || "").slice(0, 500)}`);
    return undefined;
  }
}

/** @type {any} */
const report = {
  config,
  systems: systemInfo,
  results,
  ...(!quick && scenarioIds.includes("s3") ? { calibration: { sdkCeiling: sdkCeiling() } } : {}),
  durationSec: Math.round((Date.now() - started) / 1000),
};
report.targets = evaluateTargets(report);
const stamp = config.date.replace(/:/g, "-").replace(/\..*/, "");
const base = join(outDir, `${quick ? "quick-" : ""}${stamp}`);
mkdirSync(outDir, { recursive: true });
writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
const md = renderMarkdown(report, `${basename(base)}.svg`);
writeFileSync(`${base}.md`, md);
writeFileSync(`${base}.svg`, renderChart(report));
if (!quick && !opts.out && !opts.systems && !opts.scenarios) {
  // Stable names for the README to link to.
  for (const ext of ["json", "svg"]) copyFileSync(`${base}.${ext}`, join(outDir, `latest.${ext}`));
  writeFileSync(join(outDir, "latest.md"), renderMarkdown(report, "latest.svg"));
}
log(`\n${md}`);
log(`Wrote ${base}.json, .md and .svg in ${report.durationSec} s.`);
// Targets never fail the run (MISS is a finding); a crash of the harness or of Switchboard does.
process.exit(exitCode);
