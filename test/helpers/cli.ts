import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { REPO_ROOT as ROOT } from "./repo-paths.js";

/** The CLI as users run it (dist/ is built by test/global-setup.ts when stale). */
export const BIN = path.join(ROOT, "bin", "switchboard.js");

export type Run = {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
};

/** Run the CLI to completion from the repository root, optionally feeding stdin. */
export function runCli(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** A `switchboard dev` child process, with its output so far. */
export interface DevProcess {
  child: ChildProcess;
  url: string;
  output: { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/**
 * Start `switchboard dev <args> --port 0 --json` and wait for its listening line.
 */
export async function startDev(args: string[], timeoutMs = 15_000): Promise<DevProcess> {
  const child = spawn(process.execPath, [BIN, "dev", ...args, "--port", "0", "--json"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = { stdout: "", stderr: "" };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  child.stderr.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no listening line; stdout:\n${output.stdout}\nstderr:\n${output.stderr}`));
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      output.stdout += chunk.toString();
      const match = /"url":"(ws:\/\/[^"]+)"/.exec(output.stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`dev exited early:\n${output.stderr}`));
    });
  });
  return {
    child,
    url,
    output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
