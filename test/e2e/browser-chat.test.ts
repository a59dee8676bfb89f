import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/chromium.js";
import { FIXTURES, type RunningApp, startApp } from "../helpers/server.js";

// Debian's Chromium (.ci/run installs it); playwright-core drives it, no browser download.
const EXAMPLE = path.join(FIXTURES, "..", "..", "examples", "chat");
const SHOTS = path.join(FIXTURES, "..", ".tmp", "screenshots");

async function join(page: Page, base: string, user: string): Promise<void> {
  await page.goto(`${base}/index.html`);
  await page.fill("#user", user);
  await page.fill("#room", "lobby");
  await page.click("#connect");
  await page.waitForSelector(`#status:has-text("connected as ${user}")`);
}

describe("examples/chat in a real browser (headless Chromium)", () => {
  let app: RunningApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await startApp(EXAMPLE);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("serves the page, and two users chat through the gateway", async () => {
    const alice = await browser.newPage();
    const bob = await browser.newPage();
    await join(alice, app.http, "alice");
    // whoami is a two-way route: its answer shows the connection id AWS-style
    await alice.waitForSelector("#log li:has-text('you are alice')");
    await join(bob, app.http, "bob");
    await alice.waitForSelector("#log li:has-text('bob joined')");

    await alice.fill("#text", "hello from the browser");
    await alice.click("#send");
    await bob.waitForSelector("#log li:has-text('alice: hello from the browser')");
    await alice.waitForSelector("#log li:has-text('alice: hello from the browser')");

    await mkdir(SHOTS, { recursive: true });
    await bob.screenshot({ path: path.join(SHOTS, "chat-bob.png") });

    await bob.click("#connect"); // disconnect
    await bob.waitForSelector("#status:has-text('disconnected (1000')");
    await alice.waitForSelector("#log li:has-text('bob left')");
    const lines = await alice.$$eval("#log li", (items) => items.map((li) => li.textContent));
    expect(lines).toEqual(
      expect.arrayContaining(["bob joined", "alice: hello from the browser", "bob left"]),
    );
  });

  it("shows the refusal of an unknown user ($connect answered 403)", async () => {
    const page = await browser.newPage();
    await page.goto(`${app.http}/index.html`);
    await page.fill("#user", "mallory");
    await page.click("#connect");
    await page.waitForSelector("#log li:has-text('connection refused')");
    await page.waitForSelector("#status:has-text('disconnected (1006')");
  });
});
