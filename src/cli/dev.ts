import path from "node:path";
import { type Command, Option } from "commander";
import { redactRedisUrl } from "../cluster/redis-table.js";
import { DevServer } from "../dev/dev-server.js";
import { attachLogger, type LogMode } from "../gateway/log.js";
import { escapeField } from "../gateway/log-escape.js";
import { routesWithCodeSchemas } from "./code-schemas.js";
import { printError } from "./command-failure.js";
import { withGc } from "./full-gc.js";
import {
  existingDirectory,
  existingPath,
  nonEmpty,
  port,
  redisUrl,
  stageName,
} from "./option-values.js";
import { printSeedReport } from "./print-seed.js";
import { printWarnings } from "./print-warnings.js";
import { reloadSummary } from "./reload-summary.js";
import { formatRoutes } from "./routes.js";

/** Register `switchboard dev`: serve the app like API Gateway, with hot reload (docs/dev.md). */
export function registerDevCommand(program: Command): void {
  program
    .command("dev")
    .description(
      "Serve the app like API Gateway (WebSocket + @connections on one port), with hot reload",
    )
    .argument("[app]", "app folder or config file", existingPath, ".")
    .option("-p, --port <port>", "port (0 picks a free one)", port, 3001)
    .option("-H, --host <host>", "host to bind", nonEmpty, "127.0.0.1")
    .option("-s, --stage <stage>", "stage (overrides the config)", stageName)
    .option("--no-watch", "do not reload on file changes")
    .option(
      "--isolate",
      "run each function in worker threads (own env, memory limit, hard timeout)",
    )
    .option(
      "--static <dir>",
      "serve this folder's files over HTTP (default: <app>/public if present)",
      existingDirectory,
    )
    .option("--no-static", "serve no static files")
    .option("--no-inspector", "do not serve the inspector page at /_switchboard")
    .option(
      "--data <dir>",
      "keep the local DynamoDB's tables in this folder between runs (default: in memory)",
      nonEmpty,
    )
    .option(
      "--redis <url>",
      "Redis as the shared engine: connection table + cluster with every gateway on it (redis://127.0.0.1:6379)",
      redisUrl,
    )
    .option(
      "--allowed-hosts <names>",
      "host names answered besides IPs and localhost, comma-separated (.example.com: with subdomains; 'all': any)",
    )
    .option(
      "--shutdown-timeout <seconds>",
      "on Ctrl-C/SIGTERM, wait at most this long for queued messages and $disconnect (a second signal stops at once)",
      (v) => Number.parseFloat(v),
      5,
    )
    .addOption(new Option("--quiet", "log errors only").conflicts("json"))
    .option("--json", "log one JSON object per line")
    .option(
      "--log-payloads",
      "log what clients send and receive (first 1024 characters, escaped; payloads carry user data)",
    )
    .action(async (target: string, opts) => {
      const mode: LogMode = opts.quiet ? "quiet" : opts.json ? "json" : "pretty";
      const shutdownSeconds = Number(opts.shutdownTimeout);
      if (!Number.isFinite(shutdownSeconds) || shutdownSeconds < 0) {
        process.stderr.write(
          `switchboard: --shutdown-timeout expects a number of seconds (0 or more), found ${JSON.stringify(String(opts.shutdownTimeout))}\n`,
        );
        process.exitCode = 1;
        return;
      }
      const shutdownMs = Math.round(shutdownSeconds * 1000);
      process.setSourceMapsEnabled(true);
      let server: Awaited<ReturnType<typeof DevServer.start>>;
      const onInvalid = (error: unknown, watching: string[]) => {
        printError(error);
        const [app, ...files] = watching;
        const where = path.relative(process.cwd(), app ?? target) || ".";
        process.stderr.write(
          `switchboard dev: waiting for a fix (watching ${where}${files.length > 0 ? ` and ${files.length} file${files.length === 1 ? "" : "s"} it uses` : ""}); serving starts once the app loads. Ctrl-C to stop.\n`,
        );
      };
      try {
        server = await DevServer.startWhenValid(
          {
            target: path.resolve(target),
            port: opts.port,
            host: opts.host,
            ...(opts.stage ? { stage: opts.stage } : {}),
            watch: opts.watch,
            isolate: opts.isolate === true,
            inspector: opts.inspector !== false,
            shutdownTimeoutMs: shutdownMs,
            // Memory back after a load drop, once quiet (gateway/memory-return.ts).
            ...withGc(),
            ...(typeof opts.data === "string" ? { dataDir: path.resolve(opts.data) } : {}),
            ...(typeof opts.redis === "string" ? { redis: { url: opts.redis } } : {}),
            ...(typeof opts.allowedHosts === "string"
              ? {
                  allowedHosts:
                    opts.allowedHosts.trim() === "all"
                      ? (true as const)
                      : opts.allowedHosts
                          .split(",")
                          .map((h: string) => h.trim())
                          .filter(Boolean),
                }
              : {}),
            ...(opts.static === false
              ? { staticDir: false as const }
              : typeof opts.static === "string"
                ? { staticDir: path.resolve(opts.static) }
                : {}),
          },
          onInvalid,
        );
      } catch (error) {
        printError(error);
        process.exitCode = 1;
        return;
      }
      attachLogger(server.gateway, { mode, payloads: opts.logPayloads === true });
      const app = server.app;
      printWarnings(app, mode === "json");
      const http = server.url.replace(/^ws/, "http");
      const management = `${http}/${app.stage}/@connections/{connectionId}`;
      const page = server.staticDir ? `${http}/index.html` : undefined;
      const inspector = opts.inspector !== false ? `${http}/_switchboard` : undefined;
      const tables = server.tables
        ? {
            endpoint: server.tables.endpoint,
            names: (app.tables ?? []).map((t) => t.name),
            data: server.tables.dataDir ?? "memory",
          }
        : undefined;
      // Faults a handler leaves behind are contained either way; only --isolate survives a
      // synchronous infinite loop (it blocks the one thread in-process mode has).
      const invoker = opts.isolate === true ? "isolated" : "in-process";
      const note =
        invoker === "in-process"
          ? "handlers run in this process: a synchronous infinite loop in one stalls the gateway; --isolate runs each function in worker threads"
          : undefined;
      if (mode === "json") {
        // Every stdout line is JSON in this mode, so the output can be piped to jq.
        process.stdout.write(
          `${JSON.stringify({ time: new Date().toISOString(), level: "info", event: "listening", app: app.name, stage: app.stage, url: server.url, management, ...(page ? { page } : {}), ...(inspector ? { inspector } : {}), ...(tables ? { tables } : {}), routes: app.routes.map((r) => r.key), invoker, ...(note ? { note } : {}) })}\n`,
        );
      } else {
        if (mode === "pretty") {
          process.stdout.write(
            `${formatRoutes(app, await routesWithCodeSchemas(app, server.invoker))}\n\n`,
          );
        }
        process.stdout.write(
          [
            `switchboard dev: ${app.name} listening on ${server.url} and ${server.url}/${app.stage}`,
            `  @connections: ${management}`,
            ...(inspector ? [`  inspector:    ${inspector}`] : []),
            ...(tables
              ? [
                  `  DynamoDB:     ${tables.endpoint} (${tables.names.join(", ")}; ${tables.data === "memory" ? "in memory" : `data in ${path.relative(process.cwd(), tables.data) || "."}`})`,
                ]
              : []),
            ...(server.staticDir && page
              ? [
                  `  page:         ${page} (${path.relative(process.cwd(), server.staticDir) || "."})`,
                ]
              : []),
            invoker === "in-process"
              ? "  handlers:     in this process (a synchronous infinite loop stalls the gateway: use --isolate)"
              : "  handlers:     in worker threads (--isolate)",
            ...(server.redisTable && typeof opts.redis === "string"
              ? [
                  `  redis:        ${redactRedisUrl(opts.redis)} (connection table and cluster; keys ${server.redisTable.keyPrefix}*)`,
                ]
              : []),
            "",
          ].join("\n"),
        );
      }
      printSeedReport(server.seedReport, mode === "json");
      server.on("reload", (report) => {
        if (report.ok) {
          printWarnings(report.app, mode === "json");
          if (mode === "json") {
            process.stdout.write(
              `${JSON.stringify({ time: new Date().toISOString(), level: "info", event: "reload", ok: true, durationMs: Math.round(report.durationMs), changed: report.changed.map((f) => path.relative(process.cwd(), f) || f), routes: report.routes })}\n`,
            );
          } else if (mode === "pretty") {
            const what = reloadSummary(report.changed, report.routes);
            process.stdout.write(
              `reloaded ${report.app.name} in ${Math.round(report.durationMs)}ms${what ? `: ${escapeField(what)}` : ""}\n`,
            );
          }
        } else {
          process.stderr.write("reload failed; still serving the last good app:\n");
          printError(report.error);
        }
      });
      let stopping = false;
      const stop = () => {
        // A second Ctrl-C does not wait.
        if (stopping) process.exit(130);
        stopping = true;
        // Backstop past the gateway's own bound (1 s for clients to answer the close, then the
        // local DynamoDB, Redis and workers): the process ends whatever still hangs.
        setTimeout(() => process.exit(1), shutdownMs + 3000).unref();
        server.close().then(
          () => process.exit(0),
          (error: unknown) => {
            printError(error);
            process.exit(1);
          },
        );
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
}
