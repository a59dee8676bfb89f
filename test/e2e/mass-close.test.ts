import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { Crowd } from "../helpers/crowd.js";
import { type RunningApp, startApp } from "../helpers/server.js";

/** Connections that leave at once (issue 10, item 9: 5,000 stalled the event loop for 2.7 s). */
const CROWD = 5000;

describe("5,000 connections closing at once: the others stay served (issue 10, item 9)", () => {
  let app: RunningApp;
  let crowd: Crowd | undefined;
  beforeAll(async () => {
    // $disconnect costs 0.5 ms of synchronous work each (test/fixtures/mass-close/handlers.mjs).
    app = await startApp("mass-close");
  });
  afterAll(async () => {
    await crowd?.dispose();
    await app?.close();
  });

  it("a connection doing echo round trips is answered all through, and every $disconnect runs", async () => {
    // The crowd lives on a worker thread: its handshakes and close frames run on another event
    // loop, so what is measured here is the server's own loop (this thread).
    crowd = await Crowd.open(Array.from({ length: CROWD }, () => `${app.url}/test`));
    let disconnects = 0;
    app.gateway.on("invoke", (report) => {
      if (report.routeKey === "$disconnect" && report.outcome === "ok") disconnects++;
    });

    const probe = await TestClient.connect(`${app.url}/test`);
    const roundTrips: number[] = [];
    /** `$disconnect`s finished when each answer came. */
    const finishedAt: number[] = [];
    let probing = true;
    const probeLoop = (async () => {
      for (let n = 0; probing; n++) {
        const sent = performance.now();
        expect(await probe.ask({ action: "echo", n }, 60_000)).toEqual({ action: "echo", n });
        roundTrips.push(performance.now() - sent);
        finishedAt.push(disconnects);
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const steady = roundTrips.length;

    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const closedAt = performance.now();
    const closed = crowd.closeAll();
    while (disconnects < CROWD) await new Promise((resolve) => setTimeout(resolve, 20));
    const took = performance.now() - closedAt;
    const ran = disconnects;
    delay.disable();
    await closed;
    probing = false;
    await probeLoop;
    await probe.close();

    const during = roundTrips.slice(steady);
    const longest = Math.max(...during);
    // From the close on (none had finished), to an answer after the last one finished.
    const counts = [0, ...finishedAt.slice(steady)];
    const between = Math.max(...counts.slice(1).map((count, i) => count - (counts[i] ?? 0)));
    const report = `${ran} $disconnect in ${Math.round(took)} ms; probe: ${during.length} round trips, longest ${Math.round(longest)} ms (${Math.round((longest / took) * 100)}% of the mass close); at most ${between} $disconnects between two answers; event-loop delay max ${Math.round(delay.max / 1e6)} ms`;

    expect(ran, report).toBe(CROWD);
    // The work was spread: the probe was answered between every few turns of 64 $disconnects
    // (the pacer's batch; at most 2 batches measured). Run as the closes came in (before the
    // pacer), thousands ran back to back while the probe waited (4,082 and 4,356 measured).
    // Counted, not timed, so a slow or busy machine does not move it.
    expect(between, report).toBeLessThanOrEqual(4 * 64);
    // Responsiveness in time (the issue asks for it), relative to the mass close's own length so
    // that a busier machine moves both alike, with a wide margin: paced, the probe's longest wait
    // was 10-29% of it (2 shared cores at load 8-13), and what is left there is the closes' own
    // socket work (5,000 close frames and EOFs read in long poll phases), which no pacing of
    // $disconnect shortens. Before the pacer it was 34-60%: the count above is what tells them
    // apart; this bound catches the mass close becoming one block again.
    expect(longest / took, report).toBeLessThan(0.6);
  }, 90_000);
});
