import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type DocBlock, runnableBlocks } from "./helpers/doc-blocks.js";
import { runDocProject } from "./helpers/doc-project.js";
import { REPO_ROOT } from "./helpers/repo-paths.js";

/** README.md and every guide in docs/. */
const DOCS = [
  "README.md",
  ...readdirSync(path.join(REPO_ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

const ROOT = mkdtempSync(path.join(os.tmpdir(), "switchboard-docs-"));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

// Every fenced example in README.md and docs/ marked runnable (CONTRIBUTING.md, "Docs that
// run") is executed against the packed package in a project outside the repository, so the
// Quick start and every guide stay true.
describe("docs that run", () => {
  const cases = DOCS.flatMap((doc) => {
    const blocks = runnableBlocks(readFileSync(path.join(REPO_ROOT, doc), "utf8"), doc);
    const projects = new Map<string, DocBlock[]>();
    for (const block of blocks)
      projects.set(block.project, [...(projects.get(block.project) ?? []), block]);
    return [...projects].map(([project, projectBlocks]) => ({
      name: `${doc} (${project})`,
      blocks: projectBlocks,
    }));
  });

  it("the README's Quick start is runnable", () => {
    expect(cases.map((c) => c.name)).toContain("README.md (main)");
  });

  it.concurrent.each(cases)("$name", { timeout: 120_000 }, async ({ name, blocks }) => {
    await runDocProject(path.join(ROOT, name.replace(/[^\w.-]+/g, "_")), blocks);
  });
});
