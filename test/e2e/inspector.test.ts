import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StartServer } from "../../src/start/start-server.js";
import { launchChromium } from "../helpers/chromium.js";
import { TestClient } from "../helpers/client.js";
import { FIXTURES, type RunningApp, startApp } from "../helpers/server.js";

// Debian's Chromium (.ci/run installs it); playwright-core drives it, no browser download.
const EXAMPLE = path.join(FIXTURES, "..", "..", "examples", "chat");
const SHOTS = path.join(FIXTURES, "..", ".tmp", "screenshots");

const parsed = (text: string) => JSON.parse(text) as Record<string, unknown>;

describe("the dev inspector at /_switchboard (headless Chromium)", () => {
  let app: RunningApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    app = await startApp(EXAMPLE);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 860 } });
    // A step that does not happen fails with its selector, well inside the test timeout.
    page.setDefaultTimeout(5000);
  }, 60_000);

  const openPage = async () => {
    await page.goto(`${app.http}/_switchboard`);
    await page.waitForSelector("#live:has-text('live')");
  };

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("shows the routes, and a real client appears with its query, headers and table row", async () => {
    await openPage();
    const keys = await page.$$eval("#routes td.key", (cells) =>
      cells.map((td) => td.firstChild?.textContent),
    );
    expect(keys.sort()).toEqual(["$connect", "$default", "$disconnect", "send", "whoami"]);
    await page.waitForSelector("#routes td.key:has-text('whoami') .tag:has-text('two-way')");

    const alice = await TestClient.connect(`${app.url}/dev?user=alice&room=lobby`, {
      headers: { "X-Demo": "inspector" },
    });
    const [id] = app.gateway.connectionIds();
    await page.click(`#connections li[data-id="${id}"]`);
    await page.waitForSelector("#cd-state:has-text('open')");
    await page.waitForSelector("#cd-query:has-text('alice')");
    await page.waitForSelector("#cd-headers:has-text('X-Demo')");
    // The row `$connect` put in the connection table
    await page.waitForSelector("#cd-row:has-text('lobby')");
    await page.waitForSelector(`#timeline li.k-connect:has-text('connect 101')`);
    alice.ws.close();
    await alice.closed;
  });

  it("sends as the client, posts to it, re-invokes with an edited body and disconnects it, by clicks", {
    timeout: 40_000,
  }, async () => {
    await openPage();
    const before = new Set(app.gateway.connectionIds());
    const alice = await TestClient.connect(`${app.url}/dev?user=alice&room=lobby`);
    const id = app.gateway.connectionIds().find((c) => !before.has(c)) as string;
    await page.click(`#connections li[data-id="${id}"]`);
    await page.waitForSelector("#cd-state:has-text('open')");

    // Send as the client: routed by the real dispatch; the two-way answer reaches the client.
    await page.fill("#cd-send-data", '{"action":"whoami"}');
    await page.click("#cd-send");
    expect(parsed(await alice.next())).toMatchObject({
      type: "whoami",
      user: "alice",
      connectionId: id,
    });
    await page.waitForSelector("#timeline li.k-invoke:has-text('whoami → ok')");
    await page.waitForSelector("#timeline li.k-frame.in:has-text('whoami')");
    await page.waitForSelector("#timeline li.k-frame.out:has-text('route-response')");

    // Post to the connection (@connections), and the frame arrives at the client
    await page.fill("#cd-post-data", "hello from the inspector");
    await page.click("#cd-post");
    expect(await alice.next()).toBe("hello from the inspector");
    await page.waitForSelector("#cd-result:has-text('posted')");

    // A real frame from the client, then re-invoke its `send` event with an edited body
    alice.send({ action: "send", text: "first" });
    expect(parsed(await alice.next())).toMatchObject({ type: "message", text: "first" });
    const invoke = page.locator("#timeline li.k-invoke", { hasText: "send → ok" }).first();
    await invoke.waitFor();
    await invoke.click();
    await page.waitForSelector("#ed-replay:not([hidden])");
    expect(parsed(await page.inputValue("#ed-body"))).toEqual({ action: "send", text: "first" });
    await page.fill("#ed-body", '{"action":"send","text":"edited in the inspector"}');
    await page.click("#ed-reinvoke");
    expect(parsed(await alice.next())).toMatchObject({
      type: "message",
      from: "alice",
      text: "edited in the inspector",
    });
    await page.waitForSelector("#ed-result.ok:has-text('ok in')");

    // Show the whoami invocation in the detail pane for the README's picture
    await page.locator("#timeline li.k-invoke", { hasText: "whoami → ok" }).first().click();
    await mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, "inspector.png") });

    // Disconnect by a click
    await page.click(`#connections li[data-id="${id}"]`);
    await page.click("#cd-disconnect");
    expect((await alice.closed).code).toBe(1000);
    await page.waitForSelector(`#timeline li.k-disconnect:has-text('disconnect 1000')`);
    await page.waitForSelector(`#connections li.closed[data-id="${id}"]`);
  });

  it.each([
    { invoker: "in-process", isolate: false },
    { invoker: "worker threads (--isolate)", isolate: true },
  ])("shows what an invocation printed in its detail, handlers $invoker", async ({ isolate }) => {
    const logging = await startApp("inspector", { isolate });
    try {
      await page.goto(`${logging.http}/_switchboard`);
      await page.waitForSelector("#live:has-text('live')");
      const client = await TestClient.connect(logging.url);
      client.send({ action: "log", text: "hello from the handler" });
      const invoke = page.locator("#timeline li.k-invoke", { hasText: "log → ok" });
      await invoke.click();
      await page.waitForSelector("#ed-output:not([hidden])");
      await page.waitForSelector(
        "#ed-output-lines li.out-log:has-text('log says hello from the handler')",
      );
      await page.waitForSelector("#ed-output-lines li.out-error:has-text('log warns on stderr')");
      expect(await page.$$eval("#ed-output-lines li .text", (lines) => lines.length)).toBe(2);

      // Another invocation's detail shows its own lines, not these.
      client.send({ action: "log", text: "again", extra: 1 });
      await page.locator("#timeline li.k-invoke", { hasText: "3 console lines" }).click();
      await page.waitForSelector("#ed-output-lines li.out-log:has-text('log says again')");
      expect(
        await page.$$eval("#ed-output-lines li .text", (lines) => lines.map((l) => l.textContent)),
      ).toEqual(["log says again", "log warns on stderr", "extra 0"]);
      client.ws.close();
      await client.closed;
    } finally {
      await logging.close();
    }
  });

  it("refuses cross-site requests (pages of other origins, other Host names)", async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${app.http}/_switchboard/api/connections/x/post`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...headers },
        body: JSON.stringify({ data: "x" }),
      });
    expect((await post({ Origin: "http://evil.example" })).status).toBe(403);
    expect((await post({ "Sec-Fetch-Site": "cross-site" })).status).toBe(403);
    expect((await post({ "Sec-Fetch-Site": "same-site" })).status).toBe(403);
    const page = await fetch(`${app.http}/_switchboard/`, {
      headers: { "Sec-Fetch-Site": "cross-site" },
    });
    expect(page.status).toBe(403);
    const stream = await fetch(`${app.http}/_switchboard/events`, {
      headers: { Origin: "http://evil.example" },
    });
    expect(stream.status).toBe(403);
    // A form post (no preflight) is not JSON: refused before anything runs
    const form = await fetch(`${app.http}/_switchboard/api/connections/x/disconnect`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "{}",
    });
    expect(form.status).toBe(415);
    // Same origin, no connection: 410, so the check above is what refused the others
    expect((await post({ Origin: app.http })).status).toBe(410);
    // DNS rebinding: a name that is not allowed gets nothing (Host check runs first)
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${app.http}/_switchboard/api/state`, {
        headers: { Host: "rebound.example.com" },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it("is not served by `switchboard start`", async () => {
    const server = await StartServer.start({
      target: path.join(FIXTURES, "start"),
      port: 0,
      host: "127.0.0.1",
      keys: [],
    });
    try {
      const { port } = server.gateway.server.address() as { port: number };
      for (const sub of ["", "/", "/events", "/api/state", "/inspector.js"]) {
        const res = await fetch(`http://127.0.0.1:${port}/_switchboard${sub}`);
        expect([403, 404]).toContain(res.status);
        expect(res.headers.get("content-type")).not.toMatch(/html|event-stream|javascript/);
      }
      const post = await fetch(`http://127.0.0.1:${port}/_switchboard/api/replay`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: "{}",
      });
      expect([403, 404]).toContain(post.status);
      // Nothing subscribed to the rich events: the hot path builds none of them
      expect(server.gateway.listenerCount("frame")).toBe(0);
      expect(server.gateway.listenerCount("invocation")).toBe(0);
    } finally {
      await server.drain();
    }
  });
});
