import { crashed } from "./report.mjs";

// A hand-written SVG chart (no dependencies): grouped bars on log scales, one group per scenario,
// one bar per system. Panels: throughput, p99 latency, memory.

const COLORS = {
  "raw-ws": "#8c8c8c",
  switchboard: "#1f6fd1",
  "sls-offline-inprocess": "#e8871e",
  "sls-offline": "#f2c078",
  architect: "#3a9a5b",
};

/** @param {string} s */
const esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** @param {number} v */
function short(v) {
  if (v >= 1e6) return `${(v / 1e6).toFixed(v >= 1e7 ? 0 : 1)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(v >= 1e4 ? 0 : 1)}k`;
  if (v >= 10) return v.toFixed(0);
  if (v >= 1) return v.toFixed(1);
  return v.toFixed(2);
}

/**
 * @typedef {{ label: string, values: Record<string, number | null | undefined> }} Group
 * @param {{ x: number, y: number, w: number, h: number, title: string, unit: string, groups: Group[], systems: string[] }} p
 */
function panel(p) {
  const all = /** @type {number[]} */ (
    p.groups.flatMap((g) => Object.values(g.values)).filter((v) => typeof v === "number" && v > 0)
  );
  const out = [];
  out.push(
    `<text x="${p.x}" y="${p.y - 8}" font-size="14" font-weight="bold">${esc(p.title)}</text>`,
  );
  if (all.length === 0) {
    out.push(`<text x="${p.x + 10}" y="${p.y + 30}" font-size="12">no data</text>`);
    return out.join("\n");
  }
  const lo = 10 ** Math.floor(Math.log10(Math.min(...all)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...all)) + 0.15);
  const plotX = p.x + 50;
  const plotW = p.w - 50;
  const plotH = p.h - 40;
  const y = (/** @type {number} */ v) =>
    p.y + plotH - (plotH * Math.log10(v / lo)) / Math.log10(hi / lo);
  out.push(
    `<rect x="${plotX}" y="${p.y}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#ccc"/>`,
  );
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const yy = y(d).toFixed(1);
    out.push(`<line x1="${plotX}" x2="${plotX + plotW}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    out.push(
      `<text x="${plotX - 6}" y="${Number(yy) + 4}" font-size="10" text-anchor="end">${short(d)}</text>`,
    );
  }
  out.push(
    `<text x="${p.x + 10}" y="${p.y + plotH / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 ${p.x + 10} ${p.y + plotH / 2})">${esc(p.unit)}</text>`,
  );
  const gw = plotW / p.groups.length;
  const bw = Math.min(26, (gw - 16) / p.systems.length);
  p.groups.forEach((g, gi) => {
    const gx = plotX + gi * gw + (gw - bw * p.systems.length) / 2;
    p.systems.forEach((sys, si) => {
      const v = g.values[sys];
      const bx = gx + si * bw;
      if (typeof v === "number" && v > 0) {
        const top = y(Math.max(v, lo));
        out.push(
          `<rect x="${bx.toFixed(1)}" y="${top.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(p.y + plotH - top).toFixed(1)}" fill="${COLORS[/** @type {keyof COLORS} */ (sys)] ?? "#555"}"><title>${esc(`${sys}: ${v}`)}</title></rect>`,
        );
        out.push(
          `<text x="${(bx + bw / 2 - 1).toFixed(1)}" y="${(top - 3).toFixed(1)}" font-size="9" text-anchor="middle">${short(v)}</text>`,
        );
      } else {
        out.push(
          `<text x="${(bx + bw / 2 - 1).toFixed(1)}" y="${p.y + plotH - 4}" font-size="8" fill="#999" text-anchor="middle">–</text>`,
        );
      }
    });
    out.push(
      `<text x="${(plotX + gi * gw + gw / 2).toFixed(1)}" y="${p.y + plotH + 16}" font-size="11" text-anchor="middle">${esc(g.label)}</text>`,
    );
  });
  return out.join("\n");
}

