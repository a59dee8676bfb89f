import path from "node:path";
import { Command, Option } from "commander";
import { integrationLabel } from "../app/integration.js";
import type { App } from "../app/model.js";
import { redactRedisUrl } from "../cluster/redis-table.js";
import { DevServer } from "../dev/dev-server.js";
import { attachLogger, type LogMode } from "../gateway/log.js";
import { registerBuildCommand } from "./build.js";
import { printError } from "./command-failure.js";
import { registerConnectCommand } from "./connect.js";
import { registerDeployCommand } from "./deploy.js";
import {
  existingDirectory,
  existingPath,
  nonEmpty,
  port,
  redisUrl,
  stageName,
} from "./option-values.js";
import { printWarnings } from "./print-warnings.js";
import { registerStartCommand } from "./start.js";
import { loadOnce, validateCommand } from "./validate.js";

const VERSION = "0.1.0";

/** The route table as `switchboard routes` prints it. */
export function formatRoutes(app: App): string {
  const rel = (file: string) => path.relative(process.cwd(), file) || file;
  const rows = app.routes.map((r) => [
    r.key,
    r.target
      ? `${rel(r.target.file)}#${r.target.export}${r.target.method ? `.${r.target.method}` : ""}${r.integration ? " (AWS, templates)" : ""}`
      : integrationLabel(r.integration),
    r.routeResponse ? "two-way" : "one-way",
    `${r.timeoutMs / 1000}s`,
    r.body ? (r.body.kind === "ref" ? `${rel(r.body.file)}#${r.body.export}` : "schema") : "-",
  ]);
  const header = ["ROUTE", "HANDLER", "RESPONSE", "TIMEOUT", "BODY"];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const format = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  const lines = [
    `${app.name} (stage ${app.stage}) — route selection ${app.routeSelectionExpression}`,
    format(header),
    ...rows.map(format),
  ];
  if (app.authorizer) {
    lines.push(
      `authorizer ${app.authorizer.name}: ${rel(app.authorizer.target.file)}#${app.authorizer.target.export} on $connect, identity ${app.authorizer.identitySource.join(", ")}`,
    );
  }
  return lines.join("\n");
}

/** Build the `switchboard` command line. */
export function createProgram(): Command {
  const program = new Command("switchboard")
    .description("Serverless WebSocket APIs: define, run locally like API Gateway, ship.")
    .version(VERSION);

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
            shutdownTimeoutMs: shutdownMs,
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
      attachLogger(server.gateway, { mode });
      const app = server.app;
      printWarnings(app, mode === "json");
      const http = server.url.replace(/^ws/, "http");
      const management = `${http}/${app.stage}/@connections/{connectionId}`;
      const page = server.staticDir ? `${http}/index.html` : undefined;
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
          `${JSON.stringify({ time: new Date().toISOString(), level: "info", event: "listening", app: app.name, stage: app.stage, url: server.url, management, ...(page ? { page } : {}), ...(tables ? { tables } : {}), routes: app.routes.map((r) => r.key), invoker, ...(note ? { note } : {}) })}\n`,
        );
      } else {
        if (mode === "pretty") process.stdout.write(`${formatRoutes(app)}\n\n`);
        process.stdout.write(
          [
            `switchboard dev: ${app.name} listening on ${server.url} and ${server.url}/${app.stage}`,
            `  @connections: ${management}`,
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
      server.on("reload", (report) => {
        if (report.ok) {
          printWarnings(report.app, mode === "json");
          if (mode === "json") {
            process.stdout.write(
              `${JSON.stringify({ time: new Date().toISOString(), level: "info", event: "reload", ok: true, durationMs: Math.round(report.durationMs) })}\n`,
            );
          } else if (mode === "pretty") {
            process.stdout.write(
              `reloaded ${report.app.name} in ${Math.round(report.durationMs)}ms\n`,
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

  program
    .command("routes")
    .description("Print the route table")
    .argument("[app]", "app folder or config file", existingPath, ".")
    .option("-s, --stage <stage>", "stage", stageName)
    .option("--json", "print the App model as JSON")
    .action(async (target: string, opts) => {
      try {
        const app = await loadOnce(target, opts.stage);
        printWarnings(app);
        process.stdout.write(
          `${opts.json ? JSON.stringify(app, (_k, v) => (v && typeof v === "object" && "~standard" in v ? "[schema]" : v), 2) : formatRoutes(app)}\n`,
        );
      } catch (error) {
        printError(error);
        process.exitCode = 1;
      }
    });

  program
    .command("validate")
    .description("Check a config: every problem at once, each with file, path, expected and found")
    .argument("[app]", "app folder or config file", existingPath, ".")
    .action(async (target: string) => {
      process.exitCode = await validateCommand(target);
    });

  registerConnectCommand(program);
  registerBuildCommand(program);
  registerDeployCommand(program);
  registerStartCommand(program);
  return program;
}

/** Entry point of the `switchboard` binary. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  await createProgram().parseAsync([...argv]);
}
