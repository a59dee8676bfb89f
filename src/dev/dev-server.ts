import { EventEmitter } from "node:events";
import { existsSync, readdirSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { homedir } from "node:os";
import path from "node:path";
import { type FSWatcher, watch } from "chokidar";
import { apiIdFor } from "../app/aws-names.js";
import { loadApp } from "../app/load.js";
import type { App } from "../app/model.js";
import { ModuleLoader } from "../app/module-loader.js";
import {
  SERVED_HOST,
  SERVED_PORT,
  SERVED_TABLES_PORT,
  type ServedAddress,
  withServedEnvironment,
} from "../app/served-environment.js";
import type { RedisTable, RedisTableOptions } from "../cluster/redis-table.js";
import { accessKeysFrom } from "../gateway/access-keys.js";
import type { GatewayBounds } from "../gateway/bounds.js";
import type { Gateway } from "../gateway/gateway.js";
import {
  isLoopbackHost,
  type ManagementAuth,
  managementAuthFor,
} from "../gateway/management-auth.js";
import { InProcessInvoker } from "../invoker/in-process.js";
import {
  addInterceptions,
  devInterceptions,
  type InterceptRule,
  installInterception,
} from "../invoker/interception.js";
import type { Invoker } from "../invoker/invoker.js";
import { IsolatedInvoker } from "../invoker/isolated.js";
import { type Served, serve } from "../serve.js";
import { arcServices } from "./arc-services.js";
import { createInspector, type Inspector } from "./inspector/inspector.js";
import { LocalTables } from "./local-tables.js";
import { readSecrets } from "./secrets.js";
import { runSeed, type SeedReport } from "./seed-run.js";
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
  /**
   * Folder where the local DynamoDB (started when the app declares tables) keeps its data
   * between runs. Default: in memory, empty on every start.
   */
  dataDir?: string;
  /**
   * Keep the connection table (`ctx.connections`) in Redis instead of in memory: it outlives
   * restarts and is shared with every process that opens the same key prefix.
   */
  redis?: RedisTableOptions;
  /** Edge values in handshake events: `"aws"` (default) or `"local"` (see `GatewayOptions.edge`). */
  edge?: "aws" | "local";
  /** Per-connection bounds (queued messages, unread output); see `GatewayBounds`. */
  bounds?: Partial<GatewayBounds>;
  /**
   * `Host` names the server answers besides IP addresses, `localhost` and `*.localhost`
   * (DNS rebinding protection, as Vite's `server.allowedHosts`); `.example.com` allows the
   * domain and its subdomains; `true` answers any (not recommended). Default: none.
   */
  allowedHosts?: readonly string[] | true;
  /**
   * How long `close()` waits for queued messages and `$disconnect` handlers before dropping
   * what has not started (see `GatewayOptions.shutdownTimeoutMs`). Default 5000 ms.
   */
  shutdownTimeoutMs?: number;
  /**
   * Who may call `@connections`. Default: anyone on a loopback host; on any other host, SigV4
   * with the configured keys (`SWITCHBOARD_ACCESS_KEY_ID`, ...), else loopback peers only.
   */
  managementAuth?: ManagementAuth;
  /**
   * The inspector page at `/_switchboard` (routes, connections, a live timeline, actions).
   * Default true; `switchboard start` never serves it.
   */
  inspector?: boolean;
  /**
   * A full, synchronous garbage collection (V8's `gc()`; `switchboard dev` passes one): with
   * it, the server gives back the memory a load drop leaves committed once it goes quiet (see
   * `MemoryReturnBounds`). Without it (the default for an embedder), nothing.
   */
  gc?: () => void;
}

export type ReloadReport =
  | {
      ok: true;
      app: App;
      durationMs: number;
      /** What changed: the files the watcher saw change (absolute), empty for a `reload()` call. */
      changed: string[];
      /** Route keys the new version added and removed. */
      routes: { added: string[]; removed: string[] };
    }
  | { ok: false; error: unknown };

interface DevServerEvents {
  reload: [ReloadReport];
}