/** @param {any} report */
export function renderChart(report) {
  const systems = Object.keys(report.results ?? {});
  const get = (/** @type {string} */ sc, /** @type {(r: any) => number | null | undefined} */ f) =>
    Object.fromEntries(
      systems.map((s) => {
        const r = report.results[s]?.[sc];
        return [s, r && !r.skipped && !crashed(r) ? f(r) : undefined];
      }),
    );
  const firstRun = (/** @type {any} */ r) => r.runs?.[0];
  const lastRun = (/** @type {any} */ r) =>
    r.runs?.length > 1 ? r.runs[r.runs.length - 1] : undefined;
  const throughput = [
    { label: "1 route resp.", values: get("s1", (r) => r.msgsPerSec) },
    { label: "2 ctx.send", values: get("s2", (r) => r.msgsPerSec) },
    { label: "3 SDK HTTP", values: get("s3", (r) => r.msgsPerSec) },
    { label: "4 fan-out 1k", values: get("s4", (r) => firstRun(r)?.deliveriesPerSec) },
    { label: "4 fan-out 10k", values: get("s4", (r) => lastRun(r)?.deliveriesPerSec) },
    { label: "5 connects", values: get("s5", (r) => r.connPerSec) },
    { label: "7 burst", values: get("s7", (r) => r.msgsPerSec) },
  ];
  const p99 = [
    { label: "1 route resp.", values: get("s1", (r) => r.latency.p99) },
    { label: "1 @50% rate", values: get("s1", (r) => r.fixedRate?.latency?.p99) },
    { label: "2 ctx.send", values: get("s2", (r) => r.latency.p99) },
    { label: "3 SDK HTTP", values: get("s3", (r) => r.latency.p99) },
    { label: "4 last of 1k", values: get("s4", (r) => firstRun(r)?.timeToLastMs) },
    { label: "4 last of 10k", values: get("s4", (r) => lastRun(r)?.timeToLastMs) },
    { label: "5 handshake", values: get("s5", (r) => r.latency.p99) },
    { label: "7 burst", values: get("s7", (r) => r.latency.p99) },
  ];
  const memory = [
    { label: "6 KB per idle connection", values: get("s6", (r) => r.kbPerConn) },
    { label: "7 RSS peak in burst (MB)", values: get("s7", (r) => r.rssPeakMB) },
  ];
  const W = 1100;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="1010" viewBox="0 0 ${W} 1010" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="28" font-size="18" font-weight="bold">Switchboard benchmark ${esc(report.config.date.slice(0, 10))}${report.config.quick ? " (quick smoke run)" : ""}</text>`,
    `<text x="20" y="48" font-size="12" fill="#555">${esc(`${report.config.cpus}, Node ${report.config.node}; log scales; higher is better in the first panel, lower in the others; – = not run / n/a`)}</text>`,
  ];
  systems.forEach((s, i) => {
    const x = 20 + i * 215;
    parts.push(
      `<rect x="${x}" y="62" width="14" height="14" fill="${COLORS[/** @type {keyof COLORS} */ (s)] ?? "#555"}"/>`,
    );
    parts.push(
      `<text x="${x + 20}" y="74" font-size="12">${esc(report.systems[s]?.label ?? s)}</text>`,
    );
  });
  parts.push(
    panel({
      x: 20,
      y: 115,
      w: W - 40,
      h: 300,
      title: "Throughput (msgs/s, deliveries/s, connections/s)",
      unit: "per second",
      groups: throughput,
      systems,
    }),
  );
  parts.push(
    panel({
      x: 20,
      y: 450,
      w: W - 40,
      h: 300,
      title: "p99 latency (ms; fan-out: time until the last receiver)",
      unit: "ms",
      groups: p99,
      systems,
    }),
  );
  parts.push(
    panel({
      x: 20,
      y: 785,
      w: (W - 40) / 2,
      h: 210,
      title: "Memory",
      unit: "KB / MB",
      groups: memory,
      systems,
    }),
  );
  parts.push(
    `<text x="${W / 2 + 20}" y="830" font-size="11" fill="#555">Some peers ran scaled-down loads (Architect: fan-out to 300,</text>`,
    `<text x="${W / 2 + 20}" y="846" font-size="11" fill="#555">50 in flight in the burst; serverless-offline worker threads: 100 in flight).</text>`,
    `<text x="${W / 2 + 20}" y="862" font-size="11" fill="#555">See the notes in the Markdown report next to this chart.</text>`,
  );
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
