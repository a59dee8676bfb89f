import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DevServer, type DevServerOptions } from "../../src/dev/dev-server.js";

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures");

export type RunningApp = Awaited<ReturnType<typeof DevServer.start>> & {
  /** `ws://127.0.0.1:<port>` */
  url: string;
  /** `http://127.0.0.1:<port>` */
  http: string;
};

/** Start `switchboard dev` on a free port for a fixture folder (or any path). */
export async function startApp(
  fixture: string,
  options: Partial<DevServerOptions> = {},
): Promise<RunningApp> {
  const target = path.isAbsolute(fixture) ? fixture : path.join(FIXTURES, fixture);
  const server = await DevServer.start({ target, port: 0, watch: false, ...options });
  return Object.assign(server, { http: server.url.replace(/^ws/, "http") });
}

/** Copy a fixture to a temp folder (for tests that edit files), with a cleanup function. */
export async function copyFixture(
  fixture: string,
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  // Inside the repo so the fixture's bare imports (ws, zod, the AWS SDK) resolve from node_modules.
  const base = path.join(FIXTURES, "..", ".tmp");
  await import("node:fs/promises").then((fs) => fs.mkdir(base, { recursive: true }));
  const dir = await mkdtemp(path.join(base, `${fixture}-`));
  await cp(path.join(FIXTURES, fixture), dir, { recursive: true });
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export { tmpdir };
