import { mkdtemp, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { type DevProcess, startDevProcess } from "../helpers/dev-process.js";
import { eventually } from "../helpers/eventually.js";
import { FIXTURES, tmpdir } from "../helpers/server.js";

// In a child process (`switchboard dev`): vitest has process-level handlers of its own, and
// the point is what happens to a real gateway process.

type LogLine = Record<string, unknown>;

const jsonLines = (stdout: string): LogLine[] =>
  stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as LogLine);

for (const mode of ["in-process", "isolated"] as const) {
  describe(`a handler's process-level fault fails its invocation only (${mode})`, () => {
    let dev: DevProcess;
    let scratch: string;
    let log: string;
    let bystander: TestClient;
    beforeAll(async () => {
      scratch = await mkdtemp(path.join(tmpdir(), "switchboard-faults-"));
      log = path.join(scratch, "disconnects.txt");
      dev = await startDevProcess(
        path.join(FIXTURES, "faults"),
        mode === "isolated" ? ["--isolate"] : [],
        { DISCONNECT_LOG: log },
      );
      bystander = await TestClient.connect(dev.url);
    });
    afterAll(async () => {
      dev?.kill();
      await rm(scratch, { recursive: true, force: true });
    });

    it.each([
      ["reject", "Runtime.UnhandledPromiseRejection: Error: lost promise"],
      ["timer", "Error: timer boom"],
      ["exit", "Runtime.ExitError"],
    ])(
      "%s: the caller gets the error frame, every connection stays and is served",
      async (action, logged) => {
        const faulty = await TestClient.connect(dev.url);
        const frame = await faulty.ask({ action }, 5000);
        expect(frame).toMatchObject({ message: "Internal server error" });
        // The faulty connection, the bystander and new connections are all served.
        expect(await faulty.ask({ action: "echo", n: 1 })).toEqual({ action: "echo", n: 1 });
        expect(await bystander.ask({ action: "echo", n: 2 })).toEqual({ action: "echo", n: 2 });
        const fresh = await TestClient.connect(dev.url);
        expect(await fresh.ask({ action: "echo", n: 3 })).toEqual({ action: "echo", n: 3 });
        await fresh.close();
        await faulty.close();
        expect(dev.child.exitCode).toBeNull();
        const failed = await eventually(async () =>
          jsonLines(dev.output().stdout).find(
            (l) => l.event === "invoke" && l.routeKey === action && l.outcome === "error",
          ),
        );
        expect(String(failed.error)).toContain(logged);
      },
    );

    it("a fault after the invocation answered is logged; nothing drops", async () => {
      const client = await TestClient.connect(dev.url);
      expect(await client.next(100).catch(() => undefined)).toBeUndefined();
      client.send({ action: "late" });
      expect(await client.next()).toBe("answered");
      await new Promise((r) => setTimeout(r, 200));
      expect(await client.ask({ action: "echo", n: 4 })).toEqual({ action: "echo", n: 4 });
      await client.close();
      expect(dev.child.exitCode).toBeNull();
      if (mode === "in-process") {
        const reported = await eventually(async () =>
          jsonLines(dev.output().stdout).find(
            (l) => l.event === "error" && String(l.message).includes("after the invocation ended"),
          ),
        );
        expect(String(reported.message)).toContain("uncaught exception");
      }
    });

    it("$disconnect runs for connections that close after the faults", async () => {
      const before = (await readFile(log, "utf8").catch(() => "")).split("\n").length;
      await bystander.close(1000);
      await eventually(async () => {
        const lines = (await readFile(log, "utf8").catch(() => "")).split("\n");
        return lines.length > before ? true : undefined;
      });
      expect(dev.child.exitCode).toBeNull();
    });
  });
}

describe("the startup line names the answer to a synchronous infinite loop", () => {
  it("says --isolate in in-process mode, and the JSON line names the invoker", async () => {
    const dev = await startDevProcess(path.join(FIXTURES, "faults"));
    try {
      const first = jsonLines(dev.output().stdout)[0] ?? {};
      expect(first.invoker).toBe("in-process");
      expect(String(first.note)).toContain("--isolate");
    } finally {
      dev.kill();
    }
  });
});
