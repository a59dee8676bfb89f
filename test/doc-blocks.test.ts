import { describe, expect, it } from "vitest";
import { commandsOf, lineMatches, runnableBlocks } from "./helpers/doc-blocks.js";

// The parser of test/docs.test.ts: what it collects decides which examples are run at all.
describe("runnable doc blocks", () => {
  const doc = [
    "# Guide",
    "```ts",
    "not marked: never run",
    "```",
    "````md file=NOTES.md project=p",
    "```ts file=inner.ts",
    "````",
    "  ```console run exit=2",
    "  $ npx switchboard connect . --send hi",
    '  {"id":"..."}',
    "  $ true",
    "  ```",
    "```sh run",
    "# a comment",
    "npx switchboard validate",
    "",
    "npx switchboard routes",
    "```",
  ].join("\n");
  const blocks = runnableBlocks(doc, "guide.md");

  it("collects only marked blocks, with their attributes and 1-based lines", () => {
    expect(blocks.map((b) => [b.line, b.lang, b.file, b.run, b.project, b.exit])).toEqual([
      [5, "md", "NOTES.md", false, "p", 0],
      [8, "console", undefined, true, "main", 2],
      [13, "sh", undefined, true, "main", 0],
    ]);
  });

  it("keeps a shorter fence inside a longer one, and strips a list's indentation", () => {
    expect(blocks[0]?.text).toBe("```ts file=inner.ts\n");
    expect(blocks[1]?.text).toBe('$ npx switchboard connect . --send hi\n{"id":"..."}\n$ true\n');
  });

  it("reads prompt-style commands with their output, and plain lines as commands", () => {
    expect(commandsOf(blocks[1]!)).toEqual([
      { command: "npx switchboard connect . --send hi", expected: ['{"id":"..."}'] },
      { command: "true", expected: [] },
    ]);
    expect(commandsOf(blocks[2]!).map((c) => c.command)).toEqual([
      "npx switchboard validate",
      "npx switchboard routes",
    ]);
  });

  it("matches output lines exactly, with ... for any text", () => {
    expect(lineMatches('{"id":"..."}', '{"id":"Ab1=="}')).toBe(true);
    expect(lineMatches('{"id":"..."}', '{"id":"x","extra":1}')).toBe(false);
    expect(lineMatches("valid (4 routes)", "valid (4 routes)")).toBe(true);
    expect(lineMatches("valid (4 routes)", "valid (3 routes)")).toBe(false);
    expect(lineMatches("a.b", "axb")).toBe(false);
  });
});
