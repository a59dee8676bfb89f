// Renders a V8 .cpuprofile (node --cpu-prof) as a flame graph SVG and a Markdown summary of
// where the time went. No dependencies; the SVG works in any browser (hover a frame for its
// full name and time). Idle time is left out: the graph shows only the time the thread worked.

/**
 * @typedef {{ id: number, callFrame: { functionName: string, url: string, lineNumber: number },
 *   children?: number[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[] }} CpuProfile
 * @typedef {{ name: string, where: string, kind: string, self: number, total: number,
 *   children: Frame[] }} Frame
 */

const IDLE = "(idle)";
const MAX_DEPTH = 60;

/** Where a frame's code lives, for colour and the per-package table. @param {string} url */
function kindOf(url, name) {
  if (!url) return name.startsWith("(") ? "vm" : "native";
  if (url.includes("/node_modules/")) return "dependency";
  if (url.startsWith("node:")) return "node";
  return "app";
}

/** @param {string} url */
function shortUrl(url) {
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/);
  if (m) return `${m[1]}/${m[2]}`;
  return url.replace(/^file:\/\/.*?\/(dist|src|bench)\//, "$1/");
}

/** @param {string} url */
function packageOf(url, name) {
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) return m[1];
  if (url.startsWith("node:")) return "node:*";
  if (!url) return name.startsWith("(") ? name : "native (system calls, V8 builtins)";
  return shortUrl(url).split("/").slice(0, 2).join("/");
}

/** Self time (µs) of each profile node: the sum of the sampling intervals that landed in it. @param {CpuProfile} profile */
function selfTimes(profile) {
  /** @type {Map<number, number>} */
  const self = new Map();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return self;
}

/**
 * Builds the frame tree (µs) from a profile.
 * @param {CpuProfile} profile
 */
export function frameTree(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = selfTimes(profile);
  /** @param {ProfileNode} node @returns {Frame} */
  const build = (node) => {
    const cf = node.callFrame;
    const name = cf.functionName || "(anonymous)";
    const children = (node.children ?? [])
      .map((id) => byId.get(id))
      .filter((n) => n && n.callFrame.functionName !== IDLE)
      .map((n) => build(/** @type {ProfileNode} */ (n)));
    const s = Math.max(0, self.get(node.id) ?? 0);
    return {
      name,
      where: cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : "",
      kind: kindOf(cf.url, name),
      self: s,
      total: s + children.reduce((t, c) => t + c.total, 0),
      children: children.sort((a, b) => b.total - a.total),
    };
  };
  return build(/** @type {ProfileNode} */ (profile.nodes[0]));
}

const COLORS = {
  app: ["#f28e2b", "#e07b1a"],
  dependency: ["#59a14f", "#4a8f41"],
  node: ["#76b7b2", "#5fa39e"],
  native: ["#e15759", "#c94a4c"],
  vm: ["#bab0ac", "#a39994"],
};

/** @param {string} s */
const esc = (s) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * A flame graph: the root at the bottom, each frame as wide as its inclusive time.
 * @param {CpuProfile} profile @param {string} title
 */
export function renderFlame(profile, title) {
  const root = frameTree(profile);
  const W = 1200;
  const H = 17;
  const top = 40;
  const total = root.total || 1;
  /** @type {string[]} */
  const rects = [];
  let depthMax = 0;
  /** @param {Frame} f @param {number} x @param {number} depth */
  const draw = (f, x, depth) => {
    const w = (f.total / total) * (W - 20);
    // Frames under a pixel are noise here (module loading at start-up nests 100 deep).
    if (w < 1 || depth > MAX_DEPTH) return;
    depthMax = Math.max(depthMax, depth);
    rects.push(
      `<g data-depth="${depth}"><title>${esc(`${f.name} ${f.where}`)} — ${(f.total / 1000).toFixed(1)} ms (${((100 * f.total) / total).toFixed(1)}%), self ${(f.self / 1000).toFixed(1)} ms</title>` +
        `<rect x="${(10 + x).toFixed(2)}" y="{Y${depth}}" width="${w.toFixed(2)}" height="${H - 1}" fill="${COLORS[/** @type {keyof typeof COLORS} */ (f.kind)][depth % 2]}" rx="1"/>` +
        (w > 40
          ? `<text x="${(13 + x).toFixed(2)}" y="{T${depth}}">${esc(f.name.slice(0, Math.floor((w - 6) / 6.5)))}</text>`
          : "") +
        "</g>",
    );
    let cx = x;
    for (const c of f.children) {
      draw(c, cx, depth + 1);
      cx += (c.total / total) * (W - 20);
    }
  };
  draw({ ...root, name: "all (busy time)" }, 0, 0);
  const height = top + (depthMax + 1) * H + 40;
  const body = rects
    .join("\n")
    .replace(/\{Y(\d+)\}/g, (_, d) => String(height - 40 - (Number(d) + 1) * H))
    .replace(/\{T(\d+)\}/g, (_, d) => String(height - 40 - Number(d) * H - 4));
  const legend = Object.entries(COLORS)
    .map(
      ([k, [c]], i) =>
        `<rect x="${10 + i * 200}" y="${height - 22}" width="12" height="12" fill="${c}"/><text x="${26 + i * 200}" y="${height - 12}">${
          {
            app: "Switchboard / app code",
            dependency: "npm dependencies",
            node: "Node.js (JS)",
            native: "native, system calls",
            vm: "GC, VM",
          }[k]
        }</text>`,
    )
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="monospace" font-size="11">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="20" font-size="14" font-family="sans-serif">${esc(title)}</text>
<text x="10" y="34" font-family="sans-serif" fill="#555">busy time ${(total / 1e6).toFixed(2)} s (idle left out); width = inclusive time; hover for details</text>
${body}
${legend}
</svg>
`;
}

/**
 * Markdown: busy vs idle, self time by package and the heaviest functions.
 * @param {CpuProfile} profile @param {string} title @param {number} [top]
 */
export function summarizeProfile(profile, title, top = 25) {
  const self = selfTimes(profile);
  let all = 0;
  let idle = 0;
  /** @type {Map<string, number>} */
  const byFn = new Map();
  /** @type {Map<string, number>} */
  const byPkg = new Map();
  for (const n of profile.nodes) {
    const t = Math.max(0, self.get(n.id) ?? 0);
    all += t;
    const name = n.callFrame.functionName || "(anonymous)";
    if (name === IDLE) {
      idle += t;
      continue;
    }
    const url = n.callFrame.url;
    const fn = `\`${name}\` ${url ? `${shortUrl(url)}:${n.callFrame.lineNumber + 1}` : ""}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + t);
    const pkg = packageOf(url, name);
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + t);
  }
  const busy = all - idle || 1;
  /** @param {Map<string, number>} m @param {number} n */
  const rows = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `| ${k} | ${(v / 1000).toFixed(0)} | ${((100 * v) / busy).toFixed(1)}% |`)
      .join("\n");
  return `# ${title}

Profile of the server's main thread (\`node --cpu-prof\`) over the whole scenario, including
start-up. Busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s. Shares are of busy
time. Flame graph: the .svg beside this file; the .cpuprofile opens in Chrome DevTools or
speedscope.

## Self time by package

| package / area | ms | share |
| --- | --- | --- |
${rows(byPkg, 15)}

## Heaviest functions (self time)

| function | ms | share |
| --- | --- | --- |
${rows(byFn, top)}
`;
}
