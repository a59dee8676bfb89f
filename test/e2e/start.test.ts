import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { singleRedis } from "../helpers/redis-deployment.js";
import { REPO_ROOT } from "../helpers/repo-paths.js";
import { START_BIN as BIN, freePort } from "../helpers/start-node.js";
import { START_APP as APP, describeStartSuite } from "./start-suite.js";

// The `switchboard start` suite (start-suite.ts) on one redis-server of this file's own; the
// same suite runs on a 3-master Redis Cluster in start-redis-cluster.test.ts.
describeStartSuite("switchboard start: three nodes on one Redis", singleRedis);

describe("switchboard start: what it says when it cannot start", () => {
  /** A node with no keys and no Redis unless `env` gives them. */
  function spawnStart(args: string[], env: NodeJS.ProcessEnv = {}) {
    return spawn(process.execPath, [BIN, "start", APP, "--host", "127.0.0.1", ...args], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        SWITCHBOARD_ACCESS_KEY_ID: "",
        SWITCHBOARD_SECRET_ACCESS_KEY: "",
        REDIS_URL: "",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  function run(args: string[], env: NodeJS.ProcessEnv = {}) {
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawnStart(args, env);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  }

  it("a bad port: what was expected and found, exit 1, no stack", async () => {
    const result = await run(["--port", "http"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--port: expected a port number 0-65535, found "http"/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("half a key pair: which variable is missing", async () => {
    const result = await run(["--port", "0"], {
      SWITCHBOARD_ACCESS_KEY_ID: "SBTESTKEY00000000001",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "switchboard start: SB_ERR_CONFIG: environment — expected both SWITCHBOARD_ACCESS_KEY_ID and SWITCHBOARD_SECRET_ACCESS_KEY, found only SWITCHBOARD_ACCESS_KEY_ID\n",
    );
  });

  it("Redis unreachable: the URL without its password, and what to check", async () => {
    const port = await freePort();
    const result = await run(["--port", "0"], { REDIS_URL: `redis://:secret@127.0.0.1:${port}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^switchboard start: SB_ERR_REDIS: cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}.*\\(is Redis running\\? check --redis or REDIS_URL\\)\\n$`,
      ),
    );
    expect(result.stderr).not.toContain("secret");
  });

  it("without keys: loopback callers only, said at start-up", async () => {
    const child = spawnStart(["--port", "0"]);
    let stdout = "";
    await new Promise<void>((resolve) => {
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.split("\n").length > 2) resolve();
      });
    });
    const [listening, warning] = stdout.split("\n").map((l) => JSON.parse(l || "{}"));
    expect(listening).toMatchObject({ event: "listening", managementAuth: "loopback" });
    expect(warning).toMatchObject({ level: "warn", event: "management-auth" });
    child.kill("SIGTERM");
    await new Promise((resolve) => child.on("exit", resolve));
  });
});
