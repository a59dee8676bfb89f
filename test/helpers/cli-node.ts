import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = path.join(ROOT, "bin", "switchboard.js");

/** `switchboard dev --redis` in a child process (one that can be frozen or killed). */
export interface CliNode {
  child: ChildProcess;
  /** `ws://127.0.0.1:<port>` */
  url: string;
  /** Every JSON log line so far. */
  lines: Array<Record<string, unknown>>;
  /** Stop it (SIGTERM; SIGKILL after 3 s) unless it is gone already. */
  stop(): Promise<void>;
}

/** Start a node of `app` (a folder) on a free port and wait for its `listening` line. */
export function startCliNode(app: string, redisUrl: string): Promise<CliNode> {
  const child = spawn(
    process.execPath,
    [BIN, "dev", app, "--port", "0", "--no-watch", "--json", "--redis", redisUrl],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  const lines: Array<Record<string, unknown>> = [];
  let buffered = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGCONT");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`node did not start within 15 s: ${stderr}`));
    }, 15_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited (${code}): ${stderr}`));
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      for (const part of parts) {
        let line: Record<string, unknown>;
        try {
          line = JSON.parse(part) as Record<string, unknown>;
        } catch {
          continue;
        }
        lines.push(line);
        if (line.event === "listening") {
          clearTimeout(timer);
          resolve({ child, url: String(line.url), lines, stop });
        }
      }
    });
  });
}
