import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface, type Interface } from "node:readline";
import type { Command } from "commander";
import WebSocket from "ws";
import type { DevServer } from "../dev/dev-server.js";
import { attachLogger } from "../gateway/log.js";
import { printError } from "./command-failure.js";
import { collect, headerPair, milliseconds, queryPair } from "./option-values.js";

/**
 * Exit codes of `switchboard connect` (documented in docs/dev.md).
 * - 0: the run ended as asked (silence after the frames were sent, `/quit`, Ctrl-D, or the
 *   server closed with 1000 Normal Closure)
 * - 1: bad arguments, or the app folder did not load
 * - 2: the server refused the handshake (HTTP status shown)
 * - 3: nothing answered (no server at the address, DNS, TLS)
 * - 4: the server closed the connection with a code other than 1000
 */
export const CONNECT_EXIT = { ok: 0, usage: 1, refused: 2, unreachable: 3, closed: 4 } as const;

/** Bytes of a refusal's body shown; a $connect handler may answer with a large page. */
const REFUSAL_BODY_LIMIT = 2048;

interface ConnectOptions {
  header?: Array<[string, string]>;
  query?: Array<[string, string]>;
  send?: string[];
  wait: number;
  protocol?: string[];
}

class HandshakeRefused extends Error {
  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly body: string,
  ) {
    super(`the server refused the connection: HTTP ${status} ${statusText}`);
  }
}

class Unreachable extends Error {}

/** Control characters of a frame, escaped: a server's frame must not drive the terminal. */
function printable(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** JSON frames indented, anything else as it came. */
function pretty(text: string): string {
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // Not JSON after all: shown as is.
    }
  }
  return text;
}

function closeText(code: number, reason: string): string {
  return `closed ${code}${reason ? ` ${printable(JSON.stringify(reason))}` : ""}`;
}

function open(url: string, options: ConnectOptions): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocol ?? [], {
      headers: Object.fromEntries(options.header ?? []),
      handshakeTimeout: 30_000,
    });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        if (size < REFUSAL_BODY_LIMIT) chunks.push(chunk);
        size += chunk.length;
      });
      const done = () => {
        const body = Buffer.concat(chunks).toString("utf8").slice(0, REFUSAL_BODY_LIMIT);
        reject(new HandshakeRefused(res.statusCode ?? 0, res.statusMessage ?? "", body));
        res.destroy();
      };
      res.once("end", done);
      res.once("error", done);
    });
    ws.once("error", (error) => reject(new Unreachable(error.message)));
  });
}

