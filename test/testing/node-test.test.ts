import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/repo-paths.js";

const run = promisify(execFile);

it("switchboard/testing runs under node:test (the built package, no vitest)", async () => {
  const { stdout } = await run(
    process.execPath,
    // TAP on every Node version (Node 24 defaults to the spec reporter even without a terminal).
    ["--test", "--test-reporter=tap", "test/fixtures/node-test/chat.test.mjs"],
    { cwd: REPO_ROOT },
  );
  expect(stdout).toMatch(/^# pass 1$/m);
  expect(stdout).toMatch(/^# fail 0$/m);
}, 60_000);
