// One load-generator thread: owns a share of the client connections and runs the phases the
// coordinator (loadgen.mjs) asks for. Latencies go into a node:perf_hooks HDR histogram (in
// microseconds), which is cloned back to the coordinator and merged there.
import { createHistogram } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import WebSocket from "ws";

if (!parentPort) throw new Error("loadgen-worker.mjs must run in a worker thread");
const port = parentPort;
const workerIndex = /** @type {number} */ (workerData?.index ?? 0);

/** Absolute time in ms with sub-ms precision; comparable across threads. */
const now = () => performance.timeOrigin + performance.now();

/**
 * @typedef {{ ws: WebSocket, index: number, inflight: number, closing: boolean }} Conn
 * @typedef {{ onFrame: (conn: Conn, text: string) => void }} Phase
 */

/** @type {Conn[]} */
let conns = [];
/** @type {Phase | undefined} */
let phase;
/** Frames that arrived with no phase running, or that the phase could not parse. */
let strayFrames = 0;
/** Connections that closed without us asking (code -> count). */
/** @type {Record<string, number>} */
let unexpectedCloses = {};

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Extracts the "data" string of an echoed `{"action":"...","data":"..."}` frame. @param {string} s */
function dataOf(s) {
  const i = s.indexOf('"data":"');
  if (i < 0) return undefined;
  const j = s.indexOf('"', i + 8);
  return j < 0 ? undefined : s.slice(i + 8, j);
}

/** An AWS-style error frame (`Internal server error`, `Forbidden`, `Bad request body`, ...). @param {string} s */
function isErrorFrame(s) {
  return s.includes('"message"') && !s.includes('"data"');
}

/** µs, clamped into the histogram's range. @param {number} ms */
const us = (ms) => Math.max(1, Math.round(ms * 1000));

/** @param {Record<string, number>} map @param {string} key */
function bump(map, key) {
  map[key] = (map[key] ?? 0) + 1;
}

/**
 * Opens `count` connections, at most `concurrency` handshakes at a time.
 * @param {{ url: string, count: number, concurrency: number, localAddresses: string[], offset: number, timeoutMs: number, deadlineMs: number }} o
 */
async function connect(o) {
  const hist = createHistogram();
  /** @type {Record<string, number>} */
  const errors = {};
  let opened = 0;
  let failed = 0;
  let next = 0;
  const start = now();
  const deadline = start + o.deadlineMs;
  const one = () =>
    new Promise((resolve) => {
      const index = o.offset + next++;
      const localAddress = o.localAddresses[index % o.localAddresses.length];
      const t0 = now();
      const ws = new WebSocket(o.url, {
        perMessageDeflate: false,
        skipUTF8Validation: true,
        handshakeTimeout: o.timeoutMs,
        ...(localAddress ? { localAddress } : {}),
      });
      /** @type {Conn} */
      const conn = { ws, index, inflight: 0, closing: false };
      let settled = false;
      const done = (/** @type {string | undefined} */ err) => {
        if (settled) return;
        settled = true;
        if (err) {
          failed++;
          bump(errors, err);
          ws.removeAllListeners();
          ws.on("error", () => {});
          ws.terminate();
        } else {
          opened++;
          hist.record(us(now() - t0));
          conns.push(conn);
        }
        resolve(undefined);
      };
      ws.on("open", () => done(undefined));
      ws.on("unexpected-response", (_req, res) => {
        done(`HTTP ${res.statusCode}`);
        res.resume();
      });
      ws.on("error", (e) => done(/** @type {NodeJS.ErrnoException} */ (e).code ?? e.message));
      ws.on("message", (data) => {
        const text = data.toString();
        if (phase) phase.onFrame(conn, text);
        else strayFrames++;
      });
      ws.on("close", (code) => {
        if (!settled) done(`closed ${code}`);
        else if (!conn.closing) bump(unexpectedCloses, String(code));
        const k = conns.indexOf(conn);
        if (k >= 0 && !conn.closing) conns.splice(k, 1);
      });
    });
  const lane = async () => {
    while (next < o.count && now() < deadline) await one();
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.count) }, lane));
  const notAttempted = o.count - next;
  if (notAttempted > 0) errors["not attempted (deadline)"] = notAttempted;
  return {
    opened,
    failed: failed + notAttempted,
    errors,
    hist,
    durationMs: now() - start,
    start,
    end: now(),
  };
}

