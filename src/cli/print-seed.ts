import type { SeedReport } from "../dev/seed-run.js";

/** The dev seed's outcome: a line on stdout when it ran, on stderr (with what to do) when it failed. */
export function printSeedReport(report: SeedReport | undefined, json = false): void {
  if (!report) return;
  const ms = Math.round(report.durationMs);
  if (json) {
    const line = report.ok
      ? { level: "info", event: "seed", ok: true, durationMs: ms }
      : { level: "error", event: "seed", ok: false, error: report.error, durationMs: ms };
    const stream = report.ok ? process.stdout : process.stderr;
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
    return;
  }
  if (report.ok) process.stdout.write(`seed ran in ${ms}ms\n`);
  else {
    process.stderr.write(
      `seed failed: ${report.error}\nstill serving; fix the seed (it must be idempotent) and restart switchboard dev to run it again\n`,
    );
  }
}
