import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import path from "node:path";
import { apiIdFor, executeApiDomain } from "../app/aws-names.js";
import { loadApp } from "../app/load.js";
import type { App } from "../app/model.js";
import { ModuleLoader } from "../app/module-loader.js";
import { withServedEnvironment } from "../app/served-environment.js";
import type { RedisTableOptions } from "../cluster/redis-table.js";
import { staticFiles } from "../dev/static-files.js";
import type { GatewayBounds } from "../gateway/bounds.js";
import type { Gateway } from "../gateway/gateway.js";
import {
  type AccessKey,
  type ManagementAuth,
  managementAuthFor,
} from "../gateway/management-auth.js";
import { InProcessInvoker } from "../invoker/in-process.js";
import { addInterceptions, type InterceptRule } from "../invoker/interception.js";
import type { Invoker } from "../invoker/invoker.js";
import { IsolatedInvoker } from "../invoker/isolated.js";
import { type Served, serve } from "../serve.js";
import { startAdminServer } from "./admin.js";
import { gatewayMetrics } from "./metrics.js";

/** `switchboard start`: the self-hosted production gateway (see docs/self-hosting.md). */
export interface StartServerOptions {
  /** App folder or config file. */
  target: string;
  /** Default 3001; 0 picks a free port. */
  port?: number;
  /** Default 0.0.0.0 (a production server is reached from elsewhere). */
  host?: string;
  stage?: string;
  region?: string;
  /** Redis: connection table + cluster membership with every node on the same prefix. */
  redis?: RedisTableOptions;
  /** Run functions in worker threads (own environment, memory limit, hard timeout). */
  isolate?: boolean;
  /** Serve this folder's files over HTTP (none by default). */
  staticDir?: string;
  /**
   * The app's public domain: `requestContext.domainName`, so handlers build their management
   * endpoint `https://{domain}/{stage}` as on AWS with a custom domain.
   */
  domain?: string;
  /**
   * Send functions' requests to the app's execute-api host and to `domain` to this node instead
   * of over the network (handlers need no route from the node to the public domain).
   */
  intercept?: boolean;
  /** Key pairs that may sign `@connections` calls. None: loopback callers only. */
  keys: readonly AccessKey[];
  /** Admin port (`/healthz`, `/readyz`, `/metrics`); none when undefined. */
  adminPort?: number;
  /** Admin bind address; default `host`. */
  adminHost?: string;
  bounds?: Partial<GatewayBounds>;
  /**
   * A full, synchronous garbage collection (V8's `gc()`; `switchboard start` passes one): with
   * it, the node gives back the memory a load drop leaves committed once it goes quiet (see
   * `MemoryReturnBounds`). Without it, nothing.
   */
  gc?: () => void;
}

/** A running `switchboard start` node. */
export class StartServer {
  readonly served: Served;
  readonly gateway: Gateway;
  /** This node's id: the cluster's with `--redis`, else a random one (log lines carry it). */
  readonly nodeId: string;
  readonly managementAuth: ManagementAuth;
  readonly admin: { url: string } | undefined;
  readonly #closers: Array<() => Promise<void> | void>;
  readonly #last: Array<() => Promise<void> | void>;
  readonly #invoker: Invoker;
  #draining = false;
  #drained: Promise<void> | undefined;

  private constructor(fields: {
    served: Served;
    managementAuth: ManagementAuth;
    admin: { url: string } | undefined;
    closers: Array<() => Promise<void> | void>;
    last: Array<() => Promise<void> | void>;
    invoker: Invoker;
  }) {
    this.served = fields.served;
    this.gateway = fields.served.gateway;
    this.nodeId = fields.served.nodeId ?? randomBytes(6).toString("hex");
    this.managementAuth = fields.managementAuth;
    this.admin = fields.admin;
    this.#closers = fields.closers;
    this.#last = fields.last;
    this.#invoker = fields.invoker;
  }

  /** True once `drain()` was called. */
  get draining(): boolean {
    return this.#draining;
  }

  get app(): App {
    return this.gateway.app;
  }

  /** What `/readyz` reports: app loaded, Redis reachable (with `--redis`), not draining. */
  checks(): Record<string, boolean> {
    return {
      app: true,
      ...(this.served.redisTable ? { redis: this.served.redisTable.reachable() } : {}),
      draining: !this.#draining,
    };
  }

