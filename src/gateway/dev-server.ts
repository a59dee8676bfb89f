import { EventEmitter } from "node:events";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { type FSWatcher, watch } from "chokidar";
import { loadApp } from "../app/load.js";
import type { App } from "../app/model.js";
import { ModuleLoader } from "../app/module-loader.js";
import {
  SERVED_HOST,
  SERVED_PORT,
  type ServedAddress,
  withServedEnvironment,
} from "../app/served-environment.js";
import { Gateway } from "./gateway.js";
import { InProcessInvoker, type Invoker } from "./invoker.js";
import { IsolatedInvoker } from "./invoker-isolated.js";
import { staticFiles } from "./static-files.js";

export interface DevServerOptions {
  /** App folder or config file. */
  target: string;
  port?: number;
  host?: string;
  /** Overrides the config's stage. */
  stage?: string;
  /** Hot reload on file changes (default true). */
  watch?: boolean;
  /** Folder served as static files (default `<app>/public` when it exists; `false` for none). */
  staticDir?: string | false;
  region?: string;
  /**
   * Run each function in worker threads (own environment, heap limit from its memory size,
   * hard timeout that survives synchronous loops) instead of in this process. Default false.
   */
  isolate?: boolean;
}

export type ReloadReport =
  | { ok: true; app: App; durationMs: number }
  | { ok: false; error: unknown };

interface DevServerEvents {
  reload: [ReloadReport];
}

/** Environment for in-process functions: the app's, then every route's (see docs/dev.md). */
/** In-process functions see their environment from the first import on (module top level). */
function environmentHook(options: DevServerOptions) {
  if (options.isolate) return {};
  return {
    beforeImport: (env: Record<string, string>) => {
      // Values naming the served address are only known after listen(); they are applied then.
      const known = Object.entries(env).filter(
        ([, value]) => !value.includes(SERVED_HOST) && !value.includes(SERVED_PORT),
      );
      Object.assign(
        process.env,
        { AWS_REGION: process.env.AWS_REGION ?? "us-east-1" },
        Object.fromEntries(known),
      );
    },
  };
}

function applyEnvironment(app: App): void {
  Object.assign(
    process.env,
    { AWS_REGION: process.env.AWS_REGION ?? "us-east-1" },
    app.environment,
  );
  for (const route of app.routes) Object.assign(process.env, route.environment);
}

/**
 * `switchboard dev`: loads and validates the app, serves it on a {@link Gateway}, and reloads
 * it when a handler or the config changes, without dropping connections. A config that no
 * longer validates keeps the last good app running.
 */
export class DevServer extends EventEmitter<DevServerEvents> {
  readonly gateway: Gateway;
  readonly options: DevServerOptions;
  #watcher: FSWatcher | undefined;
  #loader: ModuleLoader;
  #reloading: Promise<ReloadReport> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;

  #invoker: Invoker;
  #served: ServedAddress = { host: "127.0.0.1", port: 0 };

  private constructor(
    options: DevServerOptions,
    gateway: Gateway,
    loader: ModuleLoader,
    invoker: Invoker,
  ) {
    super();
    this.options = options;
    this.gateway = gateway;
    this.#loader = loader;
    this.#invoker = invoker;
  }

