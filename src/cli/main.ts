import { statSync } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { loadApp } from "../app/load.js";
import type { App } from "../app/model.js";
import { ModuleLoader } from "../app/module-loader.js";
import { redactRedisUrl } from "../cluster/redis-table.js";
import { DevServer } from "../dev/dev-server.js";
import { ConfigError, SwitchboardError } from "../errors.js";
import { attachLogger, type LogMode } from "../gateway/log.js";
import { registerBuildCommand } from "./build.js";
import { registerDeployCommand } from "./deploy.js";
import { registerStartCommand } from "./start.js";

const VERSION = "0.1.0";

function printError(error: unknown): void {
  if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  else if (error instanceof SwitchboardError) {
    process.stderr.write(`switchboard: ${error.code}: ${error.message}\n`);
  } else
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
}

/** The route table as `switchboard routes` prints it. */
export function formatRoutes(app: App): string {
  const rel = (file: string) => path.relative(process.cwd(), file) || file;
  const rows = app.routes.map((r) => [
    r.key,
    `${rel(r.target.file)}#${r.target.export}${r.target.method ? `.${r.target.method}` : ""}`,
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

async function loadOnce(target: string, stage?: string): Promise<App> {
  const resolved = path.resolve(target);
  // A config file named directly keeps its module cache next to it, as for a folder.
  const appDir = statSync(resolved, { throwIfNoEntry: false })?.isFile()
    ? path.dirname(resolved)
    : resolved;
  const loader = new ModuleLoader({ cacheDir: path.join(appDir, ".switchboard", "modules") });
  try {
    return await loadApp(resolved, { loader, ...(stage ? { stage } : {}) });
  } finally {
    await loader.dispose();
  }
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
    .argument("[app]", "app folder or config file", ".")
    .option("-p, --port <port>", "port", (v) => Number.parseInt(v, 10), 3001)
    .option("-H, --host <host>", "host to bind", "127.0.0.1")
    .option("-s, --stage <stage>", "stage (overrides the config)")
    .option("--no-watch", "do not reload on file changes")
    .option(
      "--isolate",
      "run each function in worker threads (own env, memory limit, hard timeout)",
    )
    .option(
      "--static <dir>",
      "serve this folder's files over HTTP (default: <app>/public if present)",
    )
    .option("--no-static", "serve no static files")
    .option(
      "--data <dir>",
      "keep the local DynamoDB's tables in this folder between runs (default: in memory)",
    )
    .option(
      "--redis <url>",
      "Redis as the shared engine: connection table + cluster with every gateway on it (redis://127.0.0.1:6379)",
    )
    .addOption(new Option("--quiet", "log errors only").conflicts("json"))
    .option("--json", "log one JSON object per line")
    .action(async (target: string, opts) => {
      const mode: LogMode = opts.quiet ? "quiet" : opts.json ? "json" : "pretty";
      process.setSourceMapsEnabled(true);
      let server: Awaited<ReturnType<typeof DevServer.start>>;
      try {
        server = await DevServer.start({
          target: path.resolve(target),
          port: opts.port,
          host: opts.host,
          ...(opts.stage ? { stage: opts.stage } : {}),
          watch: opts.watch,
          isolate: opts.isolate === true,
          ...(typeof opts.data === "string" ? { dataDir: path.resolve(opts.data) } : {}),
          ...(typeof opts.redis === "string" ? { redis: { url: opts.redis } } : {}),
          ...(opts.static === false
            ? { staticDir: false as const }
            : typeof opts.static === "string"
              ? { staticDir: path.resolve(opts.static) }
              : {}),
        });
      } catch (error) {
        printError(error);
        process.exitCode = 1;
        return;
      }
      attachLogger(server.gateway, { mode });
      const app = server.app;
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
      if (mode === "json") {
        // Every stdout line is JSON in this mode, so the output can be piped to jq.
        process.stdout.write(
          `${JSON.stringify({ time: new Date().toISOString(), level: "info", event: "listening", app: app.name, stage: app.stage, url: server.url, management, ...(page ? { page } : {}), ...(tables ? { tables } : {}), routes: app.routes.map((r) => r.key) })}\n`,
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
      const stop = () => {
        void server.close().then(() => process.exit(0));
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });

  program
    .command("routes")
    .description("Print the route table")
    .argument("[app]", "app folder or config file", ".")
    .option("-s, --stage <stage>", "stage")
    .option("--json", "print the App model as JSON")
    .action(async (target: string, opts) => {
      try {
        const app = await loadOnce(target, opts.stage);
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
    .argument("[app]", "app folder or config file", ".")
    .action(async (target: string) => {
      try {
        const app = await loadOnce(target);
        process.stdout.write(
          `${path.relative(process.cwd(), app.source.file)}: valid (${app.routes.length} routes)\n`,
        );
      } catch (error) {
        printError(error);
        process.exitCode = 1;
      }
    });

  registerBuildCommand(program);
  registerDeployCommand(program);
  registerStartCommand(program);
  return program;
}

/** Entry point of the `switchboard` binary. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  await createProgram().parseAsync([...argv]);
}