  /** Load the app and serve it; throws `ConfigError`/`SwitchboardError` with what to fix. */
  static async start(options: StartServerOptions): Promise<StartServer> {
    const resolved = path.resolve(options.target);
    const appDir = statSync(resolved, { throwIfNoEntry: false })?.isFile()
      ? path.dirname(resolved)
      : resolved;
    const cacheDir = path.join(appDir, ".switchboard", "modules");
    const loader = new ModuleLoader({ cacheDir });
    const region = options.region ?? process.env.AWS_REGION ?? "us-east-1";
    const host = options.host ?? "0.0.0.0";
    const functionEnvironment = functionsEnvironment(region, options.keys);
    const interceptions: { rules: InterceptRule[] } = { rules: [] };
    const invoker: Invoker = options.isolate
      ? new IsolatedInvoker(loader, {
          cacheDir,
          region,
          environment: () => functionEnvironment,
          interceptions: () => interceptions.rules,
        })
      : new InProcessInvoker(loader, { region });
    // Closed on drain in reverse order; `last` after them (admin port, metrics).
    const closers: Array<() => Promise<void> | void> = [];
    const last: Array<() => Promise<void> | void> = [() => loader.dispose()];
    try {
      const app = await loadApp(resolved, {
        loader,
        ...(options.stage ? { stage: options.stage } : {}),
        // In-process functions read their environment from the first import on.
        ...(options.isolate
          ? {}
          : {
              beforeImport: (env: Record<string, string>) =>
                Object.assign(process.env, functionEnvironment, env),
            }),
      });
      if (!options.isolate) {
        Object.assign(process.env, functionEnvironment, app.environment);
        for (const route of app.routes) Object.assign(process.env, route.environment);
      }
      const managementAuth = managementAuthFor({
        host,
        keys: options.keys,
        region,
        production: true,
      });
      let current: App = app;
      const files = options.staticDir
        ? staticFiles(path.resolve(options.staticDir), (pathname) => {
            const stage = current.stage;
            return pathname === "/" || pathname === `/${stage}` || pathname === `/${stage}/`;
          })
        : undefined;
      const served = await serve({
        app,
        invoker,
        port: options.port ?? 3001,
        host,
        region,
        managementAuth,
        // A production node answers the public domain a reverse proxy forwards (the Host check
        // guards a developer's machine against DNS rebinding; here @connections is signed).
        allowedHosts: true,
        // In-process handlers share the node's process: contain their faults to their invocation.
        containFaults: options.isolate !== true,
        ...(options.redis ? { redis: options.redis } : {}),
        ...(options.domain ? { domainName: options.domain } : {}),
        ...(options.bounds ? { bounds: options.bounds } : {}),
        ...(files ? { fallbackRequest: files } : {}),
        ...(options.gc ? { gc: options.gc } : {}),
      });
      closers.push(() => served.close());
      const withAddress = withServedEnvironment(app, {
        host: served.address.host,
        port: served.address.port,
      });
      if (withAddress !== app) {
        served.gateway.setApp(withAddress, invoker);
        current = withAddress;
      }
      if (options.intercept) {
        const bound = served.address.host;
        const target = {
          hostname: bound === "0.0.0.0" || bound === "::" || bound === "" ? "127.0.0.1" : bound,
          port: served.address.port,
        };
        interceptions.rules = [
          { host: executeApiDomain(apiIdFor(app.name), "*"), target },
          ...(options.domain ? [{ host: options.domain.toLowerCase(), target }] : []),
        ];
        closers.push(addInterceptions(interceptions.rules));
      }
      let server: StartServer | undefined;
      const metrics = gatewayMetrics(served.gateway, {
        redisUp: () => served.redisTable?.reachable(),
        draining: () => server?.draining ?? false,
      });
      last.push(metrics.stop);
      const admin =
        options.adminPort !== undefined
          ? await startAdminServer({
              port: options.adminPort,
              host: options.adminHost ?? host,
              registry: metrics.registry,
              readiness: { checks: () => server?.checks() ?? { app: false } },
            })
          : undefined;
      if (admin) last.unshift(() => admin.close());
      server = new StartServer({
        served,
        managementAuth,
        admin: admin ? { url: admin.url } : undefined,
        closers,
        last,
        invoker,
      });
      return server;
    } catch (error) {
      for (const close of [...closers.reverse(), ...last]) {
        await Promise.resolve(close()).catch(() => undefined);
      }
      await invoker.dispose?.();
      throw error;
    }
  }

  /**
   * Shut down gracefully: `/readyz` answers 503 at once and new handshakes 503; every open
   * connection is closed with 1001 `Going away` after the invocation it has in flight, and its
   * `$disconnect` runs; the node leaves the cluster (its Redis keys and channel) and closes the
   * admin port last. The caller bounds it in time (`--drain-timeout`).
   */
  drain(): Promise<void> {
    this.#draining = true;
    this.#drained ??= (async () => {
      // In start order reversed, except the admin port and the metrics: they stay up so
      // /readyz keeps answering 503 while connections drain, and close last.
      for (const close of [...this.#closers].reverse()) {
        await Promise.resolve(close()).catch(() => undefined);
      }
      await this.#invoker.dispose?.();
      for (const close of this.#last) await Promise.resolve(close()).catch(() => undefined);
    })();
    return this.#drained;
  }
}

/**
 * The environment functions get under `start`: the region, and, when the process has no AWS
 * credentials of its own, the first configured key pair as `AWS_ACCESS_KEY_ID` /
 * `AWS_SECRET_ACCESS_KEY`, so plain Lambda handlers' SDK calls to `@connections` are signed
 * with a key the nodes accept (as a Lambda role grants `execute-api:ManageConnections`).
 */
function functionsEnvironment(region: string, keys: readonly AccessKey[]): Record<string, string> {
  const first = keys[0];
  return {
    AWS_REGION: process.env.AWS_REGION ?? region,
    ...(first && !process.env.AWS_ACCESS_KEY_ID
      ? { AWS_ACCESS_KEY_ID: first.accessKeyId, AWS_SECRET_ACCESS_KEY: first.secretAccessKey }
      : {}),
  };
}
