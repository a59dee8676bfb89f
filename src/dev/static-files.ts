import { constants, type Stats, statSync } from "node:fs";
import { type FileHandle, open, realpath } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

/** Longer request paths are not files of ours (PATH_MAX on Linux is 4096). */
const MAX_PATH = 1024;

/**
 * Open flags: read only, and non-blocking so that opening a FIFO does not wait for a writer
 * (it would hold a libuv thread forever); regular files ignore O_NONBLOCK.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * The file a URL path names under `root`, or undefined when it cannot be one: not decodable,
 * a NUL byte, a backslash (a separator on Windows, never in a file name we serve), a segment
 * that starts with `.` (`.`, `..`, `%2e%2e`, dot files), an encoded `/`, or too long.
 */
function candidate(root: string, rawPath: string): string | undefined {
  if (rawPath.length > MAX_PATH) return undefined;
  const segments = rawPath.split("/").slice(1);
  const decoded: string[] = [];
  for (const segment of segments) {
    let text: string;
    try {
      text = decodeURIComponent(segment);
    } catch {
      return undefined; // malformed percent-encoding: not a file of ours (the gateway answers 403)
    }
    // Dot files and folders (`.env`, `.git/`, `..`) are never served, as serve-static's default.
    if (text.startsWith(".") || /[\0\\/]/.test(text)) return undefined;
    decoded.push(text);
  }
  // A trailing slash names the folder's index page.
  if (decoded.length === 0 || decoded[decoded.length - 1] === "") {
    decoded[Math.max(decoded.length - 1, 0)] = "index.html";
  }
  if (decoded.some((segment, i) => segment === "" && i < decoded.length - 1)) return undefined;
  return path.join(root, ...decoded);
}

/** Whether `file` is `root` itself or inside it (both real paths). */
const inside = (root: string, file: string) => file.startsWith(root + path.sep);

/**
 * A dev-only static file handler (the example's browser page). It answers GETs and HEADs for
 * regular files under `dir` (and `GET /` with `index.html` when the folder has one) and leaves
 * everything else (the WebSocket URL's 426 included) to the gateway. Whatever a request names
 * (a folder, a FIFO, a device, a symlink out of the folder, a file that vanishes), it gets an
 * answer and the server keeps serving: errors are answered, never thrown.
 */
export function staticFiles(dir: string, reserved: (pathname: string) => boolean) {
  const root = path.resolve(dir);
  let realRoot: Promise<string> | undefined;
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const rawPath = (req.url ?? "/").split("?")[0] as string;
    if (reserved(rawPath)) {
      // `GET /` is the page when there is one (the WebSocket URL still upgrades; without a
      // page the gateway answers 426 as AWS does).
      if (rawPath !== "/" || !statSync(path.join(root, "index.html"), { throwIfNoEntry: false })) {
        return false;
      }
    }
    // A path that cannot name a file of ours is the gateway's to answer (403, as AWS).
    const file = candidate(root, rawPath);
    if (file === undefined) return false;
    realRoot ??= realpath(root).catch(() => root);
    // Asynchronous from here on: the request is claimed, and every path ends in an answer.
    serve(realRoot, file, req, res).catch(() => {
      if (!res.headersSent) notFound(res);
      else res.destroy();
    });
    return true;
  };
}

function notFound(res: ServerResponse): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("Not found");
}

async function serve(
  realRoot: Promise<string>,
  file: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  // Symlinks are followed only while they stay inside the folder (realpath of both sides).
  const real = await realpath(file);
  if (!inside(await realRoot, real)) return notFound(res);
  let handle: FileHandle | undefined = await open(real, OPEN_FLAGS);
  try {
    // Checked on the open descriptor: what is read is what was checked (no stat/open race).
    let info: Stats = await handle.stat();
    if (info.isDirectory()) {
      // A folder: its index page, if it has one.
      await handle.close();
      handle = undefined;
      const index = await realpath(path.join(real, "index.html"));
      if (!inside(await realRoot, index)) return notFound(res);
      handle = await open(index, OPEN_FLAGS);
      info = await handle.stat();
      file = index;
    }
    if (!info.isFile()) return notFound(res); // FIFO, device, socket
    res.writeHead(200, {
      "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream",
      "Content-Length": String(info.size),
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    const stream = handle.createReadStream({ start: 0, end: Math.max(info.size - 1, 0) });
    handle = undefined; // the stream owns (and closes) it now
    stream.on("error", () => res.destroy());
    res.on("close", () => stream.destroy());
    if (info.size === 0) {
      stream.destroy();
      res.end();
      return;
    }
    stream.pipe(res);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
