import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/repo-paths.js";

const run = promisify(execFile);

describe("a warning repeated by every copy of a dependency is shown once", () => {
  it("the same warning text reaches stderr once; a different one still shows", async () => {
    // In a process of its own: the wrapper is process-wide, as `serve()` installs it.
    const script = `
      const { showWarningsOnce } = await import("./dist/invoker/warn-once.js");
      showWarningsOnce();
      for (let i = 0; i < 5; i++) process.emitWarning("NodeVersionSupportWarning: upgrade node");
      process.emitWarning("something else", "DeprecationWarning");
      await new Promise((r) => setTimeout(r, 50));
    `;
    const { stderr } = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: REPO_ROOT,
    });
    expect(stderr.match(/upgrade node/g)).toHaveLength(1);
    expect(stderr).toContain("something else");
  });

  it("worker threads leave the AWS SDK's Node.js version notice to the gateway process", async () => {
    const script = `
      const { silenceSdkVersionNotice } = await import("./dist/invoker/warn-once.js");
      silenceSdkVersionNotice();
      console.log(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED);
    `;
    const env = { ...process.env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const silenced = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: REPO_ROOT,
      env,
    });
    expect(silenced.stdout.trim()).toBe("true");
    // A value the developer set is theirs.
    const kept = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: REPO_ROOT,
      env: { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "false" },
    });
    expect(kept.stdout.trim()).toBe("false");
  });
});
