import { execFileSync, spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, type DevProcess, runCli, startDev } from "./helpers/cli.js";
import { REPO_ROOT } from "./helpers/repo-paths.js";

const FIXTURE = "test/fixtures/connect-echo";

type Echo = {
  body: string;
  connect: { headers: Record<string, string>; query: Record<string, string> };
};

describe("switchboard connect <url> (scripted) against a running switchboard dev", () => {
  let dev: DevProcess;
  let url: string;
  beforeAll(async () => {
    dev = await startDev([FIXTURE, "--no-watch"]);
    url = `${dev.url}/test`;
  });
  afterAll(async () => {
    await dev?.stop();
  });

  it("sends each --send in order, prints each reply on its own line, exits 0 after --wait of silence", async () => {
    const started = Date.now();
    const result = await runCli([
      "connect",
      url,
      "--send",
      "one",
      "--send",
      '{"n":2}',
      "--wait",
      "300",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines.map((line) => (JSON.parse(line) as Echo).body)).toEqual(["one", '{"n":2}']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("hands --header and --query to $connect", async () => {
    const result = await runCli([
      "connect",
      url,
      "--header",
      "X-Trace: abc 123",
      "-H",
      "Authorization:Bearer t",
      "--query",
      "user=alice",
      "-q",
      "room=a=b",
      "--send",
      "hi",
      "--wait",
      "200",
    ]);
    expect(result.code).toBe(0);
    const echo = JSON.parse(result.stdout) as Echo;
    expect(echo.connect.query).toEqual({ user: "alice", room: "a=b" });
    expect(echo.connect.headers).toMatchObject({ "X-Trace": "abc 123", Authorization: "Bearer t" });
  });

  it("reads frames from stdin, one per line, when there is no --send and stdin is not a terminal", async () => {
    const result = await runCli(["connect", url, "--wait", "200"], { input: "a\nb\n" });
    expect(result.code).toBe(0);
    const bodies = result.stdout
      .trimEnd()
      .split("\n")
      .map((line) => (JSON.parse(line) as Echo).body);
    expect(bodies).toEqual(["a", "b"]);
  });

  it("reports a refused handshake with its status and body, exit code 2", async () => {
    for (const status of [401, 403]) {
      const result = await runCli(["connect", url, "-q", `refuse=${status}`, "--send", "x"]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(
        new RegExp(
          `^switchboard connect: the server refused the connection: HTTP ${status} \\w+: refused on purpose\\n  .*--header`,
        ),
      );
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("names a wrong stage as a cause of a 403 (API Gateway's answer to an unknown stage)", async () => {
    const result = await runCli(["connect", `${dev.url}/nostage`, "--send", "x"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /HTTP 403 Forbidden.*\n.*\n {2}or the path is not the API's stage/,
    );
  });

  it("exits 4 and shows the close code when the server closes abnormally (1009)", async () => {
    const result = await runCli(["connect", url, "--send", "x".repeat(40_000)]);
    expect(result.stderr).toBe('closed 1009 "Message too big"\n');
    expect(result.code).toBe(4);
  });

  it("exits 0 when the server closes with 1000 (DeleteConnection)", async () => {
    const result = await runCli(["connect", url, "--send", '{"action":"bye"}', "--wait", "5000"]);
    expect(result.code).toBe(0);
  });
});

describe("switchboard connect: other targets and failures", () => {
  it("serves an app folder in-process on a free port for the run", async () => {
    const result = await runCli([
      "connect",
      FIXTURE,
      "-q",
      "user=bob",
      "--send",
      "hey",
      "--wait",
      "200",
    ]);
    expect(result.code).toBe(0);
    const echo = JSON.parse(result.stdout) as Echo;
    expect(echo).toMatchObject({ body: "hey", connect: { query: { user: "bob" } } });
  });

  it("prints an invalid app's problems and exits 1", async () => {
    const result = await runCli(["connect", "test/fixtures/invalid", "--send", "x"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^4 problems in the app config:/);
  });

  it("exits 3 when nothing listens, saying what to do", async () => {
    const result = await runCli(["connect", "ws://127.0.0.1:1/dev", "--send", "x"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /^switchboard connect: cannot reach ws:\/\/127\.0\.0\.1:1\/dev: .*ECONNREFUSED.*\n {2}Is `switchboard dev` running/,
    );
  });

  it("refuses a target that is neither a URL nor a folder, and bad option values, before connecting", async () => {
    const missing = await runCli(["connect", "no-such-app", "--send", "x"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/neither a ws:\/\/ or wss:\/\/ URL nor an app folder/);
    for (const args of [
      ["--header", "no-colon"],
      ["--query", "=x"],
      ["--wait", "soon"],
    ]) {
      const result = await runCli(["connect", "ws://127.0.0.1:1/dev", ...args, "--send", "x"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^error: option '.+' argument '.*' is invalid\. expected /);
    }
  });
});

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;

describe.skipIf(!hasTmux)("switchboard connect (interactive, in tmux)", () => {
  let dev: DevProcess;
  const session = `sb-connect-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync("tmux", args, { encoding: "utf8" });
  const screen = () => tmux("capture-pane", "-p", "-t", session, "-S", "-200");
  const until = async (test: (text: string) => boolean) => {
    const deadline = Date.now() + 10_000;
    let text = screen();
    while (!test(text)) {
      if (Date.now() > deadline) throw new Error(`screen never matched:\n${text}`);
      await new Promise((r) => setTimeout(r, 50));
      text = screen();
    }
    return text;
  };

  beforeAll(async () => {
    dev = await startDev([FIXTURE, "--no-watch"]);
  });
  afterAll(async () => {
    spawnSync("tmux", ["kill-session", "-t", session]);
    await dev?.stop();
  });

  it("sends typed lines, pretty-prints JSON replies, recalls history, shows closes and reconnects", async () => {
    tmux(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "160",
      "-y",
      "50",
      `cd ${REPO_ROOT} && ${process.execPath} ${BIN} connect ${dev.url}/test -q user=tty; echo EXIT=$?; sleep 30`,
    );
    await until((text) => text.includes("connected (/help for commands)"));
    tmux("send-keys", "-t", session, "first", "Enter");
    // Pretty-printed: the reply's keys on lines of their own, indented.
    await until((text) => /< \{\n\s+"body": "first",/.test(text));
    // History: Up recalls "first", edited to "firsts".
    tmux("send-keys", "-t", session, "Up", "s", "Enter");
    await until((text) => text.includes('"body": "firsts"'));
    tmux("send-keys", "-t", session, "/close 4000 done", "Enter");
    await until((text) => text.includes('closed 4000 "done"'));
    tmux("send-keys", "-t", session, "Enter");
    await until((text) => text.split("connected (/help for commands)").length === 3);
    tmux("send-keys", "-t", session, "again", "Enter");
    await until((text) => text.includes('"body": "again"'));
    tmux("send-keys", "-t", session, "/quit", "Enter");
    await until((text) => text.includes("EXIT=0"));
  });
});
