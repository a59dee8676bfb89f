// Targets (PASS/MISS, never a failure) and the Markdown report.

/** @param {any} report @param {string} system @param {string} sc */
function ok(report, system, sc) {
  const r = report.results?.[system]?.[sc];
  return r && !r.skipped && !crashed(r) ? r : undefined;
}

/**
 * Whether a scenario crashed (run.mjs stores the error text in `failed`). A number there is a
 * scenario's own count, e.g. scenario 5's failed handshakes: a result, not a crash.
 * @param {any} r
 */
export const crashed = (r) => typeof r?.failed === "string";

/** Messages per CPU-second of the server: efficiency, less sensitive to a CPU-starved run. @param {any} r */
export const perCpu = (r) => (r?.server?.cpuPct > 0 ? (100 * r.msgsPerSec) / r.server.cpuPct : 0);

/** @param {number | null | undefined} x @param {number} [d] */
const fmt = (x, d = 0) =>
  x === null || x === undefined || Number.isNaN(x)
    ? "–"
    : Number(x).toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: 0 });

/**
 * @typedef {{ id: string, target: string, measured: string, status: "PASS" | "MISS" | "N/A" }} Target
 * @param {any} report
 * @returns {Target[]}
 */
export function evaluateTargets(report) {
  /** @type {Target[]} */
  const out = [];
  const sb = "switchboard";
  /** @param {string} id @param {string} target @param {boolean | undefined} pass @param {string} measured */
  const add = (id, target, pass, measured) =>
    out.push({ id, target, measured, status: pass === undefined ? "N/A" : pass ? "PASS" : "MISS" });

  for (const [sc, min] of /** @type {[string, number][]} */ ([
    ["s1", 0.6],
    ["s2", 0.5],
  ])) {
    const s = ok(report, sb, sc);
    const raw = ok(report, "raw-ws", sc);
    const ratio = s && raw && raw.msgsPerSec > 0 ? s.msgsPerSec / raw.msgsPerSec : undefined;
    add(
      `${sc}-vs-raw`,
      `Scenario ${sc.slice(1)}: ≥ ${min * 100}% of raw ws msgs/s`,
      ratio === undefined ? undefined : ratio >= min,
      ratio === undefined
        ? "not measured"
        : `${fmt(s.msgsPerSec)} / ${fmt(raw.msgsPerSec)} = ${fmt(ratio * 100, 1)}%` +
            `; per server CPU-second: ${fmt(perCpu(s))} / ${fmt(perCpu(raw))} = ${fmt((100 * perCpu(s)) / perCpu(raw), 1)}%`,
    );
  }
  {
    // "p99 under 5 ms at half of that load": half of raw ws's maximum, the load the target
    // sentence names, so raw ws's p99 at the same rate is the noise floor beside it. Without a
    // raw ws run (or when both halves coincide), Switchboard's run at half its own maximum.
    const s = ok(report, sb, "s1");
    const rawFixed = ok(report, "raw-ws", "s1")?.fixedRate;
    const sameRate = (/** @type {any} */ a, /** @type {any} */ b) =>
      a && b && Math.abs(a.targetRate - b.targetRate) / b.targetRate <= 0.02;
    const atRaw =
      s?.fixedRateAtReference ?? (sameRate(s?.fixedRate, rawFixed) ? s?.fixedRate : undefined);
    const f = atRaw ?? s?.fixedRate;
    const own = atRaw && atRaw !== s?.fixedRate ? s?.fixedRate : undefined;
    add(
      "s1-p99",
      `Scenario 1: p99 < 5 ms at half of ${atRaw ? "raw ws's" : "its own"} max load (fixed rate)`,
      f?.latency?.p99 == null ? undefined : f.latency.p99 < 5,
      f
        ? `p99 ${fmt(f.latency.p99, 2)} ms at ${fmt(f.targetRate)} msg/s` +
            (rawFixed?.latency?.p99 == null
              ? ""
              : `; noise floor: raw ws at ${fmt(rawFixed.targetRate)} msg/s had p99 ${fmt(rawFixed.latency.p99, 2)} ms`) +
            (own
              ? `; at half of Switchboard's own max (${fmt(own.targetRate)} msg/s): ${fmt(own.latency.p99, 2)} ms`
              : "")
        : "not measured",
    );
  }
  // What the ratio could be at most if Switchboard cost nothing over a bare `ws` echo server.
  /** @param {string} sc @param {number} best */
  const ceiling = (sc, best) => {
    const sdk = report.calibration?.sdkCeiling;
    if (sc === "s3" && sdk?.callsPerSec > 0 && best > 0 && sdk.callsPerSec / best < 20) {
      return `; the SDK alone, against an HTTP server that does nothing, makes ${fmt(sdk.callsPerSec)} calls/s = ${fmt(sdk.callsPerSec / best, 1)}x`;
    }
    const raw = ok(report, "raw-ws", sc);
    if (!raw || !(best > 0) || raw.msgsPerSec / best >= 20) return "";
    return `; raw ws itself is ${fmt(raw.msgsPerSec / best, 1)}x${sc === "s1" ? "" : " (with no handler or send API)"}`;
  };
  for (const [peerLabel, ids] of [
    ["serverless-offline (fastest mode)", ["sls-offline-inprocess", "sls-offline"]],
    ["Architect Sandbox", ["architect"]],
  ]) {
    for (const sc of ["s1", "s2", "s3"]) {
      const s = ok(report, sb, sc);
      const peers = /** @type {string[]} */ (ids).map((p) => ok(report, p, sc)).filter(Boolean);
      const best = peers.length ? Math.max(...peers.map((p) => p.msgsPerSec)) : undefined;
      const ratio =
        s && best !== undefined
          ? best > 0
            ? s.msgsPerSec / best
            : Number.POSITIVE_INFINITY
          : undefined;
      const na = /** @type {string[]} */ (ids)
        .map((p) => report.results?.[p]?.[sc]?.skipped)
        .find((x) => x && String(x).startsWith("n/a"));
      add(
        `${sc}-vs-${ids[0]}`,
        `Scenario ${sc.slice(1)}: ≥ 20x ${peerLabel} msgs/s`,
        ratio === undefined ? undefined : ratio >= 20,
        ratio === undefined
          ? (na ?? "not measured")
          : `${fmt(s.msgsPerSec)} / ${fmt(best, 1)} = ${fmt(ratio, 1)}x${ceiling(sc, best)}`,
      );
    }
  }
  {
    const s = ok(report, sb, "s6");
    const raw = ok(report, "raw-ws", "s6");
    const ratio = s && raw && raw.bytesPerConn > 0 ? s.bytesPerConn / raw.bytesPerConn : undefined;
    add(
      "s6-memory",
      "Scenario 6: memory per idle connection ≤ 1.5x raw ws",
      ratio === undefined ? undefined : ratio <= 1.5,
      ratio === undefined
        ? "not measured"
        : `${fmt(s.kbPerConn, 2)} KB / ${fmt(raw.kbPerConn, 2)} KB = ${fmt(ratio, 2)}x (${fmt(s.opened)} / ${fmt(raw.opened)} connections)`,
    );
  }
  {
    const s = ok(report, sb, "s7");
    add(
      "s7-burst",
      "Scenario 7: 0 lost, 0 error frames, RSS < 300 MB",
      s ? s.lost === 0 && s.errorFrames === 0 && s.rssPeakMB < 300 : undefined,
      s
        ? `${fmt(s.sent)} sent, ${fmt(s.lost)} lost, ${fmt(s.errorFrames)} error frames, RSS peak ${fmt(s.rssPeakMB, 1)} MB`
        : "not measured",
    );
  }
  return out;
}

