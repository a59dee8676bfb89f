import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { REPO_ROOT as ROOT } from "./repo-paths.js";

/** `switchboard dev` in its own process (dist/ is built by test/global-setup.ts). */
export interface DevProcess {
  child: ChildProcess;
  /** `ws://127.0.0.1:<port>` */
  url: string;
  http: string;
  /** Everything written so far. */
  output: () => { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running (afterAll). */
  kill: () => void;
}

/**
 * Start `node bin/switchboard.js dev <target> --port 0 --json --no-watch <extra>` and wait for
 * its listening line. For scenarios a vitest worker cannot host (process-level faults, signals).
 */
export function startDevProcess(
  target: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<DevProcess> {
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, "bin", "switchboard.js"),
      "dev",
      target,
      "--port",
      "0",
      "--json",
      "--no-watch",
      ...extra,
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } },
  );
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`no listening line; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, 20_000);
    const onData = () => {
      const match = /"url":"(ws:\/\/127\.0\.0\.1:\d+)"/.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      const url = match[1] as string;
      resolve({
        child,
        url,
        http: url.replace(/^ws/, "http"),
        output: () => ({ stdout, stderr }),
        exited,
        kill,
      });
    };
    child.stdout?.on("data", onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`dev exited early:\n${stdout}\n${stderr}`));
    });
  });
}