/** The URL to connect to, and the app started for it when `target` is an app. */
async function resolveTarget(
  target: string,
): Promise<{ url: string; server?: DevServer } | undefined> {
  if (/^wss?:\/\//i.test(target)) return { url: target };
  if (/^https?:\/\//i.test(target)) return { url: target.replace(/^http/i, "ws") };
  if (!existsSync(path.resolve(target))) {
    process.stderr.write(
      `switchboard connect: ${target} is neither a ws:// or wss:// URL nor an app folder or config file.\n` +
        "  Give the URL `switchboard dev` printed (ws://127.0.0.1:3001/<stage>) or an app folder.\n",
    );
    return undefined;
  }
  // The handlers' console output would mix with the frames on stdout: it goes to stderr.
  for (const name of ["log", "info", "debug"] as const) console[name] = console.error;
  const { DevServer } = await import("../dev/dev-server.js");
  process.setSourceMapsEnabled(true);
  const server = await DevServer.start({
    target: path.resolve(target),
    port: 0,
    watch: false,
    staticDir: false,
  });
  // Errors only, on stderr (an uncaught "error" event would end the process).
  attachLogger(server.gateway, {
    mode: "quiet",
    write: (line) => process.stderr.write(`${line}\n`),
  });
  return { url: `${server.url}/${server.app.stage}`, server };
}

function withQuery(url: string, query: Array<[string, string]>): string {
  if (query.length === 0) return url;
  const parsed = new URL(url);
  for (const [name, value] of query) parsed.searchParams.append(name, value);
  return parsed.toString();
}

function explain(error: unknown, url: string): number {
  if (error instanceof HandshakeRefused) {
    const body = error.body.trim();
    process.stderr.write(
      `switchboard connect: ${error.message}${body ? `: ${printable(body)}` : ""}\n` +
        (error.status === 401 || error.status === 403
          ? "  The $connect handler or the authorizer said no (check --header and --query, e.g. --header Authorization:<token>),\n  or the path is not the API's stage (API Gateway answers 403 for an unknown stage; the URL ends with it, e.g. ws://127.0.0.1:3001/dev).\n"
          : ""),
    );
    return CONNECT_EXIT.refused;
  }
  process.stderr.write(
    `switchboard connect: cannot reach ${url}: ${error instanceof Error ? error.message : String(error)}\n` +
      "  Is `switchboard dev` running there? Or name the app folder to start it for this run.\n",
  );
  return CONNECT_EXIT.unreachable;
}

/**
 * Scripted mode: send each frame in order (from `--send`, or stdin's lines), print every
 * received frame on its own stdout line, and close after `wait` ms without traffic.
 */
async function runScripted(
  ws: WebSocket,
  frames: string[] | undefined,
  wait: number,
): Promise<number> {
  return new Promise<number>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let inputDone = frames !== undefined;
    let result: number | undefined;
    const finish = (code: number) => {
      if (result !== undefined) return;
      result = code;
      clearTimeout(timer);
      resolve(code);
    };
    const arm = () => {
      clearTimeout(timer);
      if (!inputDone) return;
      timer = setTimeout(() => {
        ws.close(1000);
        // A server that never answers the close frame does not hold the run.
        setTimeout(() => ws.terminate(), 1000).unref();
      }, wait);
    };
    ws.on("message", (data: WebSocket.RawData) => {
      process.stdout.write(`${data.toString()}\n`);
      arm();
    });
    ws.on("close", (code: number, reason: Buffer) => {
      if (code !== 1000) process.stderr.write(`${closeText(code, reason.toString())}\n`);
      finish(code === 1000 || code === 1005 ? CONNECT_EXIT.ok : CONNECT_EXIT.closed);
    });
    ws.on("error", (error) => {
      process.stderr.write(`switchboard connect: ${error.message}\n`);
    });
    if (frames) {
      for (const frame of frames) ws.send(frame);
      arm();
    } else {
      const lines = createInterface({ input: process.stdin, terminal: false });
      lines.on("line", (line) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(line);
        arm();
      });
      lines.on("close", () => {
        inputDone = true;
        arm();
      });
    }
  });
}

async function scripted(url: string, options: ConnectOptions): Promise<number> {
  let ws: WebSocket;
  try {
    ws = await open(url, options);
  } catch (error) {
    return explain(error, url);
  }
  return runScripted(ws, options.send, options.wait);
}

const HELP = [
  "Type a line to send it as a text frame. Commands:",
  "  /close [code] [reason]  close the connection (default 1000)",
  "  /reconnect              connect again (Enter on an empty line does too, once closed)",
  "  /quit                   exit (also Ctrl-D, Ctrl-C)",
  "  //text                  send /text",
].join("\n");