/** What functions get from the dev server besides the app's environment (see docs/dev.md). */
interface Surroundings {
  /** `AWS_REGION`, dummy credentials when the developer has none, the local DynamoDB endpoint. */
  environment: Record<string, string>;
  /** Hosts whose requests are redirected to the gateway and the local DynamoDB. */
  interceptions: InterceptRule[];
}

/** In-process functions see their environment from the first import on (module top level). */
function environmentHook(options: DevServerOptions) {
  if (options.isolate) return { secrets: readSecrets };
  return {
    secrets: readSecrets,
    beforeImport: (env: Record<string, string>) => {
      // Values naming the served address are only known after listen(); they are applied then.
      const known = Object.entries(env).filter(
        ([, value]) =>
          !value.includes(SERVED_HOST) &&
          !value.includes(SERVED_PORT) &&
          !value.includes(SERVED_TABLES_PORT),
      );
      Object.assign(
        process.env,
        { AWS_REGION: options.region ?? process.env.AWS_REGION ?? "us-east-1" },
        Object.fromEntries(known),
      );
    },
  };
}

/** In-process functions share this process's environment: the app's, then every route's. */
function applyEnvironment(app: App, surroundings: Surroundings): void {
  Object.assign(process.env, surroundings.environment, app.environment);
  for (const route of app.routes) Object.assign(process.env, route.environment);
}

/** Whether the SDKs would find credentials of the developer's (then no dummy ones are set). */
function hasCredentials(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE) return true;
  if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) {
    return true;
  }
  const home = homedir();
  const credentials = env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(home, ".aws", "credentials");
  const config = env.AWS_CONFIG_FILE ?? path.join(home, ".aws", "config");
  return existsSync(credentials) || existsSync(config);
}

