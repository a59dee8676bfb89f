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

/**
 * Run the CLI to completion from the repository root, optionally feeding stdin. `env` is laid
 * over this process's environment; a variable given as `undefined` is removed.
 */
export function runCli(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: Object.fromEntries(
        Object.entries({ ...process.env, ...options.env }).filter(([, v]) => v !== undefined),
      ),
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

/** A `switchboard dev` child process not yet known to listen. */
export interface SpawnedDev {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The URL of its listening line; rejects if it exits first or `timeoutMs` passes. */
  listening(timeoutMs?: number): Promise<DevProcess>;
}

/** Spawn `switchboard dev <args> --port 0 --json`. */
export function spawnDev(args: string[]): SpawnedDev {
  const child = spawn(process.execPath, [BIN, "dev", ...args, "--port", "0", "--json"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = { stdout: "", stderr: "" };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  child.stderr.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
  child.stdout.on("data", (chunk: Buffer) => (output.stdout += chunk.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  return {
    child,
    output,
    exited,
    listening: (timeoutMs = 15_000) =>
      new Promise<DevProcess>((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const poll = () => {
          const match = /"url":"(ws:\/\/[^"]+)"/.exec(output.stdout);
          if (match) resolve({ child, url: match[1] as string, output, exited, stop });
          else if (child.exitCode !== null || child.signalCode !== null) {
            reject(new Error(`dev exited early:\n${output.stderr}`));
          } else if (Date.now() > deadline) {
            child.kill("SIGKILL");
            reject(
              new Error(`no listening line; stdout:\n${output.stdout}\nstderr:\n${output.stderr}`),
            );
          } else setTimeout(poll, 20);
        };
        poll();
      }),
  };
}

/** Start `switchboard dev <args> --port 0 --json` and wait for its listening line. */
export function startDev(args: string[], timeoutMs = 15_000): Promise<DevProcess> {
  return spawnDev(args).listening(timeoutMs);
}
