// The seven scenarios of issue 5. Each starts a fresh server for the system under test, drives
// it with the load generator, samples the server's CPU and RSS, and stops it.

import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderFlame, summarizeProfile } from "./flame.mjs";
import { sleep } from "./proc.mjs";
import { mb, round, Sampler, sampleTree } from "./procstat.mjs";

/** Several loopback source addresses, so large scenarios do not run out of ephemeral ports. */
export const SOURCE_ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);

/**
 * @typedef {import("./systems.mjs").System} System
 * @typedef {import("./systems.mjs").ScenarioId} ScenarioId
 * @typedef {import("./systems.mjs").Running} Running
 * @typedef {import("./loadgen.mjs").LoadGen} LoadGen
 * @typedef {{ system: System, lg: LoadGen, quick: boolean, log: (msg: string) => void, fdLimit: number, profileDir?: string, referenceRate?: number }} Ctx
 */

/** Default parameters; a system's `overrides` win. @param {boolean} quick @param {number} fdLimit */
export function defaults(quick, fdLimit) {
  return {
    s1: quick
      ? {
          connections: 16,
          depth: 1,
          warmupMs: 300,
          durationMs: 1000,
          fixedWarmupMs: 300,
          fixedDurationMs: 1000,
          fixedFraction: 0.5,
        }
      : {
          connections: 64,
          depth: 4,
          warmupMs: 2000,
          durationMs: 6000,
          fixedWarmupMs: 1000,
          fixedDurationMs: 6000,
          fixedFraction: 0.5,
        },
    s2: quick
      ? { connections: 16, depth: 1, warmupMs: 300, durationMs: 1000 }
      : { connections: 64, depth: 4, warmupMs: 2000, durationMs: 6000 },
    s3: quick
      ? { connections: 16, depth: 1, warmupMs: 300, durationMs: 1000 }
      : { connections: 64, depth: 4, warmupMs: 2000, durationMs: 6000 },
    s4: quick
      ? { small: 200, large: 0, maxConnections: 200, rounds: 1, concurrency: 64, timeoutMs: 10_000 }
      : {
          small: 1000,
          large: 10_000,
          maxConnections: 10_000,
          rounds: 3,
          largeRounds: 2,
          concurrency: 64,
          timeoutMs: 30_000,
        },
    s5: quick ? { count: 200, concurrency: 100 } : { count: 5000, concurrency: 100 },
    s6: quick
      ? { count: 500, concurrency: 64, settleMs: 500 }
      : // 20,000 wanted; the hard open-files limit of this machine is 20,000 per process and the
        // server needs a few descriptors of its own.
        { count: Math.min(20_000, fdLimit - 500), concurrency: 64, settleMs: 2000 },
    s7: quick
      ? { connections: 20, perConn: 50, timeoutMs: 10_000 }
      : { connections: 100, perConn: 100, timeoutMs: 30_000 },
  };
}

/**
 * Runs `body` against a fresh server of `ctx.system`; always stops the server.
 * @template T
 * @param {Ctx} ctx @param {ScenarioId} id @param {(srv: Running) => Promise<T>} body
 */
async function withServer(ctx, id, body) {
  const t0 = performance.now();
  const profileDir = ctx.profileDir && ctx.system.role === "product" ? ctx.profileDir : undefined;
  const profilesBefore = profileDir ? listProfiles(profileDir) : new Set();
  const srv = await ctx.system.start(id, { profileDir });
  const startupMs = Math.round(performance.now() - t0);
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  try {
    const result = await body(srv);
    const cpu = process.cpuUsage(cpu0);
    const wall = (performance.now() - w0) / 1000;
    return {
      ...result,
      serverStartupMs: startupMs,
      serverAlive: !srv.exited(),
      clientCpuPct: round((100 * (cpu.user + cpu.system)) / 1e6 / wall, 1),
    };
  } finally {
    await ctx.lg.closeAll({ timeoutMs: 3000 }).catch(() => undefined);
    await srv.stop();
    if (profileDir) writeProfileReport(ctx, profileDir, profilesBefore, id);
  }
}