/** The AWS environment every function gets (the app's own variables win over it). */
function awsEnvironment(
  region: string,
  tables: LocalTables | undefined,
  auth: ManagementAuth,
): Record<string, string> {
  // With signed @connections (a non-loopback host with keys), functions sign with the first pair.
  const key = auth.mode === "sigv4" ? auth.keys[0] : undefined;
  return {
    AWS_REGION: region,
    ...(hasCredentials()
      ? {}
      : {
          AWS_ACCESS_KEY_ID: key?.accessKeyId ?? "switchboard-local",
          AWS_SECRET_ACCESS_KEY: key?.secretAccessKey ?? "switchboard-local",
        }),
    // SDK v3 and the AWS CLI honour it; every SDK is caught by the interception as well.
    ...(tables ? { AWS_ENDPOINT_URL_DYNAMODB: tables.endpoint } : {}),
  };
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
  /** Files changed since the last reload started (reported with it). */
  readonly #changed = new Set<string>();
  #again = false;
  #timer: NodeJS.Timeout | undefined;

  #invoker: Invoker;
  #served: ServedAddress = { host: "127.0.0.1", port: 0 };
  readonly #surroundings: Surroundings;
  #tables: LocalTables | undefined;
  #redisTable: RedisTable | undefined;
  #removeInterceptions: (() => void) | undefined;
  /** What `serve()` started: closing it closes the gateway, the cluster and Redis. */
  #serving: Served | undefined;
  #managementAuth: ManagementAuth = { mode: "open" };
  #inspector: Inspector | undefined;
  /** Variables this server put in `process.env` (in-process mode), removed again on close. */
  readonly #ownEnvironment: Record<string, string> = {};
  /** What the app's `seed` did at start (undefined: the app has none). */
  seedReport: SeedReport | undefined;

  private constructor(
    options: DevServerOptions,
    gateway: Gateway,
    loader: ModuleLoader,
    invoker: Invoker,
    surroundings: Surroundings,
    tables: LocalTables | undefined,
  ) {
    super();
    this.options = options;
    this.gateway = gateway;
    this.#loader = loader;
    this.#invoker = invoker;
    this.#surroundings = surroundings;
    this.#tables = tables;
  }

  static #createInvoker(
    options: DevServerOptions,
    loader: ModuleLoader,
    cacheDir: string,
    surroundings: Surroundings,
  ): Invoker {
    const region = options.region ? { region: options.region } : {};
    return options.isolate
      ? new IsolatedInvoker(loader, {
          cacheDir,
          ...region,
          // Read when each worker starts: known once the gateway and the tables listen.
          environment: () => surroundings.environment,
          interceptions: () => surroundings.interceptions,
        })
      : new InProcessInvoker(loader, region);
  }

  /** The local DynamoDB, when the app declares tables (`endpoint`, `port`, `dataDir`). */
  get tables(): LocalTables | undefined {
    return this.#tables;
  }

  /** Load the app (throws ConfigError on an invalid one) and start serving. */
  static async start(
    given: DevServerOptions,
  ): Promise<DevServer & { url: string; port: number; staticDir: string | undefined }> {
    let options = given;
    // Before any handler module loads, so code that keeps a reference to `https.request`
    // gets the intercepting one.
    installInterception();
    // Handler stacks (terminal, inspector) point into the sources, not the bundles: enabled
    // before any handler module loads (Node maps only modules loaded after this).
    if (options.inspector !== false) process.setSourceMapsEnabled(true);
    const cacheDir = DevServer.#cacheDir(options.target);
    const loader = new ModuleLoader({ cacheDir });
    let app: App;
    try {
      app = await loadApp(options.target, {
        loader,
        ...environmentHook(options),
        ...(options.stage ? { stage: options.stage } : {}),
        ...(options.region ? { region: options.region } : {}),
      });
    } catch (error) {
      if (error !== null && typeof error === "object") loadFailures.set(error, loader.inputs());
      await loader.dispose();
      throw error;
    }
    // The functions run in the region the app declares (Serverless provider.region, Architect
    // @aws region) unless one is given: AWS_REGION, the Lambda context and the gateway follow it.
    if (options.region === undefined && app.region !== undefined) {
      options = { ...options, region: app.region };
    }
    const surroundings: Surroundings = { environment: {}, interceptions: [] };
    const tables = app.tables?.length ? await DevServer.#startTables(options, app) : undefined;
    try {
      const invoker = DevServer.#createInvoker(options, loader, cacheDir, surroundings);
      const staticDir =
        options.staticDir === false
          ? undefined
          : (options.staticDir ??
            // The folder the app declares (Architect @static), else <app>/public if present.
            (app.staticDir !== undefined
              ? existsSync(app.staticDir)
                ? app.staticDir
                : undefined
              : existsSync(path.join(app.root, "public"))
                ? path.join(app.root, "public")
                : undefined));
      let gateway: Gateway | undefined;
      const reserved = (pathname: string) => {
        const stage = gateway?.app.stage ?? app.stage;
        return pathname === "/" || pathname === `/${stage}` || pathname === `/${stage}/`;
      };
      // Sandbox's `_arc/ssm` (how arc.tables() finds table names), then static files.
      const arc = arcServices(() => (gateway as Gateway).app);
      const files = staticDir ? staticFiles(staticDir, reserved) : undefined;
      let inspector: Inspector | undefined;
      const fallbackRequest = (req: IncomingMessage, res: ServerResponse) =>
        (inspector?.handle(req, res) ?? false) || arc(req, res) || (files?.(req, res) ?? false);
      const managementAuth =
        options.managementAuth ??
        managementAuthFor({
          host: options.host ?? "127.0.0.1",
          // Keys are read only where they are used (a loopback dev server ignores them).
          keys: isLoopbackHost(options.host ?? "127.0.0.1") ? [] : accessKeysFrom(),
          region: options.region ?? process.env.AWS_REGION ?? "us-east-1",
        });
      const served = await serve({
        app,
        invoker,
        ...(options.port !== undefined ? { port: options.port } : {}),
        ...(options.host !== undefined ? { host: options.host } : {}),
        ...(options.region !== undefined ? { region: options.region } : {}),
        ...(options.redis ? { redis: options.redis } : {}),
        ...(options.bounds ? { bounds: options.bounds } : {}),
        ...(options.edge ? { edge: options.edge } : {}),
        managementAuth,
        fallbackRequest,
        // In-process handlers share this process: contain their faults to their invocation.
        containFaults: !options.isolate,
        // Always on in dev, whatever the bind address: the handlers hold the developer's credentials.
        allowedHosts: options.allowedHosts ?? [],
        ...(options.shutdownTimeoutMs !== undefined
          ? { shutdownTimeoutMs: options.shutdownTimeoutMs }
          : {}),
        ...(options.gc ? { gc: options.gc } : {}),
      });
      gateway = served.gateway;
      if (options.inspector !== false) inspector = createInspector(gateway);
      const { address } = served;
      const server = new DevServer(options, gateway, loader, invoker, surroundings, tables);
      server.#managementAuth = managementAuth;
      server.#redisTable = served.redisTable;
      server.#serving = served;
      server.#inspector = inspector;
      // Environment values that name the bound ports (Architect's ARC_SANDBOX) are known now.
      server.#served = {
        host: address.host,
        port: address.port,
        ...(tables ? { tablesPort: tables.port } : {}),
      };
      server.#surround(app);
      const withAddress = withServedEnvironment(app, server.#served);
      if (withAddress !== app) gateway.setApp(withAddress, invoker);
      if (!options.isolate) server.#applyEnvironment(withAddress);
      if (options.watch !== false) server.#watch(app);
      // The app's seed, once, against the local tables: its failure is reported, not fatal.
      server.seedReport = await runSeed(withAddress, loader);
      return Object.assign(server, { url: address.url, port: address.port, staticDir });
    } catch (error) {
      await tables?.close();
      throw error;
    }
  }

  /**
   * {@link DevServer.start}, except that an app that does not load (invalid config, handler
   * that does not compile) is reported through `onInvalid` and waited for: the config and
   * the files the attempt read are watched, and the next change tries again. Other failures
   * (a busy port, Redis unreachable), and any failure with `watch: false`, are thrown.
   */
  static async startWhenValid(
    options: DevServerOptions,
    onInvalid: (error: unknown, watching: string[]) => void,
  ): ReturnType<typeof DevServer.start> {
    for (;;) {
      const attempt = Date.now();
      try {
        return await DevServer.start(options);
      } catch (error) {
        const inputs =
          error !== null && typeof error === "object" ? loadFailures.get(error) : undefined;
        if (!inputs || options.watch === false) throw error;
        const watching = [path.resolve(options.target), ...inputs];
        onInvalid(error, watching);
        await nextChange(watching, attempt);
      }
    }
  }

  /** The Redis connection table, when the server was started with `redis`. */
  get redisTable(): RedisTable | undefined {
    return this.#redisTable;
  }

  static async #startTables(options: DevServerOptions, app: App): Promise<LocalTables> {
    const tables = await LocalTables.start(options.dataDir ? { dataDir: options.dataDir } : {});
    try {
      await tables.ensure(app.tables ?? []);
    } catch (error) {
      await tables.close();
      throw error;
    }
    return tables;
  }

  /**
   * (Re)compute what functions get from the server: the AWS environment, and the hosts
   * redirected to the gateway and the local DynamoDB, registered in this process (in-process
   * functions) and handed to the workers started from now on (`--isolate`).
   */
  #surround(app: App): void {
    const region = this.gateway.region;
    const bound = this.#served.host;
    const hostname = bound === "0.0.0.0" || bound === "::" || bound === "" ? "127.0.0.1" : bound;
    this.#surroundings.environment = awsEnvironment(region, this.#tables, this.#managementAuth);
    this.#surroundings.interceptions = devInterceptions({
      apiId: apiIdFor(app.name),
      gateway: { hostname, port: this.#served.port },
      ...(this.#tables ? { dynamodb: { hostname: "127.0.0.1", port: this.#tables.port } } : {}),
    });
    this.#removeInterceptions?.();
    this.#removeInterceptions = addInterceptions(this.#surroundings.interceptions);
  }

  #applyEnvironment(app: App): void {
    for (const [name, value] of Object.entries(this.#surroundings.environment)) {
      if (process.env[name] === undefined || this.#ownEnvironment[name] === process.env[name]) {
        this.#ownEnvironment[name] = value;
      }
    }
    applyEnvironment(app, this.#surroundings);
  }

  /** Tables declared while serving are created (the local DynamoDB starts if it must). */
  async #syncTables(app: App): Promise<void> {
    if (!app.tables?.length) return;
    if (this.#tables) {
      await this.#tables.ensure(app.tables);
      return;
    }
    this.#tables = await DevServer.#startTables(this.options, app);
    this.#served = { ...this.#served, tablesPort: this.#tables.port };
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

  /** The invoker now running the app's functions (replaced on reload). */
  get invoker(): Invoker {
    return this.#invoker;
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
    const changed = [...this.#changed];
    this.#changed.clear();
    // A fresh loader: the running generation keeps its modules until the swap.
    const cacheDir = DevServer.#cacheDir(this.options.target);
    const loader = new ModuleLoader({ cacheDir });
    let report: ReloadReport;
    try {
      const loaded = await loadApp(this.options.target, {
        loader,
        ...environmentHook(this.options),
        ...(this.options.stage ? { stage: this.options.stage } : {}),
        ...(this.options.region ? { region: this.options.region } : {}),
      });
      await this.#syncTables(loaded);
      const app = withServedEnvironment(loaded, this.#served);
      this.#surround(app);
      if (!this.options.isolate) this.#applyEnvironment(app);
      const invoker = DevServer.#createInvoker(this.options, loader, cacheDir, this.#surroundings);
      const before = new Set(this.gateway.app.routes.map((r) => r.key));
      const after = new Set(app.routes.map((r) => r.key));
      this.gateway.setApp(app, invoker);
      const previous = this.#invoker;
      // Invocations already running finish on the old code; release its workers afterwards.
      previous.retire?.();
      this.#invoker = invoker;
      this.#loader = loader;
      this.#rewatch(app);
      report = {
        ok: true,
        app,
        durationMs: performance.now() - started,
        changed,
        routes: {
          added: [...after].filter((key) => !before.has(key)),
          removed: [...before].filter((key) => !after.has(key)),
        },
      };
      this.#inspector?.appChanged();
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
    const schedule = (file: string) => {
      // Bounded by the watched files: what the next reload report names.
      this.#changed.add(path.resolve(file));
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
    this.#inspector?.close();
    await this.#serving?.close();
    await this.#invoker.dispose?.();
    await this.#loader.dispose();
    await this.#tables?.close();
    this.#removeInterceptions?.();
    for (const [name, value] of Object.entries(this.#ownEnvironment)) {
      if (process.env[name] === value) delete process.env[name];
    }
  }
}

/** Files each failed load read (see {@link DevServer.startWhenValid}). */
const loadFailures = new WeakMap<object, string[]>();

const IGNORED = /[\\/](\.switchboard|node_modules|\.git)([\\/]|$)/;

/**
 * Resolves on the first change to `files` (a folder among them: its own files, where a new or
 * renamed config appears), after a short quiet time so an editor's burst of writes is one.
 * A change made since `since` (while the failed attempt ran, or before the watcher was
 * ready) counts too.
 */
async function nextChange(files: string[], since: number): Promise<void> {
  const watcher = watch(files, {
    ignoreInitial: true,
    depth: 0,
    ignored: (file) => IGNORED.test(file),
  });
  try {
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const changed = () => {
        clearTimeout(timer);
        timer = setTimeout(resolve, 50);
      };
      watcher.on("change", changed).on("add", changed).on("unlink", changed);
      watcher.once("ready", () => {
        if (changedSince(files, since)) changed();
      });
    });
  } finally {
    await watcher.close();
  }
}

/** Whether a file, or a folder or one of its own files, was modified at or after `since`. */
function changedSince(files: string[], since: number): boolean {
  const modified = (file: string) =>
    (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0) >= since;
  for (const file of files) {
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.mtimeMs >= since) return true;
    if (stat.isDirectory()) {
      const entries = readdirSync(file).filter((name) => !IGNORED.test(`/${name}`));
      if (entries.some((name) => modified(path.join(file, name)))) return true;
    }
  }
  return false;
}

/** Start `switchboard dev` programmatically. */
export function startDevServer(options: DevServerOptions) {
  return DevServer.start(options);
}
