import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The page's files: plain HTML, CSS and JavaScript in `assets/inspector/` at the package root
 * (shipped as they are; no front-end build). `src/dev/inspector/` and `dist/dev/inspector/`
 * are both three levels below the root.
 */
const ASSETS = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "assets",
  "inspector",
);

const FILES: Record<string, string> = {
  "": "index.html",
  "inspector.css": "inspector.css",
  "inspector.js": "inspector.js",
};

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
};

/**
 * Serve one of the page's files (`name` after `/_switchboard/`; "" the page). False when
 * `name` is none of them. Read on each request, so an edited page shows on reload.
 */
export function servePage(name: string, res: ServerResponse): boolean {
  const file = FILES[name];
  if (file === undefined) return false;
  readFile(path.join(ASSETS, file)).then(
    (body) => {
      res.writeHead(200, {
        "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream",
        "Cache-Control": "no-store",
        // Only its own script and style, and never inside another site's frame.
        "Content-Security-Policy":
          "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
      });
      res.end(body);
    },
    (error: unknown) => {
      res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" });
      res.end(`inspector page missing: ${String(error)}\n`);
    },
  );
  return true;
}
