import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/repo-paths.js";
import { FIXTURES, startApp } from "../helpers/server.js";

/** Run an ES module script with node (dist/ is built by the global setup). */
function runScript(
  source: string,
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", source], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

const devServer = JSON.stringify(path.join(REPO_ROOT, "dist", "dev", "dev-server.js"));
const fixture = JSON.stringify(path.join(FIXTURES, "faults"));

describe("fault containment is the serving gateway's only, and only for handlers", () => {
  it("installs its process handlers while serving and removes them on close", async () => {
    const exit = process.exit;
    const before = {
      uncaught: process.listenerCount("uncaughtException"),
      rejection: process.listenerCount("unhandledRejection"),
    };
    const app = await startApp("faults");
    expect(process.listenerCount("uncaughtException")).toBe(before.uncaught + 1);
    expect(process.listenerCount("unhandledRejection")).toBe(before.rejection + 1);
    expect(process.exit).not.toBe(exit);
    await app.close();
    expect(process.listenerCount("uncaughtException")).toBe(before.uncaught);
    expect(process.listenerCount("unhandledRejection")).toBe(before.rejection);
    expect(process.exit).toBe(exit);
  });

  it("an error that is not a handler's still ends the process (code 1, printed)", async () => {
    const result = await runScript(`
      import { DevServer } from ${devServer};
      await DevServer.start({ target: ${fixture}, port: 0, watch: false });
      setTimeout(() => { throw new Error("gateway bug, not a handler's"); }, 10);
    `);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("gateway bug, not a handler's");
  });

  it("a rejection that is not a handler's still ends the process", async () => {
    const result = await runScript(`
      import { DevServer } from ${devServer};
      await DevServer.start({ target: ${fixture}, port: 0, watch: false });
      setTimeout(() => Promise.reject(new Error("stray rejection")), 10);
    `);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("stray rejection");
  });

  it("process.exit() outside a handler still exits, with its code", async () => {
    const result = await runScript(`
      import { DevServer } from ${devServer};
      await DevServer.start({ target: ${fixture}, port: 0, watch: false });
      setTimeout(() => process.exit(4), 10);
    `);
    expect(result.code).toBe(4);
  });
});