/** Closes every connection; terminates those that have not closed within `timeoutMs`. @param {{ timeoutMs: number }} o */
async function closeAll(o) {
  const list = conns;
  conns = [];
  phase = undefined;
  let open = 0;
  const closed = new Promise((resolve) => {
    if (list.length === 0) resolve(undefined);
    for (const c of list) {
      c.closing = true;
      if (c.ws.readyState === WebSocket.CLOSED) continue;
      open++;
      c.ws.once("close", () => {
        if (--open === 0) resolve(undefined);
      });
      c.ws.close(1000);
    }
    if (open === 0) resolve(undefined);
  });
  await Promise.race([closed, sleep(o.timeoutMs)]);
  let terminated = 0;
  for (const c of list) {
    if (c.ws.readyState !== WebSocket.CLOSED) {
      terminated++;
      c.ws.terminate();
    }
  }
  const result = { closed: list.length - terminated, terminated, unexpectedCloses, strayFrames };
  unexpectedCloses = {};
  strayFrames = 0;
  return result;
}

/**
 * Echo load. closed: each connection keeps `depth` messages in flight. fixed: `rate` messages/s
 * from this thread, open loop, latency measured from the *intended* send time (no coordinated
 * omission).
 * @param {{ mode: "closed" | "fixed", route: string, warmupMs: number, durationMs: number, depth: number, rate: number, drainMs: number, maxInflight: number }} o
 */
async function echo(o) {
  /** From the intended send time (equal to the actual one in closed loop). */
  const hist = createHistogram();
  /** From the actual send time (fixed rate: leaves out the client's own scheduling lag). */
  const histSend = createHistogram();
  let sent = 0;
  let received = 0;
  let measured = 0;
  let inWindow = 0;
  let errorFrames = 0;
  let unparsed = 0;
  let skipped = 0;
  let inflight = 0;
  const start = now();
  const measureFrom = start + o.warmupMs;
  const end = measureFrom + o.durationMs;
  let running = true;
  const prefix = `{"action":"${o.route}","data":"`;
  /** Payload data: `<intended send time>|<actual send time>`. @param {Conn} c @param {number} t */
  const send = (c, t) => {
    c.inflight++;
    inflight++;
    sent++;
    c.ws.send(`${prefix}${t}|${now()}"}`);
  };
  phase = {
    onFrame(conn, text) {
      const d = dataOf(text);
      const bar = d ? d.indexOf("|") : -1;
      const t = bar > 0 ? Number(d?.slice(0, bar)) : Number.NaN;
      const ts = bar > 0 ? Number(d?.slice(bar + 1)) : Number.NaN;
      if (!Number.isFinite(t)) {
        if (isErrorFrame(text)) errorFrames++;
        else unparsed++;
        // An error frame still answers a message (it will never get its echo).
        if (conn.inflight > 0) {
          conn.inflight--;
          inflight--;
        }
      } else {
        conn.inflight--;
        inflight--;
        received++;
        const tr = now();
        // Throughput: answers that arrived inside the window. Latency: messages sent inside it.
        if (tr >= measureFrom && tr <= end) inWindow++;
        if (t >= measureFrom && t <= end) {
          measured++;
          hist.record(us(tr - t));
          histSend.record(us(tr - ts));
        }
      }
      if (o.mode === "closed" && running && conn.ws.readyState === WebSocket.OPEN)
        send(conn, now());
    },
  };
  const live = conns.filter((c) => c.ws.readyState === WebSocket.OPEN);
  if (live.length === 0) {
    // This thread got no connection (fewer connections than threads): idle through the phase.
    await sleep(end - now());
  } else if (o.mode === "closed") {
    for (const c of live) for (let i = 0; i < o.depth; i++) send(c, now());
    await sleep(end - now());
  } else {
    let k = 0;
    const perMs = o.rate / 1000;
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        const t = now();
        const due = Math.min(
          Math.floor((Math.min(t, end) - start) * perMs),
          Math.ceil((end - start) * perMs),
        );
        while (sent + skipped < due) {
          const intended = start + (sent + skipped) / perMs;
          if (inflight >= o.maxInflight) {
            skipped++;
            continue;
          }
          const c = /** @type {Conn} */ (live[k++ % live.length]);
          if (c.ws.readyState === WebSocket.OPEN) send(c, intended);
          else skipped++;
        }
        if (t >= end) {
          clearInterval(timer);
          resolve(undefined);
        }
      }, 1);
    });
  }
  running = false;
  const drainStart = now();
  while (inflight > 0 && now() - drainStart < o.drainMs) await sleep(5);
  phase = undefined;
  return {
    sent,
    received,
    measured,
    inWindow,
    errorFrames,
    unparsed,
    skipped,
    unanswered: inflight,
    hist,
    histSend,
    measureMs: o.durationMs,
  };
}

