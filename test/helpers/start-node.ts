import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { REPO_ROOT } from "./repo-paths.js";

/** `switchboard start` as the tests run it: dist/, built by the global setup. */
export const START_BIN = path.join(REPO_ROOT, "bin", "switchboard.js");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A running `switchboard start` node. */
export interface StartNode {
  child: ChildProcess;
  /** `ws://.../prod` */
  url: string;
  /** `http://host:port` (the `@connections` API is under `/prod`). */
  http: string;
  admin: string;
  /** Its JSON log lines so far. */
  lines: Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; at: number }>;
}

/**
 * Spawns `switchboard start <app> --port 0 --host 127.0.0.1 --admin-port 0 <args>` with `env`
 * (over this process's, without its AWS credentials: functions then sign with the first
 * configured pair) and resolves once it logs `listening`.
 */
export async function startNode(
  app: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  name = "node",
): Promise<StartNode> {
  const base = { ...process.env };
  delete base.AWS_ACCESS_KEY_ID;
  delete base.AWS_SECRET_ACCESS_KEY;
  delete base.AWS_SESSION_TOKEN;
  delete base.AWS_PROFILE;
  const child = spawn(
    process.execPath,
    [START_BIN, "start", app, "--port", "0", "--host", "127.0.0.1", "--admin-port", "0", ...args],
    { cwd: REPO_ROOT, env: { ...base, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const lines: Array<Record<string, unknown>> = [];
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on("exit", (code) => resolve({ code, at: Date.now() })),
  );
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffer = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        const line = JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>;
        lines.push(line);
        if (line.event === "listening") resolve(line);
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf("\n");
      }
    });
    void exited.then(({ code }) => reject(new Error(`node ${name} exited ${code}: ${stderr}`)));
  });
  const line = await listening;
  const url = line.url as string;
  return {
    child,
    url: `${url}/prod`,
    http: url.replace(/^ws/, "http"),
    admin: line.admin as string,
    lines,
    exited,
  };
}
