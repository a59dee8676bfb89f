import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../app/model.js";

/**
 * Sandbox's service discovery, which `@architect/functions` queries for `arc.tables()` (and
 * `arc.services()`): SSM `GetParametersByPath` at `http://localhost:<ports._arc>/_arc/ssm`.
 * Answers with one `/<stack>/tables/<name>` parameter per `@tables` entry, valued with the
 * table's physical name. Returns false for any other request.
 *
 * @example
 * ```ts
 * const handle = arcServices(() => gateway.app);
 * createServer((req, res) => handle(req, res) || notFound(res));
 * ```
 */
export function arcServices(
  app: () => App,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/_arc/ssm" || req.method !== "POST") return false;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const target = String(req.headers["x-amz-target"] ?? "");
      let body: { Path?: unknown } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString() || "{}") as { Path?: unknown };
      } catch {
        body = {};
      }
      if (!target.endsWith(".GetParametersByPath") || typeof body.Path !== "string") {
        res.writeHead(400, {
          "Content-Type": "application/x-amz-json-1.1",
          "x-amzn-ErrorType": "ValidationException",
        });
        res.end(
          JSON.stringify({
            __type: "ValidationException",
            message: "Only GetParametersByPath is served",
          }),
        );
        return;
      }
      const stack = body.Path.replace(/\/+$/, "");
      const parameters = (app().tables ?? []).map((table) => ({
        Name: `${stack}/tables/${table.declaredAs}`,
        Type: "String",
        Value: table.name,
        Version: 1,
      }));
      res.writeHead(200, { "Content-Type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify({ Parameters: parameters }));
    });
    return true;
  };
}
