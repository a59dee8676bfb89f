import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** What `/readyz` checks. */
export interface Readiness {
  /** Each check by name: true when it passes. */
  checks(): Record<string, boolean>;
}

/**
 * The admin port of `switchboard start`: `GET /healthz` (the process answers: 200),
 * `GET /readyz` (200 when every check passes, else 503; the body names each check) and
 * `GET /metrics` (Prometheus text). Anything else is 404; methods other than GET/HEAD 405.
 * Kept off the gateway port so it can stay private (bind it to an internal address).
 */
export async function startAdminServer(options: {
  port: number;
  host: string;
  readiness: Readiness;
  registry: Registry;
}): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, body: string, type = "application/json") => {
      res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      return send(405, '{"message":"Method Not Allowed"}');
    }
    if (path === "/healthz") return send(200, '{"status":"ok"}');
    if (path === "/readyz") {
      const checks = options.readiness.checks();
      const ready = Object.values(checks).every(Boolean);
      return send(
        ready ? 200 : 503,
        JSON.stringify({ status: ready ? "ready" : "unready", checks }),
      );
    }
    if (path === "/metrics") {
      options.registry.metrics().then(
        (text) => send(200, text, options.registry.contentType),
        (error: unknown) => send(500, JSON.stringify({ message: String(error) })),
      );
      return;
    }
    send(404, '{"message":"Not Found"}');
  });
  server.on("clientError", (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    server,
    url: `http://${shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
