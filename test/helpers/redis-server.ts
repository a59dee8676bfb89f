import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./start-node.js";

/**
 * A `redis-server` of a test's own (for outages and restarts the shared one must not suffer):
 * no persistence of its own, on a free port, in a temporary folder. `stop` / `start` make an
 * outage; `stop({ keep: true })` saves a snapshot first, so `start` comes back with the data
 * (an outage), while `stop()` loses it (a restart empty).
 */
export class OwnRedis {
  readonly port: number;
  readonly url: string;
  readonly #dir: string;
  #child: ChildProcess | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.#dir = dir;
  }

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort(), await mkdtemp(path.join(tmpdir(), "sb-redis-")));
    await redis.start();
    return redis;
  }

  /** Start (again) on the same port; loads the snapshot `stop({ keep: true })` left. */
  async start(): Promise<void> {
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
    ];
    this.#child = spawn("redis-server", [...args, "--dir", this.#dir], { stdio: "ignore" });
    const deadline = Date.now() + 5000;
    for (;;) {
      const probe = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null });
      probe.on("error", () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        probe.disconnect();
      }
    }
  }

  /** Shut down; with `keep`, the data is saved and comes back on `start`. */
  async stop(options: { keep?: boolean } = {}): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const admin = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null });
    admin.on("error", () => undefined);
    try {
      await admin.connect();
      await admin.call("SHUTDOWN", options.keep ? "SAVE" : "NOSAVE").catch(() => undefined);
    } catch {
      child.kill("SIGTERM");
    } finally {
      admin.disconnect();
    }
    await exited;
    if (!options.keep) await rm(path.join(this.#dir, "dump.rdb"), { force: true });
  }

  /** Stop for good and remove the folder. */
  async close(): Promise<void> {
    await this.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
