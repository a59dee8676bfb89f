import path from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { redactRedisUrl } from "../cluster/redis-table.js";
import { ConfigError, SwitchboardError } from "../errors.js";
import { accessKeysFrom } from "../gateway/access-keys.js";
import { attachLogger, type LogMode } from "../gateway/log.js";
import { StartServer } from "../start/start-server.js";
import { withGc } from "./full-gc.js";
import { redisUrl } from "./option-values.js";

/** A port number, or a message saying what was expected. */
function portOption(flag: string) {
  return (value: string): number => {
    const port = Number(value);
    if (!/^\d+$/.test(value) || port > 65535) {
      // Commander prints it as: option '--port <port>' argument 'x' is invalid. <this>
      throw new InvalidArgumentError(
        `${flag}: expected a port number 0-65535, found ${JSON.stringify(value)}`,
      );
    }
    return port;
  };
}

function secondsOption(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new InvalidArgumentError(
      `--drain-timeout: expected seconds above 0, found ${JSON.stringify(value)}`,
    );
  }
  return seconds;
}

/** What went wrong and what to do next; never a stack trace. */
function failure(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  if (error instanceof SwitchboardError) {
    const next =
      error.code === "SB_ERR_REDIS" ? " (is Redis running? check --redis or REDIS_URL)" : "";
    return `switchboard start: ${error.code}: ${error.message}${next}`;
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EADDRINUSE") {
    return `switchboard start: ${(error as Error).message} (choose another --port / --admin-port, or stop what uses it)`;
  }
  return `switchboard start: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * `switchboard start`: the self-hosted production gateway. No file watching, no AWS host
 * interception unless `--intercept`, no static files unless `--static`; `@connections`
 * signed with SigV4 by configured keys (or loopback callers only); admin port with health,
 * readiness and metrics; graceful drain on SIGTERM/SIGINT; JSON logs with the node id.
 */
export function registerStartCommand(program: Command): void {
  program
    .command("start")
    .description("Serve the app in production: a gateway node (cluster with --redis)")
    .argument("[app]", "app folder or config file", ".")
    .addOption(
      new Option("-p, --port <port>", "port")
        .env("PORT")
        .argParser(portOption("--port"))
        .default(3001),
    )
    .addOption(new Option("-H, --host <host>", "host to bind").env("HOST").default("0.0.0.0"))
    .addOption(
      new Option(
        "--redis <url>",
        "Redis: connection table + cluster with every node on it (redis://, redis+cluster://h:p,h:p, redis+sentinel://h:p/<master>)",
      )
        .env("REDIS_URL")
        // An empty REDIS_URL means none (as an unset one), not ioredis's default localhost.
        .argParser((value: string) => (value === "" ? value : redisUrl(value))),
    )
    .option("-s, --stage <stage>", "stage (overrides the config)")
    .option(
      "--isolate",
      "run each function in worker threads (own env, memory limit, hard timeout)",
    )
    .option("--static <dir>", "serve this folder's files over HTTP (default: none)")
    .addOption(
      new Option(
        "--domain <domain>",
        "the app's public domain: requestContext.domainName (handlers call https://{domain}/{stage})",
      ).env("SWITCHBOARD_DOMAIN"),
    )
    .option(
      "--intercept",
      "send functions' calls to the execute-api host and --domain to this node (not over the network)",
    )
    .addOption(
      new Option(
        "--access-keys <file>",
        "file of key pairs that may sign @connections calls (one `ID SECRET` a line)",
      ).env("SWITCHBOARD_ACCESS_KEYS_FILE"),
    )
    .addOption(
      new Option("--admin-port <port>", "serve /healthz, /readyz and /metrics on this port")
        .env("SWITCHBOARD_ADMIN_PORT")
        .argParser(portOption("--admin-port")),
    )
    .addOption(
      new Option("--admin-host <host>", "address of the admin port (default: --host)").env(
        "SWITCHBOARD_ADMIN_HOST",
      ),
    )
    .addOption(
      new Option("--drain-timeout <seconds>", "longest a graceful shutdown may take")
        .env("SWITCHBOARD_DRAIN_TIMEOUT")
        .argParser(secondsOption)
        .default(30),
    )
    .addOption(
      new Option("--pretty", "human-readable log lines instead of JSON").conflicts("quiet"),
    )
    .option("--quiet", "log errors only")
    .option(
      "--log-payloads",
      "log what clients send and receive (first 1024 characters, escaped; payloads carry user data)",
    )
    .action(async (target: string, opts) => {
      const mode: LogMode = opts.quiet ? "quiet" : opts.pretty ? "pretty" : "json";
      process.setSourceMapsEnabled(true);
      let server: StartServer;
      try {
        const keys = accessKeysFrom(
          typeof opts.accessKeys === "string" ? { file: path.resolve(opts.accessKeys) } : {},
        );
        server = await StartServer.start({
          target: path.resolve(target),
          port: opts.port,
          host: opts.host,
          keys,
          isolate: opts.isolate === true,
          // Memory back after a load drop, once quiet (gateway/memory-return.ts).
          ...withGc(),
          ...(opts.stage ? { stage: opts.stage } : {}),
          ...(typeof opts.redis === "string" && opts.redis !== ""
            ? { redis: { url: opts.redis } }
            : {}),
          ...(typeof opts.static === "string" ? { staticDir: path.resolve(opts.static) } : {}),
          ...(typeof opts.domain === "string" ? { domain: opts.domain } : {}),
          ...(opts.intercept ? { intercept: true } : {}),
          ...(opts.adminPort !== undefined ? { adminPort: opts.adminPort } : {}),
          ...(typeof opts.adminHost === "string" ? { adminHost: opts.adminHost } : {}),
        });
      } catch (error) {
        process.stderr.write(`${failure(error)}\n`);
        process.exitCode = 1;
        return;
      }
      const node = server.nodeId;
      const log = (level: "info" | "warn" | "error", event: string, fields: object) => {
        if (mode === "quiet" && level !== "error") return;
        process.stdout.write(
          mode === "json"
            ? `${JSON.stringify({ time: new Date().toISOString(), level, event, node, ...fields })}\n`
            : `${event}: ${Object.entries(fields)
                .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
                .join(" ")}\n`,
        );
      };
      attachLogger(server.gateway, {
        mode,
        fields: { node },
        payloads: opts.logPayloads === true,
      });
      const app = server.app;
      const { url } = server.served.address;
      const auth = server.managementAuth;
      log("info", "listening", {
        app: app.name,
        stage: app.stage,
        url,
        management: `${url.replace(/^ws/, "http")}/${app.stage}/@connections/{connectionId}`,
        managementAuth: auth.mode === "sigv4" ? `sigv4 (${auth.keys.length} key pairs)` : auth.mode,
        ...(server.admin ? { admin: server.admin.url } : {}),
        ...(typeof opts.redis === "string" && opts.redis !== ""
          ? { redis: redactRedisUrl(opts.redis), keyPrefix: server.served.redisTable?.keyPrefix }
          : {}),
        ...(opts.domain ? { domain: opts.domain } : {}),
        routes: app.routes.map((r) => r.key),
      });
      if (auth.mode === "loopback") {
        log("warn", "management-auth", {
          message:
            "no access keys configured: @connections answers callers on this machine only (not through a proxy); set SWITCHBOARD_ACCESS_KEY_ID and SWITCHBOARD_SECRET_ACCESS_KEY, or --access-keys",
        });
      }
      const timeoutMs = opts.drainTimeout * 1000;
      let signals = 0;
      const stop = (signal: NodeJS.Signals) => {
        signals += 1;
        if (signals > 1) {
          log("error", "drain-aborted", { signal, message: "second signal: exiting now" });
          process.exit(1);
        }
        const started = performance.now();
        log("info", "draining", {
          signal,
          connections: server.gateway.size,
          timeoutSeconds: opts.drainTimeout,
        });
        setTimeout(() => {
          log("error", "drain-timeout", {
            message: `drain took over ${opts.drainTimeout}s: exiting with work pending`,
            connections: server.gateway.size,
          });
          process.exit(1);
        }, timeoutMs).unref();
        server.drain().then(
          () => {
            log("info", "drained", { durationMs: Math.round(performance.now() - started) });
            process.exit(0);
          },
          (error: unknown) => {
            log("error", "drain-failed", { message: String(error) });
            process.exit(1);
          },
        );
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
}