  static #createInvoker(
    options: DevServerOptions,
    loader: ModuleLoader,
    cacheDir: string,
  ): Invoker {
    const region = options.region ? { region: options.region } : {};
    return options.isolate
      ? new IsolatedInvoker(loader, { cacheDir, ...region })
      : new InProcessInvoker(loader, region);
  }

  /** Load the app (throws ConfigError on an invalid one) and start serving. */
  static async start(
    options: DevServerOptions,
  ): Promise<DevServer & { url: string; port: number; staticDir: string | undefined }> {
    const cacheDir = DevServer.#cacheDir(options.target);
    const loader = new ModuleLoader({ cacheDir });
    const app = await loadApp(options.target, {
      loader,
      ...environmentHook(options),
      ...(options.stage ? { stage: options.stage } : {}),
    });
    const invoker = DevServer.#createInvoker(options, loader, cacheDir);
    const staticDir =
      options.staticDir === false
        ? undefined
        : (options.staticDir ??
          (existsSync(path.join(app.root, "public")) ? path.join(app.root, "public") : undefined));
    let gateway: Gateway | undefined;
    const reserved = (pathname: string) => {
      const stage = gateway?.app.stage ?? app.stage;
      return pathname === "/" || pathname === `/${stage}` || pathname === `/${stage}/`;
    };
    gateway = new Gateway({
      app,
      invoker,
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.host !== undefined ? { host: options.host } : {}),
      ...(options.region !== undefined ? { region: options.region } : {}),
      ...(staticDir ? { fallbackRequest: staticFiles(staticDir, reserved) } : {}),
    });
    const server = new DevServer(options, gateway, loader, invoker);
    const address = await gateway.listen();
    // Environment values that name the bound port (Architect's ARC_SANDBOX) are known now.
    server.#served = { host: address.host, port: address.port };
    const served = withServedEnvironment(app, server.#served);
    if (served !== app) gateway.setApp(served, invoker);
    if (!options.isolate) applyEnvironment(served);
    if (options.watch !== false) server.#watch(app);
    return Object.assign(server, { url: address.url, port: address.port, staticDir });
  }

  static #cacheDir(target: string): string {
    const resolved = path.resolve(target);
    const dir =
      existsSync(resolved) && statSync(resolved).isFile() ? path.dirname(resolved) : resolved;
    return path.join(dir, ".switchboard", "modules");
  }

  get app(): App {
    return this.gateway.app;
  }

  /**
   * Rebuild and revalidate everything, then swap the app in. Concurrent calls share one reload
   * (plus one more if files changed while it ran).
   */
  reload(): Promise<ReloadReport> {
    if (this.#reloading) {
      this.#again = true;
      return this.#reloading;
    }
    this.#reloading = this.#reload().finally(() => {
      this.#reloading = undefined;
      if (this.#again) {
        this.#again = false;
        void this.reload();
      }
    });
    return this.#reloading;
  }

  async #reload(): Promise<ReloadReport> {
    const started = performance.now();
    // A fresh loader: the running generation keeps its modules until the swap.
    const cacheDir = DevServer.#cacheDir(this.options.target);
    const loader = new ModuleLoader({ cacheDir });
    let report: ReloadReport;
    try {
      const app = withServedEnvironment(
        await loadApp(this.options.target, {
          loader,
          ...environmentHook(this.options),
          ...(this.options.stage ? { stage: this.options.stage } : {}),
        }),
        this.#served,
      );
      if (!this.options.isolate) applyEnvironment(app);
      const invoker = DevServer.#createInvoker(this.options, loader, cacheDir);
      this.gateway.setApp(app, invoker);
      const previous = this.#invoker;
      // Invocations already running finish on the old code; release its workers afterwards.
      setTimeout(() => void previous.dispose?.(), app.limits.timeoutMs).unref();
      this.#invoker = invoker;
      this.#loader = loader;
      this.#rewatch(app);
      report = { ok: true, app, durationMs: performance.now() - started };
    } catch (error) {
      // Keep watching what the failed attempt read, so fixing it triggers the next reload.
      if (this.#watcher) this.#watcher.add(loader.inputs());
      report = { ok: false, error };
    }
    this.emit("reload", report);
    return report;
  }

  #watchedFiles(app: App): string[] {
    return [app.source.file, ...this.#loader.inputs()];
  }

  #watch(app: App): void {
    this.#watcher = watch(this.#watchedFiles(app), {
      ignoreInitial: true,
      awaitWriteFinish: false,
    });
    const schedule = () => {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.reload(), 25);
    };
    this.#watcher.on("change", schedule).on("add", schedule).on("unlink", schedule);
  }

  #rewatch(app: App): void {
    this.#watcher?.add(this.#watchedFiles(app));
  }

  /** Stop watching, close every connection and the port. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#watcher?.close();
    await this.#reloading?.catch(() => undefined);
    await this.gateway.close();
    await this.#invoker.dispose?.();
    await this.#loader.dispose();
  }
}

/** Start `switchboard dev` programmatically. */
export function startDevServer(options: DevServerOptions) {
  return DevServer.start(options);
}
