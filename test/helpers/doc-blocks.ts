/**
 * The runnable fenced blocks of a Markdown document (CONTRIBUTING.md, "Docs that run"): blocks
 * whose info string carries `file=<path>` (written into the example project), `run` (shell
 * commands, executed; `$ ` lines with their expected output) or `check` (a TypeScript snippet,
 * type-checked), optionally `project=<name>` (several projects in one document) and
 * `exit=<code>` (the exit code every command of a `run` block must end with).
 */
export interface DocBlock {
  /** The document, relative to the repository. */
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word (`ts`, `sh`, `console`, `yaml`, ...). */
  lang: string;
  file?: string;
  run: boolean;
  check: boolean;
  project: string;
  exit: number;
  text: string;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*(.*)$/;

/** Every fenced block of `markdown` marked runnable, in document order. */
export function runnableBlocks(markdown: string, doc: string): DocBlock[] {
  const lines = markdown.split("\n");
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? "");
    if (!open) continue;
    const [, indent = "", fence = "", info = ""] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j] ?? "";
      const close = FENCE.exec(line);
      if (
        close &&
        close[2]?.[0] === fence[0] &&
        (close[2]?.length ?? 0) >= fence.length &&
        !close[3]
      ) {
        break;
      }
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    const [lang = "", ...words] = info.trim().split(/\s+/);
    const attrs = new Map(
      words.map((word) => {
        const eq = word.indexOf("=");
        return eq < 0 ? [word, ""] : [word.slice(0, eq), word.slice(eq + 1)];
      }),
    );
    const file = attrs.get("file");
    if (file !== undefined || attrs.has("run") || attrs.has("check")) {
      blocks.push({
        doc,
        line: i + 1,
        lang,
        ...(file ? { file } : {}),
        run: attrs.has("run"),
        check: attrs.has("check"),
        project: attrs.get("project") || "main",
        exit: Number(attrs.get("exit") ?? 0),
        text: `${body.join("\n")}\n`,
      });
    }
    i = j;
  }
  return blocks;
}

/** One command of a `run` block and the output it must print (empty: not checked). */
export interface DocCommand {
  command: string;
  expected: string[];
}

/**
 * The commands of a `run` block. In prompt style (lines starting with `$ `) each command is
 * followed by the lines it prints; otherwise every line is a command whose output is not
 * checked. Comment lines (`#`) and blank lines between commands are skipped.
 */
export function commandsOf(block: DocBlock): DocCommand[] {
  const lines = block.text.replace(/\n$/, "").split("\n");
  const prompted = lines.some((line) => line.startsWith("$ "));
  const commands: DocCommand[] = [];
  for (const line of lines) {
    if (prompted && line.startsWith("$ ")) commands.push({ command: line.slice(2), expected: [] });
    else if (prompted) commands.at(-1)?.expected.push(line);
    else if (line.trim() && !line.trim().startsWith("#"))
      commands.push({ command: line, expected: [] });
  }
  return commands;
}

/**
 * Whether an output line matches an expected one: equal, where every `...` in the expected
 * line stands for any text (ids, times).
 */
export function lineMatches(expected: string, actual: string): boolean {
  const pattern = expected
    .split("...")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${pattern}$`).test(actual);
}