/** @param {string} dir */
function listProfiles(dir) {
  mkdirSync(dir, { recursive: true });
  return new Set(readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")));
}

/**
 * The server's CPU profile of one scenario: renamed to `<system>-<scenario>.cpuprofile`, with a
 * flame graph (.svg) and a Markdown summary (.md) beside it.
 * @param {Ctx} ctx @param {string} dir @param {Set<string>} before @param {string} id
 */
function writeProfileReport(ctx, dir, before, id) {
  const fresh = [...listProfiles(dir)].filter((f) => !before.has(f));
  if (fresh.length === 0) {
    ctx.log("    (no CPU profile was written: did the server exit gracefully?)");
    return;
  }
  // The main thread's profile is the biggest (workers, if any, write their own).
  const biggest = fresh
    .map((f) => ({ f, size: statSync(join(dir, f)).size }))
    .sort((a, b) => b.size - a.size)[0];
  const base = join(dir, `${ctx.system.id}-${id}`);
  renameSync(join(dir, /** @type {{ f: string }} */ (biggest).f), `${base}.cpuprofile`);
  const profile = JSON.parse(readFileSync(`${base}.cpuprofile`, "utf8"));
  const title = `${ctx.system.label}, ${SCENARIOS[/** @type {ScenarioId} */ (id)]?.title ?? id}`;
  writeFileSync(`${base}.svg`, renderFlame(profile, title));
  writeFileSync(`${base}.md`, summarizeProfile(profile, title));
  ctx.log(`    CPU profile: ${base}.{cpuprofile,svg,md}`);
}

/** @param {Ctx} ctx @param {Running} srv @param {number} n @param {object} [extra] */
async function open(ctx, srv, n, extra = {}) {
  const r = await ctx.lg.connect({
    url: srv.url,
    count: n,
    concurrency: 64,
    timeoutMs: 10_000,
    ...extra,
  });
  if (r.failed > 0)
    ctx.log(`    ${r.failed} of ${n} connections failed: ${JSON.stringify(r.errors)}`);
  return r;
}

/**
 * Closed-loop echo (max throughput), optionally followed by a fixed-rate run at a fraction of it.
 * @param {Ctx} ctx @param {ScenarioId} id @param {string} route @param {any} p
 */
async function echoScenario(ctx, id, route, p) {
  return withServer(ctx, id, async (srv) => {
    const conn = await open(ctx, srv, p.connections);
    if (conn.opened === 0) throw new Error(`no connection opened: ${JSON.stringify(conn.errors)}`);
    const sampler = new Sampler(srv.pid);
    const closed = await ctx.lg.echo({
      mode: "closed",
      route,
      warmupMs: p.warmupMs,
      durationMs: p.durationMs,
      depth: p.depth,
    });
    const server = sampler.stop();
    ctx.log(
      `    closed loop: ${closed.msgsPerSec} msg/s, p50 ${closed.latency.p50} p99 ${closed.latency.p99} max ${closed.latency.max} ms, server CPU ${server.cpuPct}%, errors ${closed.errorFrames}/${closed.unanswered}`,
    );
    /** @param {number} rate */
    const fixedRun = async (rate) => {
      const s2 = new Sampler(srv.pid);
      const f = await ctx.lg.echo({
        mode: "fixed",
        route,
        rate,
        warmupMs: p.fixedWarmupMs,
        durationMs: p.fixedDurationMs,
      });
      const out = { targetRate: rate, ...f, server: s2.stop() };
      ctx.log(
        `    fixed rate ${rate}/s: ${f.msgsPerSec} msg/s, p50 ${f.latency.p50} p99 ${f.latency.p99} max ${f.latency.max} ms (from actual send: p99 ${f.latencyFromSend?.p99}), server CPU ${out.server.cpuPct}%`,
      );
      return out;
    };
    /** @type {any} */
    let fixed;
    /** @type {any} */
    let fixedAtReference;
    if (p.fixedFraction && closed.msgsPerSec > 0) {
      fixed = await fixedRun(Math.max(1, Math.round(closed.msgsPerSec * p.fixedFraction)));
      // The product also runs at the ceiling's rate (half of raw ws's maximum), so its p99 can
      // be set beside raw ws's at the very same load.
      const ref = ctx.system.role === "product" ? ctx.referenceRate : undefined;
      if (ref && Math.abs(ref - fixed.targetRate) / ref > 0.02)
        fixedAtReference = await fixedRun(ref);
    }
    return {
      params: p,
      connections: conn.opened,
      connectErrors: conn.errors,
      msgsPerSec: closed.msgsPerSec,
      latency: closed.latency,
      sent: closed.sent,
      received: closed.received,
      errorFrames: closed.errorFrames,
      unparsed: closed.unparsed,
      unanswered: closed.unanswered,
      server,
      ...(fixed ? { fixedRate: fixed } : {}),
      ...(fixedAtReference ? { fixedRateAtReference: fixedAtReference } : {}),
    };
  });
}

/** @param {Ctx} ctx @param {any} p */
async function broadcastScenario(ctx, p) {
  return withServer(ctx, "s4", async (srv) => {
    const sizes = [p.small, p.large].filter((n) => n > 0 && n <= p.maxConnections);
    const sampler = new Sampler(srv.pid);
    /** @type {any[]} */
    const runs = [];
    let have = 0;
    for (const size of sizes) {
      const c = await ctx.lg.connect({
        url: srv.url,
        count: size - have,
        concurrency: p.concurrency,
        localAddresses: SOURCE_ADDRESSES,
        timeoutMs: 15_000,
      });
      have += c.opened;
      if (c.failed) ctx.log(`    connect: ${c.failed} failed ${JSON.stringify(c.errors)}`);
      await sleep(300);
      /** @type {any[]} */
      const rounds = [];
      const roundCount = size === p.large ? (p.largeRounds ?? p.rounds) : p.rounds;
      for (let r = 0; r < roundCount; r++) {
        const b = await ctx.lg.broadcast({
          route: "broadcast",
          tag: `b${size}r${r}`,
          timeoutMs: p.timeoutMs,
        });
        rounds.push(b);
        await sleep(200);
      }
      const ttl = rounds
        .map((r) => r.timeToLastMs ?? Number.POSITIVE_INFINITY)
        .sort((a, b) => a - b);
      const median = ttl[Math.floor(ttl.length / 2)] ?? null;
      const best = rounds.find((r) => r.timeToLastMs === median) ?? rounds[0];
      const run = {
        connections: have,
        requested: size,
        rounds: rounds.length,
        timeToLastMs: Number.isFinite(median) ? median : null,
        timeToLastAll: rounds.map((r) => r.timeToLastMs),
        missing: rounds.reduce((a, r) => a + r.missing, 0),
        errorFrames: rounds.reduce((a, r) => a + r.errorFrames, 0),
        deliveriesPerSec:
          median && Number.isFinite(median) ? Math.round((have * 1000) / median) : 0,
        latency: best.latency,
      };
      ctx.log(
        `    ${have} connections: last receiver after ${run.timeToLastMs} ms (median of ${rounds.length}: ${run.timeToLastAll.join(", ")}), missing ${run.missing}`,
      );
      runs.push(run);
    }
    return { params: p, runs, server: sampler.stop() };
  });
}

/** @param {Ctx} ctx @param {any} p */
async function connectStorm(ctx, p) {
  return withServer(ctx, "s5", async (srv) => {
    const sampler = new Sampler(srv.pid);
    const c = await ctx.lg.connect({
      url: `${srv.url}?token=bench`,
      count: p.count,
      concurrency: p.concurrency,
      localAddresses: SOURCE_ADDRESSES,
      timeoutMs: 15_000,
      deadlineMs: 60_000,
    });
    const server = sampler.stop();
    const connPerSec = Math.round((c.opened * 1000) / c.durationMs);
    ctx.log(
      `    ${c.opened}/${p.count} connected in ${Math.round(c.durationMs)} ms: ${connPerSec} conn/s, handshake p50 ${c.latency.p50} p99 ${c.latency.p99} ms, errors ${JSON.stringify(c.errors)}`,
    );
    // Authorizer sanity check: a wrong token must be refused.
    const bad = await ctx.lg.connect({
      url: `${srv.url}?token=wrong`,
      count: 2,
      concurrency: 2,
      timeoutMs: 10_000,
    });
    return {
      params: p,
      opened: c.opened,
      failed: c.failed,
      errors: c.errors,
      connPerSec,
      durationMs: Math.round(c.durationMs),
      latency: c.latency,
      wrongTokenRefused:
        bad.failed === 2 ? Object.keys(bad.errors).join(", ") : `NO (${bad.opened} opened)`,
      server,
    };
  });
}

/** @param {Ctx} ctx @param {any} p */
async function idle(ctx, p) {
  return withServer(ctx, "s6", async (srv) => {
    await sleep(1000);
    const before = sampleTree(srv.pid);
    const sampler = new Sampler(srv.pid);
    const c = await ctx.lg.connect({
      url: srv.url,
      count: p.count,
      concurrency: p.concurrency,
      localAddresses: SOURCE_ADDRESSES,
      timeoutMs: 15_000,
      deadlineMs: 120_000,
    });
    await sleep(p.settleMs);
    const after = sampleTree(srv.pid);
    const server = sampler.stop();
    const stillOpen = await ctx.lg.openCount();
    const perConn = c.opened > 0 ? (after.rss - before.rss) / c.opened : 0;
    ctx.log(
      `    ${c.opened}/${p.count} open (${stillOpen} still open after ${p.settleMs} ms): RSS ${mb(before.rss)} -> ${mb(after.rss)} MB = ${round(perConn / 1024, 2)} KB/connection`,
    );
    return {
      params: p,
      opened: c.opened,
      stillOpen,
      errors: c.errors,
      connectMs: Math.round(c.durationMs),
      connPerSec: Math.round((c.opened * 1000) / c.durationMs),
      latency: c.latency,
      rssBeforeMB: mb(before.rss),
      rssAfterMB: mb(after.rss),
      bytesPerConn: Math.round(perConn),
      kbPerConn: round(perConn / 1024, 2),
      server,
    };
  });
}

/** @param {Ctx} ctx @param {any} p */
async function burst(ctx, p) {
  return withServer(ctx, "s7", async (srv) => {
    const conn = await open(ctx, srv, p.connections);
    await sleep(300);
    const sampler = new Sampler(srv.pid, 50);
    const b = await ctx.lg.burst({
      route: p.route ?? "echo",
      perConn: p.perConn,
      timeoutMs: p.timeoutMs,
    });
    const server = sampler.stop();
    ctx.log(
      `    ${b.sent} sent at once over ${conn.opened} connections: ${b.received} answered in ${b.durationMs} ms, lost ${b.lost}, error frames ${b.errorFrames}, p99 ${b.latency.p99} ms, server RSS peak ${server.rssPeakMB} MB`,
    );
    return {
      params: p,
      connections: conn.opened,
      ...b,
      msgsPerSec: b.durationMs > 0 ? Math.round((b.received * 1000) / b.durationMs) : 0,
      rssPeakMB: server.rssPeakMB,
      server,
    };
  });
}

/** @type {Record<ScenarioId, { title: string, run: (ctx: Ctx, p: any) => Promise<any> }>} */
export const SCENARIOS = {
  s1: {
    title: "1. Echo via two-way route (route response)",
    run: (ctx, p) => echoScenario(ctx, "s1", "echo", p),
  },
  s2: {
    title: "2. Echo via ctx.send (in-process management)",
    run: (ctx, p) => echoScenario(ctx, "s2", "send", p),
  },
  s3: {
    title: "3. Echo via AWS SDK PostToConnection over HTTP",
    run: (ctx, p) => echoScenario(ctx, "s3", "sdk", p),
  },
  s4: { title: "4. Broadcast fan-out (1,000 and 10,000 connections)", run: broadcastScenario },
  s5: { title: "5. Connect storm ($connect + authorizer)", run: connectStorm },
  s6: { title: "6. Idle connections (server RSS per connection)", run: idle },
  s7: { title: "7. Burst: 10,000 messages in flight over 100 connections", run: burst },
};