/** @param {string[]} head @param {(string | number)[][]} rows */
function table(head, rows) {
  const line = (/** @type {(string|number)[]} */ cells) =>
    `| ${cells.map((c) => String(c).replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** @param {any} report @param {string} chartFile */
export function renderMarkdown(report, chartFile) {
  const { config } = report;
  const ids = Object.keys(report.systems);
  const label = (/** @type {string} */ id) => report.systems[id]?.label ?? id;
  const L = [];
  L.push(
    `# Switchboard benchmark — ${config.date}${config.quick ? " (quick smoke run: numbers are not meaningful)" : ""}`,
  );
  L.push("");
  L.push(
    `Machine: ${config.cpus}, ${config.memoryGB} GB RAM, ${config.platform}, Node ${config.node}. ` +
      `Client: one process, ${config.loadgenThreads} load-generator threads, to 127.0.0.1 (open-files limit ${config.openFiles.soft}/${config.openFiles.hard}). ` +
      `Server and client share the 2 cores. Run took ${report.durationSec} s.`,
  );
  L.push("");
  const noisy = [];
  for (const id of ids) {
    for (const [sc, r] of Object.entries(report.results?.[id] ?? {})) {
      const a = /** @type {any} */ (r);
      const o = a?.server?.otherCpuPct;
      if (o > 20) noisy.push(`${id} ${sc} (${fmt(o)}%)`);
      const f = a?.fixedRate?.server?.otherCpuPct;
      if (f > 20) noisy.push(`${id} ${sc} fixed rate (${fmt(f)}%)`);
    }
  }
  if (noisy.length) {
    L.push(
      `> **Warning: other processes used more than 20% of a core during ${noisy.length} measurement(s)**: ${noisy.join(", ")}. Those numbers are skewed; rerun on an idle machine.`,
    );
    L.push("");
  }
  L.push(`![throughput and p99 per system and scenario](${chartFile})`);
  L.push("");
  L.push("Systems:");
  L.push("");
  for (const id of ids) {
    const s = report.systems[id];
    L.push(`- **${s.label}** (\`${id}\`): ${s.skipped ?? s.version}`);
  }
  L.push("");
  L.push("## Targets");
  L.push("");
  L.push(
    table(
      ["target", "measured (same run)", "result"],
      report.targets.map((/** @type {Target} */ t) => [t.target, t.measured, t.status]),
    ),
  );
  L.push("");

  const cell = (/** @type {string} */ id, /** @type {string} */ sc) => report.results?.[id]?.[sc];
  {
    // Every ratio, not only the targeted ones (e.g. against serverless-offline's default mode).
    const others = ids.filter((id) => id !== "switchboard");
    const rows = ["s1", "s2", "s3", "s7"].map((sc) => {
      const s = ok(report, "switchboard", sc);
      return [
        `Scenario ${sc.slice(1)}`,
        ...others.map((id) => {
          const o = ok(report, id, sc);
          return s && o && o.msgsPerSec > 0 ? `${fmt(s.msgsPerSec / o.msgsPerSec, 2)}x` : "–";
        }),
      ];
    });
    L.push(
      "Switchboard msgs/s divided by each system's, same run (scenario 7: answers/s of the burst):",
    );
    L.push("");
    L.push(table(["", ...others.map(label)], rows));
    L.push("");
  }
  const why = (/** @type {any} */ r) =>
    r?.skipped ? r.skipped : crashed(r) ? `FAILED: ${String(r.failed).split("\n")[0]}` : "not run";
  const cpu = (/** @type {any} */ r) =>
    r?.server ? `${fmt(r.server.cpuPct)}% / ${fmt(r.server.clientCpuPct ?? r.clientCpuPct)}%` : "–";
  const rss = (/** @type {any} */ r) =>
    r?.server ? `${fmt(r.server.rssEndMB)} (peak ${fmt(r.server.rssPeakMB)})` : "–";

  const echoTitles = {
    s1: "Scenario 1 — echo through a two-way route (route response)",
    s2: "Scenario 2 — echo through `ctx.send` (typed API, in-process management)",
    s3: "Scenario 3 — echo through a plain Lambda handler calling AWS SDK `PostToConnection` over HTTP",
  };
  for (const [sc, title] of Object.entries(echoTitles)) {
    L.push(`## ${title}`);
    L.push("");
    const p = config.parameters[sc];
    L.push(
      `Closed loop: ${p.connections} connections × ${p.depth} in flight (defaults; per-system changes in the notes), ${p.warmupMs / 1000} s warm-up, ${p.durationMs / 1000} s measured. Latency from an HDR histogram (µs resolution).`,
    );
    L.push("");
    const raw = cell("raw-ws", sc);
    const rows = ids.map((id) => {
      const r = cell(id, sc);
      if (!r || r.skipped || crashed(r))
        return [label(id), why(r), "", "", "", "", "", "", "", "", ""];
      return [
        label(id),
        fmt(r.msgsPerSec),
        raw?.msgsPerSec ? `${fmt((100 * r.msgsPerSec) / raw.msgsPerSec, 1)}%` : "–",
        fmt(perCpu(r)),
        fmt(r.latency.p50, 2),
        fmt(r.latency.p90, 2),
        fmt(r.latency.p99, 2),
        fmt(r.latency.max, 1),
        `${fmt(r.errorFrames)} / ${fmt(r.unanswered)}`,
        cpu(r),
        rss(r) + (r.note ? ` — ${r.note}` : ""),
      ];
    });
    L.push(
      table(
        [
          "system",
          "msgs/s",
          "of raw ws",
          "msgs per server CPU-s",
          "p50 ms",
          "p90 ms",
          "p99 ms",
          "max ms",
          "error frames / unanswered",
          "CPU server / client",
          "server RSS MB; notes",
        ],
        rows,
      ),
    );
    L.push("");
    if (sc === "s1") {
      L.push(
        `Fixed rate (open loop, latency from the intended send time): ${config.parameters.s1.fixedFraction * 100}% of each system's own closed-loop maximum, ${config.parameters.s1.fixedDurationMs / 1000} s; Switchboard also at raw ws's rate, when the two differ.`,
      );
      L.push("");
      const frows = ids
        .flatMap((id) => [
          [id, cell(id, "s1")?.fixedRate, ""],
          [id, cell(id, "s1")?.fixedRateAtReference, " (at raw ws's rate)"],
        ])
        .filter(([, f]) => f)
        .map(([id, f, suffix]) => [
          `${label(id)}${suffix}`,
          fmt(f.targetRate),
          fmt(f.msgsPerSec),
          fmt(f.latency.p50, 2),
          fmt(f.latency.p90, 2),
          fmt(f.latency.p99, 2),
          fmt(f.latency.max, 1),
          `${fmt(f.skipped)}`,
          `${fmt(f.server.cpuPct)}% / ${fmt(f.server.clientCpuPct)}% / ${fmt(f.server.otherCpuPct)}%`,
        ]);
      L.push(
        table(
          [
            "system",
            "target msg/s",
            "achieved msg/s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms",
            "not sent (saturated)",
            "CPU server / client / other jobs",
          ],
          frows,
        ),
      );
      L.push("");
    }
  }

  L.push(
    "## Scenario 4 — broadcast fan-out: one message to every connection, time until the last receives it",
  );
  L.push("");
  {
    const rows = [];
    for (const id of ids) {
      const r = cell(id, "s4");
      if (!r || r.skipped || crashed(r)) {
        rows.push([label(id), why(r), "", "", "", "", ""]);
        continue;
      }
      for (const run of r.runs) {
        rows.push([
          label(id),
          fmt(run.connections),
          `${fmt(run.timeToLastMs, 1)} (${run.timeToLastAll.map((/** @type {number} */ x) => fmt(x, 0)).join(", ")})`,
          fmt(run.deliveriesPerSec),
          fmt(run.latency?.p50, 1),
          `${fmt(run.missing)} / ${fmt(run.errorFrames)}`,
          cpu(r) + (r.note ? ` — ${r.note}` : ""),
        ]);
      }
    }
    L.push(
      table(
        [
          "system",
          "connections",
          "time to last ms (median; all rounds)",
          "deliveries/s",
          "median delivery ms",
          "missing / error frames",
          "CPU server / client; notes",
        ],
        rows,
      ),
    );
  }
  L.push("");

  L.push("## Scenario 5 — connect storm through `$connect` + authorizer");
  L.push("");
  {
    const rows = ids.map((id) => {
      const r = cell(id, "s5");
      if (!r || r.skipped || crashed(r)) return [label(id), why(r), "", "", "", "", "", ""];
      return [
        label(id),
        `${fmt(r.opened)} / ${fmt(r.params.count)} (${r.params.concurrency} at a time)`,
        fmt(r.connPerSec),
        fmt(r.latency.p50, 2),
        fmt(r.latency.p99, 2),
        Object.keys(r.errors).length ? JSON.stringify(r.errors) : "0",
        r.wrongTokenRefused,
        cpu(r) + (r.note ? ` — ${r.note}` : ""),
      ];
    });
    L.push(
      table(
        [
          "system",
          "connected",
          "connections/s",
          "handshake p50 ms",
          "p99 ms",
          "errors",
          "wrong token refused",
          "CPU server / client; notes",
        ],
        rows,
      ),
    );
  }
  L.push("");

  L.push("## Scenario 6 — idle connections: server RSS per connection");
  L.push("");
  {
    const raw = cell("raw-ws", "s6");
    const rows = ids.map((id) => {
      const r = cell(id, "s6");
      if (!r || r.skipped || crashed(r)) return [label(id), why(r), "", "", "", "", ""];
      return [
        label(id),
        `${fmt(r.opened)} (${fmt(r.stillOpen)} still open)`,
        `${fmt(r.rssBeforeMB, 1)} → ${fmt(r.rssAfterMB, 1)}`,
        fmt(r.kbPerConn, 2),
        raw?.bytesPerConn ? `${fmt(r.bytesPerConn / raw.bytesPerConn, 2)}x` : "–",
        fmt(r.connPerSec),
        (r.note ?? "") +
          (Object.keys(r.errors).length ? ` errors ${JSON.stringify(r.errors)}` : ""),
      ];
    });
    L.push(
      table(
        [
          "system",
          "connections",
          "server RSS MB (before → after)",
          "KB / connection",
          "vs raw ws",
          "connect rate /s",
          "notes",
        ],
        rows,
      ),
    );
  }
  L.push("");

  L.push("## Scenario 7 — burst: messages in flight at once, none may be lost");
  L.push("");
  {
    const rows = ids.map((id) => {
      const r = cell(id, "s7");
      if (!r || r.skipped || crashed(r)) return [label(id), why(r), "", "", "", "", "", ""];
      return [
        label(id),
        `${fmt(r.sent)} (${r.connections} × ${r.params.perConn})`,
        fmt(r.lost),
        fmt(r.errorFrames),
        fmt(r.durationMs),
        fmt(r.latency.p99, 1),
        fmt(r.rssPeakMB, 1),
        cpu(r) + (r.note ? ` — ${r.note}` : ""),
      ];
    });
    L.push(
      table(
        [
          "system",
          "in flight",
          "lost",
          "error frames",
          "all answered after ms",
          "p99 ms",
          "server RSS peak MB",
          "CPU server / client; notes",
        ],
        rows,
      ),
    );
  }
  L.push("");
  L.push(
    "CPU is in % of one core (the machine has 2), sampled from /proc/<pid>/stat over the measured phase; server figures cover the whole process tree (Architect runs a process per invocation). The client is the load generator process. `server.otherCpuPct` in the JSON is what the rest of the machine used meanwhile.",
  );
  L.push("");
  return L.join("\n");
}
