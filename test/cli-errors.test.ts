import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, runCli, spawnDev, startDev } from "./helpers/cli.js";
import { TestClient } from "./helpers/client.js";
import { REPO_ROOT, repoScratchDir } from "./helpers/repo-paths.js";

const TMP = repoScratchDir("cli-errors");
beforeAll(() => mkdirSync(TMP, { recursive: true }));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** A stack frame line, as Node prints them. */
const STACK_FRAME = /\n\s+at /;

describe("CLI errors say what to do", () => {
  it("a port in use: one line suggesting --port 0, exit 1, no stack", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runCli([
        "dev",
        "test/fixtures/basic",
        "--port",
        String(port),
        "--quiet",
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `switchboard: port ${port} on 127.0.0.1 is in use: stop what holds it, or pass --port 0 for a free port (or another --port)\n`,
      );
    } finally {
      blocker.close();
    }
  });

  it.each([
    [["dev", "--port", "abc"], "-p, --port <port>", "expected a port number 0-65535"],
    [["dev", "--port", "70000"], "-p, --port <port>", "expected a port number 0-65535"],
    [["dev", "--port", "1.5"], "-p, --port <port>", "expected a port number 0-65535"],
    [["dev", "--static", "nope"], "--static <dir>", "no such folder"],
    [
      ["dev", "--static", "test/fixtures/basic/switchboard.yaml"],
      "--static <dir>",
      ".* is a file, not a folder",
    ],
    [["dev", "--redis", "localhost:6379"], "--redis <url>", "expected a redis:// or rediss:// URL"],
    [["dev", "--stage", "a b"], "-s, --stage <stage>", "expected a stage name"],
    [["routes", "--stage", "x/y"], "-s, --stage <stage>", "expected a stage name"],
    [["build", "--log-retention", "10"], "--log-retention <days>", "expected one of 1, 3, 5"],
    [["build", "--throttle-burst", "2.5"], "--throttle-burst <n>", "expected a whole number"],
    [["build", "--throttle-rate", "-1"], "--throttle-rate <rps>", "expected a positive number"],
    [["build", "--domain", "not a domain"], "--domain <name>", "expected a domain name"],
    [
      ["build", "--certificate-arn", "arn:nope"],
      "--certificate-arn <arn>",
      "expected an ACM certificate ARN",
    ],
    [
      ["build", "--hosted-zone-id", "zone 1"],
      "--hosted-zone-id <id>",
      "expected a Route 53 hosted zone id",
    ],
    [["deploy", "--bucket", "Bad_Bucket"], "-b, --bucket <name>", "expected an S3 bucket name"],
    [
      ["deploy", "--bucket", "ok-bucket", "--region", "mars"],
      "--region <region>",
      "expected an AWS region",
    ],
    [
      ["deploy", "--bucket", "ok-bucket", "--stack-name", "1stack"],
      "--stack-name <name>",
      "expected a stack name",
    ],
  ])("%j is refused before the app loads", async (args, option, expected) => {
    // The app is invalid: had it been loaded first, its problems would be printed instead.
    const [command, ...rest] = args as string[];
    const result = await runCli([command as string, "test/fixtures/invalid", ...rest]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      new RegExp(
        `^error: option '${option.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}' argument '.*' is invalid\\. ${expected}`,
      ),
    );
    expect(result.stderr).not.toContain("problems in the app config");
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it("an app argument that does not exist is refused for every command", async () => {
    for (const command of ["dev", "routes", "validate", "build"]) {
      const result = await runCli([command, "no/such/app"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^error: command-argument value 'no\/such\/app' is invalid for argument 'app'\. no such file or folder .*: name the app folder/,
      );
    }
  });

  it("deploy without credentials says so and how to provide them (not the bucket)", async () => {
    const home = path.join(TMP, "no-home");
    mkdirSync(home, { recursive: true });
    const env: NodeJS.ProcessEnv = {
      HOME: home,
      AWS_REGION: "us-east-1",
      // The provider chain's last resort is the EC2 metadata address: not from a test.
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
      AWS_PROFILE: "",
      AWS_SHARED_CREDENTIALS_FILE: path.join(home, "none"),
      AWS_CONFIG_FILE: path.join(home, "none"),
      AWS_CONTAINER_CREDENTIALS_FULL_URI: "",
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "",
      AWS_WEB_IDENTITY_TOKEN_FILE: "",
    };
    const result = await runCli(
      ["deploy", "test/fixtures/basic", "--bucket", "my-artifacts", "--out", path.join(TMP, "out")],
      { env },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY .*AWS_PROFILE.*\ndeploy failed\n$/,
    );
    expect(result.stderr).not.toContain("s3://");
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it("deploy without a region says to pass --region", async () => {
    const home = path.join(TMP, "no-home");
    mkdirSync(home, { recursive: true });
    const out = path.join(TMP, "out-no-region");
    const result = await runCli(
      ["deploy", "test/fixtures/basic", "--bucket", "my-artifacts", "--out", out],
      {
        env: {
          HOME: home,
          AWS_REGION: undefined,
          AWS_DEFAULT_REGION: undefined,
          AWS_PROFILE: "",
          AWS_CONFIG_FILE: path.join(home, "none"),
          AWS_EC2_METADATA_DISABLED: "true",
        },
      },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no AWS region: pass --region/);
  });
});

describe("a YAML alias before its anchor is a config error in every format", () => {
  const cases: Array<[string, string]> = [
    ["basic", "switchboard.yaml"],
    ["serverless-chat", "serverless.yml"],
    ["sam-chat", "template.yaml"],
    ["lambdasharp-chat", "Module.yml"],
  ];
  it.each(cases)("%s/%s", async (fixture, file) => {
    const dir = path.join(TMP, `alias-${fixture}`);
    mkdirSync(dir, { recursive: true });
    const text = readFileSync(path.join(REPO_ROOT, "test/fixtures", fixture, file), "utf8");
    writeFileSync(path.join(dir, file), `early: *later\n${text}\nlate: &later 1\n`);
    const result = await runCli(["validate", dir]);
    expect(result.code).toBe(1);
    const shown = path.relative(REPO_ROOT, path.join(dir, file));
    expect(result.stderr).toBe(
      `1 problem in the app config:\n  ${shown}:1:8 (root) — expected valid YAML: an anchor (&later) set before its alias, found *later with no &later above it\n`,
    );
  });
});

describe("switchboard dev waits for a fix when the first config is invalid", () => {
  it("prints the problems, watches, and serves once the config validates", async () => {
    const dir = path.join(TMP, "wait-for-fix");
    cpSync(path.join(REPO_ROOT, "test/fixtures/connect-echo"), dir, { recursive: true });
    const config = path.join(dir, "switchboard.yaml");
    const good = readFileSync(config, "utf8");
    writeFileSync(config, good.replace("stage: test", "stage: 42"));
    const spawned = spawnDev([dir]);
    try {
      await until(() => spawned.output.stderr.includes("waiting for a fix"));
      expect(spawned.output.stderr).toMatch(
        /^1 problem in the app config:\n {2}.*switchboard\.yaml:4:1 stage — expected a string, found a number \(42\)\nswitchboard dev: waiting for a fix \(watching .*wait-for-fix and 1 file it uses\); serving starts once the app loads\. Ctrl-C to stop\.\n$/,
      );
      expect(spawned.child.exitCode).toBe(null);
      // The fix: the server starts, and a client gets in.
      writeFileSync(config, good);
      const dev = await spawned.listening();
      const client = await TestClient.connect(`${dev.url}/test`);
      client.ws.close();
    } finally {
      spawned.child.kill("SIGTERM");
      await spawned.exited;
    }
  });
});

async function until(test: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ESC = String.fromCharCode(27);
const hasTmux = spawnSync("tmux", ["-V"]).status === 0;

describe.skipIf(!hasTmux)("switchboard dev logs on a terminal (tmux)", () => {
  const session = `sb-color-${process.pid}`;
  afterAll(() => {
    spawnSync("tmux", ["kill-session", "-t", session]);
  });

  async function screenOf(env: string): Promise<string> {
    spawnSync("tmux", ["kill-session", "-t", session]);
    execFileSync("tmux", [
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "200",
      "-y",
      "50",
      `cd ${REPO_ROOT} && ${env} ${process.execPath} ${BIN} dev test/fixtures/connect-echo --port 0 --no-watch`,
    ]);
    const screen = () =>
      execFileSync("tmux", ["capture-pane", "-p", "-e", "-t", session], { encoding: "utf8" });
    const deadline = Date.now() + 10_000;
    let text = screen();
    while (!/listening on (ws:\/\/\S+)/.test(text) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      text = screen();
    }
    const url = /listening on (ws:\/\/\S+)/.exec(text)?.[1];
    if (!url) throw new Error(`dev did not start:\n${text}`);
    await runCli(["connect", `${url}/test`, "--send", "x", "--wait", "100"]);
    while (!text.includes("disconnect") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      text = screen();
    }
    return text;
  }

  it("colours the status codes, and NO_COLOR=1 turns colours off (no-color.org)", async () => {
    const coloured = await screenOf("");
    expect(coloured).toMatch(new RegExp(`connect +\\S+ ${ESC}\\[32m101`));
    const plain = await screenOf("NO_COLOR=1");
    expect(plain).toMatch(/connect +\S+ 101 /);
    expect(
      plain
        .split("\n")
        .filter((line) => /^\S*\d\d:\d\d/.test(line))
        .join("\n"),
    ).not.toContain(`${ESC}[`);
  });
});

describe("switchboard dev --json", () => {
  it("rounds every duration to 0.1 ms", async () => {
    const dev = await startDev(["test/fixtures/connect-echo", "--no-watch"]);
    try {
      await runCli(["connect", `${dev.url}/test`, "--send", "a", "--send", "b", "--wait", "100"]);
      await until(() => dev.output.stdout.includes('"event":"disconnect"'));
      const durations = dev.output.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .flatMap((entry) =>
          Object.entries(entry).filter(
            ([key, value]) => key.endsWith("Ms") && typeof value === "number",
          ),
        )
        .map(([, value]) => value as number);
      expect(durations.length).toBeGreaterThan(4);
      for (const ms of durations) expect(Math.round(ms * 10) / 10).toBe(ms);
    } finally {
      await dev.stop();
    }
  });
});