/**
 * Burst: every connection sends `perConn` messages at once; waits for every answer.
 * @param {{ route: string, perConn: number, timeoutMs: number }} o
 */
async function burst(o) {
  const hist = createHistogram();
  let sent = 0;
  let received = 0;
  let errorFrames = 0;
  let unparsed = 0;
  /** @type {Set<string>} */
  const seen = new Set();
  let duplicates = 0;
  const start = now();
  let lastAt = start;
  /** @type {(v?: unknown) => void} */
  let finish = () => {};
  const allIn = new Promise((r) => {
    finish = r;
  });
  phase = {
    onFrame(_conn, text) {
      const d = dataOf(text);
      const t = Number(d?.split(":")[1]);
      if (d === undefined || !Number.isFinite(t)) {
        if (isErrorFrame(text)) errorFrames++;
        else unparsed++;
      } else {
        if (seen.has(d)) duplicates++;
        else {
          seen.add(d);
          received++;
          lastAt = now();
          hist.record(us(lastAt - t));
        }
      }
      if (received + errorFrames >= sent) finish();
    },
  };
  const live = conns.filter((c) => c.ws.readyState === WebSocket.OPEN);
  for (const c of live) {
    for (let i = 0; i < o.perConn; i++) {
      sent++;
      c.ws.send(`{"action":"${o.route}","data":"${workerIndex}.${c.index}.${i}:${now()}"}`);
    }
  }
  if (sent === 0) finish();
  await Promise.race([allIn, sleep(o.timeoutMs)]);
  phase = undefined;
  return {
    sent,
    received,
    lost: sent - received,
    errorFrames,
    unparsed,
    duplicates,
    hist,
    durationMs: lastAt - start,
    start,
    lastAt,
  };
}

/** @type {{ expected: number, received: number, t0: number, last: number, hist: import("node:perf_hooks").RecordableHistogram, errorFrames: number, unparsed: number, done: (v?: unknown) => void } | undefined} */
let bcast;

/** Arms the broadcast receivers of this thread. @param {{ tag: string }} o */
function armBroadcast(o) {
  /** @type {(v?: unknown) => void} */
  let done = () => {};
  const finished = new Promise((r) => {
    done = r;
  });
  const state = {
    expected: conns.length,
    received: 0,
    t0: 0,
    last: 0,
    hist: createHistogram(),
    errorFrames: 0,
    unparsed: 0,
    done,
    finished,
  };
  bcast = state;
  phase = {
    onFrame(_conn, text) {
      const d = dataOf(text);
      const [tag, ts] = d ? d.split(":") : [];
      if (tag !== o.tag || !Number.isFinite(Number(ts))) {
        if (isErrorFrame(text)) state.errorFrames++;
        else state.unparsed++;
        return;
      }
      const t = now();
      state.t0 = Number(ts);
      state.received++;
      state.last = t;
      state.hist.record(us(t - state.t0));
      if (state.received >= state.expected) done();
    },
  };
  if (state.expected === 0) done();
  return { armed: state.expected };
}

/** @param {{ timeoutMs: number }} o */
async function awaitBroadcast(o) {
  const state = bcast;
  if (!state) throw new Error("broadcast not armed");
  // @ts-expect-error finished is added above
  await Promise.race([state.finished, sleep(o.timeoutMs)]);
  phase = undefined;
  bcast = undefined;
  return {
    expected: state.expected,
    received: state.received,
    last: state.last,
    hist: state.hist,
    errorFrames: state.errorFrames,
    unparsed: state.unparsed,
  };
}

/** Sends one broadcast request from this thread's first connection. @param {{ route: string, tag: string }} o */
function sendBroadcast(o) {
  const c = conns.find((x) => x.ws.readyState === WebSocket.OPEN);
  if (!c) throw new Error("no open connection to send the broadcast from");
  const t0 = now();
  c.ws.send(`{"action":"${o.route}","data":"${o.tag}:${t0}"}`);
  return { t0 };
}

/** @type {Record<string, (args: any) => unknown>} */
const commands = {
  connect,
  closeAll,
  echo,
  burst,
  armBroadcast,
  awaitBroadcast,
  sendBroadcast,
  count: () => ({ open: conns.filter((c) => c.ws.readyState === WebSocket.OPEN).length }),
};

port.on("message", async (/** @type {{ id: number, cmd: string, args: unknown }} */ msg) => {
  try {
    const fn = commands[msg.cmd];
    if (!fn) throw new Error(`unknown command ${msg.cmd}`);
    const result = await fn(msg.args);
    port.postMessage({ id: msg.id, result });
  } catch (e) {
    port.postMessage({ id: msg.id, error: e instanceof Error ? e.stack : String(e) });
  }
});
