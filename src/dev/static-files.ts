import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
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

/**
 * A dev-only static file handler (the example's browser page). It answers GETs for files that
 * exist under `dir` and leaves everything else (the WebSocket URL's 426 included) to the gateway.
 */
export function staticFiles(dir: string, reserved: (pathname: string) => boolean) {
  const root = path.resolve(dir);
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    let pathname: string;
    try {
      pathname = decodeURIComponent((req.url ?? "/").split("?")[0] as string);
    } catch {
      return false; // malformed percent-encoding: not a file of ours (the gateway answers 403)
    }
    if (reserved(pathname)) return false;
    const file = path.resolve(
      root,
      `.${pathname.endsWith("/") ? `${pathname}index.html` : pathname}`,
    );
    if (file !== root && !file.startsWith(root + path.sep)) return false;
    // Asynchronous from here on: claim the request, answer 404 if the file is missing.
    stat(file).then(
      (info) => {
        if (!info.isFile()) throw new Error("not a file");
        res.writeHead(200, {
          "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream",
          "Content-Length": String(info.size),
          "Cache-Control": "no-store",
        });
        if (req.method === "HEAD") res.end();
        else
          createReadStream(file)
            .on("error", () => res.destroy())
            .pipe(res);
      },
      () => {
        res.writeHead(404, { "Content-Type": "text/plain" });
        res.end("Not found");
      },
    );
    return true;
  };
}
