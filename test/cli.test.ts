import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runChatFlow } from "./helpers/chat-flow.js";
import { BIN, runCli as run } from "./helpers/cli.js";
import { TestClient } from "./helpers/client.js";
import { REPO_ROOT } from "./helpers/repo-paths.js";

// dist/ is built by test/global-setup.ts when it is missing or stale.
const ROOT = REPO_ROOT;

describe("switchboard validate", () => {
  it("prints valid and exits 0 for a good app", async () => {
    const result = await run(["validate", "examples/chat"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("examples/chat/switchboard.config.ts: valid (5 routes)\n");
    expect(result.code).toBe(0);
  });

  it("exits 1 and prints every problem, each with file:line, path, expected and found", async () => {
    const result = await run(["validate", "test/fixtures/invalid"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const file = "test/fixtures/invalid/switchboard.yaml";
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe("4 problems in the app config:");
    expect(lines.slice(1)).toEqual([
      `  ${file}:3:1 stage — expected a string, found a number (42)`,
      expect.stringMatching(
        new RegExp(
          `^  ${file}:8:5 routes\\.send\\.handler — expected an existing module file, found no file test/fixtures/invalid/missing\\.mjs`,
        ),
      ),
      `  ${file}:9:5 routes.send.routeResponse — expected a boolean (true or false), found a string ("maybe")`,
      expect.stringMatching(
        new RegExp(
          `^  ${file}:10:1 colour — expected one of name, .+, found unknown key "colour"$`,
        ),
      ),
    ]);
  });

  it("accepts a config file as well as a folder (the module cache goes next to the file)", async () => {
    const result = await run(["validate", "examples/chat/switchboard.config.ts"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("examples/chat/switchboard.config.ts: valid (5 routes)\n");
    expect(result.code).toBe(0);
  });

  it("exits 1 when there is no config", async () => {
    const result = await run(["validate", "test/helpers"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/problem/);
  });
});

describe("switchboard routes", () => {
  it("prints the route table", async () => {
    const result = await run(["routes", "examples/chat"]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("chat (stage dev) — route selection $request.body.action");
    expect(lines[1]).toMatch(/^ROUTE +HANDLER +RESPONSE +TIMEOUT +BODY$/);
    expect(lines.slice(2).map((line) => line.split(/ +/))).toEqual([
      ["$connect", "examples/chat/src/connect.ts#handler", "one-way", "29s", "-"],
      ["$disconnect", "examples/chat/src/disconnect.ts#handler", "one-way", "29s", "-"],
      // The schema is given in code (websocketHandler({ body })): said so, not "-".
      ["send", "examples/chat/src/chat.ts#send", "one-way", "29s", "websocketHandler"],
      ["whoami", "examples/chat/src/chat.ts#whoami", "two-way", "29s", "-"],
      ["$default", "examples/chat/src/chat.ts#fallback", "one-way", "29s", "-"],
    ]);
    // Columns line up.
    const column = (lines[1] ?? "").indexOf("HANDLER");
    for (const line of lines.slice(2)) expect(line.slice(column)).toMatch(/^examples\//);
  });

  it("names the authorizer once, and schemas given in code", async () => {
    const result = await run(["routes", "test/fixtures/diagnostics"]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(
      lines
        .find((l) => l.startsWith("typed"))
        ?.split(/ +/)
        .at(-1),
    ).toBe("websocketHandler");
    expect(lines.at(-1)).toBe(
      "authorizer: test/fixtures/diagnostics/handlers.ts#authorize on $connect, identity route.request.querystring.token",
    );
    const named = await run(["routes", "test/fixtures/authorizer"]);
    expect(named.stdout).toMatch(
      /^authorizer \(tokenAuthorizer\): test\/fixtures\/authorizer\/handlers\.mjs#authorize on/m,
    );
  });

  it("prints the route table of a config file named directly", async () => {
    const result = await run(["routes", "test/fixtures/basic/switchboard.yaml"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^basic \(stage /);
  });

  it("prints the App model with --json", async () => {
    const result = await run(["routes", "examples/chat", "--json"]);
    expect(result.code).toBe(0);
    const app = JSON.parse(result.stdout) as {
      name: string;
      stage: string;
      routes: Array<{ key: string }>;
    };
    expect(app.name).toBe("chat");
    expect(app.stage).toBe("dev");
    expect(app.routes.map((r) => r.key)).toEqual([
      "$connect",
      "$disconnect",
      "send",
      "whoami",
      "$default",
    ]);
  });
});

describe("switchboard dev examples/chat --port 0 --json", () => {
  let child: ChildProcess;
  let stdout = "";
  let stderr = "";
  let url: string;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  beforeAll(async () => {
    child = spawn(
      process.execPath,
      [BIN, "dev", "examples/chat", "--port", "0", "--json", "--no-watch"],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    exited = new Promise((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no listening line; stdout:\n${stdout}\nstderr:\n${stderr}`)),
        15_000,
      );
      child.stdout!.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /"url":"(ws:\/\/127\.0\.0\.1:(\d+))"/.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] as string);
        }
      });
      void exited.then(() => reject(new Error(`dev exited early:\n${stderr}`)));
    });
  });
  afterAll(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  it("announces the real port it bound, with the @connections endpoint, as a JSON line", () => {
    const port = Number(/:(\d+)$/.exec(url)?.[1]);
    expect(port).toBeGreaterThan(0);
    const first = JSON.parse(stdout.split("\n")[0] as string) as Record<string, unknown>;
    expect(first).toMatchObject({
      event: "listening",
      app: "chat",
      stage: "dev",
      url,
      management: `http://127.0.0.1:${port}/dev/@connections/{connectionId}`,
      page: `http://127.0.0.1:${port}/index.html`,
      routes: ["$connect", "$disconnect", "send", "whoami", "$default"],
    });
  });

  it("chats: known users get in, messages reach the room, whoami answers, bad bodies are refused", async () => {
    await runChatFlow(url);
  });

  it("logs one JSON object per line, including connect, invoke and disconnect", async () => {
    // The disconnect of the last client is logged asynchronously.
    const deadline = Date.now() + 3000;
    while (!stdout.includes('"event":"disconnect"') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // Every line is JSON in --json mode (the banner too), so the output pipes into jq.
    const logLines = stdout.split("\n").filter((line) => line !== "");
    expect(logLines.length).toBeGreaterThan(5);
    const entries = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const events = new Set(entries.map((e) => e.event));
    for (const event of ["connect", "message", "invoke", "disconnect"])
      expect(events).toContain(event);
    for (const entry of entries) {
      expect(entry.time).toMatch(/^\d{4}-\d{2}-\d{2}T.+Z$/);
      // "error" exactly for failures: error events and invocations that did not end "ok";
      // "warn" for answers to a client (a body that failed its schema, an authorizer's deny).
      const answered =
        entry.event === "invoke" && (entry.outcome === "bad-request" || entry.outcome === "denied");
      const failure =
        entry.event === "error" || (entry.event === "invoke" && entry.outcome !== "ok");
      expect({ event: entry.event, level: entry.level }).toEqual({
        event: entry.event,
        level: answered ? "warn" : failure ? "error" : "info",
      });
    }
    const connects = entries.filter((e) => e.event === "connect");
    expect(connects.map((e) => e.status)).toEqual(expect.arrayContaining([101, 403, 400]));
    expect(
      entries.some((e) => e.event === "invoke" && e.routeKey === "whoami" && e.outcome === "ok"),
    ).toBe(true);
    expect(entries.some((e) => e.event === "invoke" && e.outcome === "bad-request")).toBe(true);
    expect(entries.some((e) => e.event === "disconnect" && e.code === 1005)).toBe(true);
  });

  it("stops on SIGTERM with exit code 0, closing open connections with 1001", async () => {
    const carol = await TestClient.connect(`${url}/dev?user=carol`);
    child.kill("SIGTERM");
    expect(await carol.closed).toEqual({ code: 1001, reason: "Going away" });
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(stderr).toBe("");
  });
});

describe("switchboard dev --no-watch on an invalid app", () => {
  it("exits 1 with the formatted issues (with watching, it waits for a fix: cli-errors.test.ts)", async () => {
    const result = await run(["dev", "test/fixtures/invalid", "--port", "0", "--no-watch"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^4 problems in the app config:\n {2}test\/fixtures\/invalid\/switchboard\.yaml:3:1 stage/,
    );
    expect(result.stdout).not.toContain("listening");
  });
});