/** Interactive mode: a prompt with line editing and history; frames shown as they come. */
async function runInteractive(url: string, options: ConnectOptions): Promise<number> {
  const rl: Interface = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: "> ",
    historySize: 1000,
  });
  let ws: WebSocket | undefined;
  // Once the prompt is closed (/quit, Ctrl-D), nothing may use it again (Node 24 throws).
  let ended = false;
  const say = (text: string) => {
    // Above the prompt, keeping what is being typed.
    process.stdout.write("\r\u001b[K");
    process.stdout.write(`${text}\n`);
    if (!ended) rl.prompt(true);
  };
  const connect = async () => {
    say(`connecting to ${url}`);
    try {
      const socket = await open(url, options);
      ws = socket;
      say(`connected (/help for commands)`);
      socket.on("message", (data: WebSocket.RawData) => {
        say(`< ${printable(pretty(data.toString())).replace(/\n/g, "\n  ")}`);
      });
      socket.on("close", (code: number, reason: Buffer) => {
        if (ws === socket) ws = undefined;
        say(`${closeText(code, reason.toString())} — Enter or /reconnect to connect again`);
      });
      socket.on("error", (error) => say(`error: ${error.message}`));
    } catch (error) {
      if (error instanceof HandshakeRefused) {
        const body = error.body.trim();
        say(`${error.message}${body ? `: ${printable(body)}` : ""} — Enter or /reconnect to retry`);
      } else {
        say(
          `cannot reach ${url}: ${error instanceof Error ? error.message : String(error)} — Enter or /reconnect to retry`,
        );
      }
    }
  };
  return new Promise<number>((resolve) => {
    rl.on("line", (line) => {
      const command = /^\/(\w+)\s*(.*)$/.exec(line);
      if (line === "" && !ws) void connect();
      else if (command?.[1] === "quit" || command?.[1] === "exit") rl.close();
      else if (command?.[1] === "help") say(HELP);
      else if (command?.[1] === "reconnect") {
        const old = ws;
        ws = undefined;
        old?.close(1000);
        void connect();
      } else if (command?.[1] === "close") {
        const [, code, reason] = /^(\d+)?\s*(.*)$/.exec(command[2] ?? "") ?? [];
        try {
          ws?.close(code ? Number(code) : 1000, reason ?? "");
        } catch (error) {
          say(`cannot close: ${(error as Error).message}`);
        }
        if (!ws) say("not connected");
      } else if (command) say(`unknown command /${command[1]} (/help lists them)`);
      else if (line !== "") {
        const text = line.startsWith("//") ? line.slice(1) : line;
        if (ws?.readyState === WebSocket.OPEN) ws.send(text);
        else say("not connected — Enter or /reconnect to connect");
      }
      if (!ended) rl.prompt();
    });
    rl.on("SIGINT", () => rl.close());
    rl.on("close", () => {
      ended = true;
      process.stdout.write("\n");
      ws?.close(1000);
      resolve(CONNECT_EXIT.ok);
    });
    void connect();
  });
}

/**
 * Register `switchboard connect <url|app>`: a WebSocket client for trying an API by hand
 * (interactive on a terminal) or from scripts and docs (`--send`, stdin).
 *
 * @example
 * ```sh
 * switchboard connect examples/chat --query user=alice --send '{"action":"whoami"}'
 * ```
 */
export function registerConnectCommand(program: Command): Command {
  return program
    .command("connect")
    .description(
      "Connect a WebSocket client: to a URL, or to an app folder (served in-process on a free port for the run)",
    )
    .argument("<url|app>", "ws:// or wss:// URL (with the stage), or an app folder or config file")
    .option("-H, --header <name:value>", "handshake header (repeatable)", headerPair)
    .option("-q, --query <name=value>", "query string parameter (repeatable)", queryPair)
    .option("--protocol <name>", "offer a subprotocol (repeatable)", collect)
    .option(
      "-s, --send <text>",
      "send this text frame; repeatable, in order; then print what arrives and exit",
      collect,
    )
    .option(
      "-w, --wait <ms>",
      "scripted runs end after this long without a frame in either direction",
      milliseconds,
      1000,
    )
    .action(async (target: string, options: ConnectOptions) => {
      let resolved: Awaited<ReturnType<typeof resolveTarget>>;
      try {
        resolved = await resolveTarget(target);
      } catch (error) {
        printError(error);
        process.exitCode = CONNECT_EXIT.usage;
        return;
      }
      if (!resolved) {
        process.exitCode = CONNECT_EXIT.usage;
        return;
      }
      const url = withQuery(resolved.url, options.query ?? []);
      let code: number;
      try {
        if (!options.send && process.stdin.isTTY) code = await runInteractive(url, options);
        else code = await scripted(url, options);
      } finally {
        await resolved.server?.close();
      }
      process.exitCode = code;
      // Whatever a handler left running (timers, sockets) does not keep the command alive.
      setTimeout(() => process.exit(code), 200).unref();
    });
}
