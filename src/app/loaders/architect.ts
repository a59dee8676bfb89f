import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { describeValue, quote } from "../describe-value.js";
import type { DocumentPath, Position } from "../issue-location.js";
import type { LoadAppOptions } from "../load-options.js";
import {
  type App,
  CONNECT,
  DEFAULT_ROUTE,
  DEFAULT_ROUTE_SELECTION_EXPRESSION,
  DISCONNECT,
  type TableDeclaration,
} from "../model.js";
import { SERVED_HOST, SERVED_PORT, SERVED_TABLES_PORT } from "../served-environment.js";
import {
  type AppDraft,
  finishApp,
  nodeRuntime,
  type RouteDraft,
  readMemory,
  readTimeout,
} from "./app-draft.js";
import {
  type ArcItem,
  type ArcManifest,
  type ArcValue,
  manifestFromData,
  parseArc,
} from "./architect-manifest.js";
import { type PositionOf, parseSource, SourceIssues } from "./source-issues.js";

/** Architect's defaults (inventory 5): 5 s, 1152 MB. */
const DEFAULT_TIMEOUT_SECONDS = 5;
const DEFAULT_MEMORY_MB = 1152;
/** Sandbox runs as ARC_ENV `testing`; so does the dev gateway's stage for Architect apps. */
const SANDBOX_STAGE = "testing";
/** The Sandbox version `@architect/functions` checks for (it needs >= 5). */
const SANDBOX_VERSION = "8.0.0";
const LIFECYCLE: Record<string, string> = {
  connect: CONNECT,
  disconnect: DISCONNECT,
  default: DEFAULT_ROUTE,
};
const ROUTE_NAME = /^[a-zA-Z0-9/\-._]{1,255}$/;
const HANDLER_FILES = ["index.mjs", "index.js", "index.cjs", "index.ts", "index.mts"];

/**
 * A route name as Architect writes it into Lambda function names (`@architect/utils`
 * getLambdaName): `-` and `.` become `_`, `/` becomes `-`; `_`, letters and digits stay. So
 * `chat/join` → `chat-join`, `chat.send` → `chat_send`. Lossy, as in Architect (whose own
 * deploy then has clashing names); the build reports such a clash.
 */
export function lambdaName(route: string): string {
  return route.replace(/[-.]/g, "_").replace(/\//g, "-");
}

/** Where an Architect manifest can be, in Architect's own order of preference. */
export const ARCHITECT_FILES: readonly string[] = [
  "app.arc",
  ".arc",
  "arc.json",
  "arc.yaml",
  "arc.yml",
];

/**
 * Read an Architect app (`app.arc`, `.arc`, `arc.json`, `arc.yaml`/`.yml`, or the `arc` /
 * `architect` key of `package.json`). `@ws` gives `$connect`, `$disconnect` and `$default`
 * plus one route per item, each handled by `src/ws/<name>/index.{mjs,js,cjs,ts}` (or the
 * item's `src`). Timeouts and memory come from `@aws` and each function's `config.arc`.
 * The environment makes `@architect/functions` (`arc.ws.send`, `close`, `info`) talk to the
 * dev gateway as it talks to Sandbox: `ARC_ENV=testing` and `ARC_SANDBOX` with its port.
 *
 * @example
 * ```ts
 * const app = await loadArchitect("/app/app.arc", text, { loader });
 * ```
 */
export async function loadArchitect(
  file: string,
  text: string,
  options: LoadAppOptions,
): Promise<App> {
  const base = path.basename(file);
  let manifest: ArcManifest;
  let issues: SourceIssues;
  if (base.endsWith(".arc")) {
    manifest = parseArc(text);
    issues = new SourceIssues(file, arcPositions(manifest));
  } else {
    const parsed = parseSource(file, text);
    issues = parsed.issues;
    if (base === "package.json") {
      const pkg = parsed.value as Record<string, unknown>;
      const key = pkg.arc !== undefined ? "arc" : "architect";
      manifest = manifestFromData(pkg[key], [key], issues);
    } else {
      manifest = manifestFromData(parsed.value, [], issues);
    }
  }
  return new ManifestReader(manifest, issues, options).read();
}

class ManifestReader {
  readonly #manifest: ArcManifest;
  readonly #issues: SourceIssues;
  readonly #options: LoadAppOptions;
  readonly #root: string;

  constructor(manifest: ArcManifest, issues: SourceIssues, options: LoadAppOptions) {
    this.#manifest = manifest;
    this.#issues = issues;
    this.#options = options;
    this.#root = path.dirname(issues.file);
  }

  async read(): Promise<App> {
    const name = this.#appName();
    const aws = this.#settings(this.#manifest.get("aws")?.items ?? []);
    const defaults = {
      timeoutSeconds: numberSetting(aws.get("timeout")?.value) ?? DEFAULT_TIMEOUT_SECONDS,
      memoryMb: readMemory(
        aws.get("memory")?.value,
        aws.get("memory")?.at ?? ["aws"],
        this.#issues,
        DEFAULT_MEMORY_MB,
      ),
      runtime: nodeRuntime(aws.get("runtime")?.value),
    };
    const timeoutSetting = aws.get("timeout");
    if (timeoutSetting)
      readTimeout(timeoutSetting.value, timeoutSetting.at, this.#issues, DEFAULT_TIMEOUT_SECONDS);
    this.#checkRuntime(aws.get("runtime"));

    const ws = this.#manifest.get("ws");
    const routes: RouteDraft[] = [];
    if (ws) {
      // Architect adds the lifecycle routes that the manifest does not list.
      const missing = ["connect", "disconnect", "default"].filter(
        (lifecycle) => !ws.items.some((item) => item.name === lifecycle),
      );
      const items: ArcItem[] = [
        ...missing.map((lifecycle) => ({
          name: lifecycle,
          values: [],
          settings: new Map(),
          at: [...ws.at, lifecycle],
        })),
        ...ws.items,
      ];
      for (const item of items) {
        const route = this.#route(item, defaults);
        if (route) routes.push(route);
      }
    }
    const stage = SANDBOX_STAGE;
    const tables = this.#tables(name);
    const region = aws.get("region")?.value;
    const staticDir = this.#staticFolder();
    const draft: AppDraft = {
      name,
      stage,
      ...(staticDir !== undefined ? { staticDir } : {}),
      ...(typeof region === "string" ? { region } : {}),
      // Architect selects routes by the `action` key, in Sandbox and in AWS.
      routeSelectionExpression: DEFAULT_ROUTE_SELECTION_EXPRESSION,
      routes,
      routesAt: ws?.at ?? [],
      environment: {
        ...this.#userEnvironment(),
        ...this.#sandboxEnvironment(name, this.#options.stage ?? stage, tables.length > 0),
      },
      tables,
    };
    if (!ws) this.#issues.add([], "a @ws pragma (this app declares no WebSocket routes)", "none");
    return finishApp(draft, { issues: this.#issues, format: "architect", options: this.#options });
  }

  #appName(): string {
    const app = this.#manifest.get("app");
    const first = app?.items[0];
    if (first?.name) return first.name;
    this.#issues.add(app?.at ?? [], "an app name (@app followed by a name)", "none");
    return "app";
  }

  #settings(
    items: readonly ArcItem[],
  ): Map<string, { value: ArcValue | undefined; at: DocumentPath; item: ArcItem }> {
    return new Map(items.map((item) => [item.name, { value: item.values[0], at: item.at, item }]));
  }

  #add(item: ArcItem | undefined, at: DocumentPath, expected: string, found: string): void {
    this.#issues.add(at, expected, found, item?.position);
  }

  #checkRuntime(
    setting: { value: ArcValue | undefined; at: DocumentPath; item: ArcItem } | undefined,
  ): void {
    if (!setting) return;
    const { value, at, item } = setting;
    if (typeof value !== "string" || !/^(node|nodejs)/.test(value)) {
      this.#add(item, at, "a Node.js runtime (nodejs20.x, node, ...)", describeValue(value));
    }
  }

  #route(
    item: ArcItem,
    defaults: { timeoutSeconds: number; memoryMb: number; runtime: string | undefined },
  ): RouteDraft | undefined {
    const { name } = item;
    const { at } = item;
    if (name.startsWith("$")) {
      this.#add(
        item,
        at,
        'a route name without "$" (connect, default and disconnect are added for you)',
        quote(name),
      );
      return undefined;
    }
    if (!ROUTE_NAME.test(name)) {
      this.#add(
        item,
        at,
        "a route name of letters, digits, /, -, . and _ (1 to 255 characters)",
        quote(name),
      );
      return undefined;
    }
    const src = item.settings.get("src")?.[0];
    const folder = typeof src === "string" ? src : path.posix.join("src", "ws", name);
    const dir = path.resolve(this.#root, folder);
    const handlerFile = HANDLER_FILES.find((candidate) => existsSync(path.join(dir, candidate)));
    if (!handlerFile) {
      this.#add(
        item,
        item.settings.has("src") ? [...(item.settingsAt ?? at), "src"] : at,
        `a handler module ${folder}/index.{mjs,js,cjs,ts} for @ws route ${name}`,
        existsSync(dir) ? `none in ${folder}` : `no folder ${folder}`,
      );
      return undefined;
    }
    const config = this.#functionConfig(dir);
    const timeoutSeconds = numberSetting(config.get("timeout")) ?? defaults.timeoutSeconds;
    const memory = numberSetting(config.get("memory"));
    const runtime = nodeRuntime(config.get("runtime")) ?? defaults.runtime;
    return {
      key: LIFECYCLE[name] ?? name,
      at,
      declaredIn: `@ws ${name}`,
      handler: {
        ref: `${path.posix.join(folder, handlerFile)}#handler`,
        at,
        ...withRuntime(nodeRuntime(config.get("runtime")) ?? defaults.runtime),
      },
      functionName: `${this.#appNameSafe()}-${SANDBOX_STAGE}-ws-${lambdaName(name)}`,
      routeResponse: false,
      timeoutMs: readTimeout(timeoutSeconds, at, this.#issues, defaults.timeoutSeconds),
      memoryMb: readMemory(memory ?? defaults.memoryMb, at, this.#issues, defaults.memoryMb),
      environment: {},
      ...(runtime ? { runtime } : {}),
    };
  }

  /**
   * `@static`'s folder, as Sandbox serves it: `folder <dir>` when given, else `public`.
   * Undefined without `@static`.
   */
  #staticFolder(): string | undefined {
    const pragma = this.#manifest.get("static");
    if (!pragma) return undefined;
    const folder = this.#settings(pragma.items).get("folder");
    if (folder === undefined) return "public";
    if (typeof folder.value !== "string" || folder.value === "") {
      this.#add(
        folder.item,
        folder.at,
        "a folder name (@static folder <dir>)",
        describeValue(folder.value),
      );
      return "public";
    }
    return folder.value;
  }

  #appNameSafe(): string {
    return this.#manifest.get("app")?.items[0]?.name ?? "app";
  }

  /** A function's own `config.arc` (`@aws timeout 10` / `memory 256`). */
  #functionConfig(dir: string): Map<string, ArcValue | undefined> {
    const file = path.join(dir, "config.arc");
    if (!existsSync(file)) return new Map();
    const aws = parseArc(readFileSync(file, "utf8")).get("aws")?.items ?? [];
    return new Map(aws.map((item) => [item.name, item.values[0]]));
  }

  /**
   * What Sandbox gives functions so that `@architect/functions` finds it: `ARC_ENV=testing`
   * (local mode), `ARC_SANDBOX` with the internal port `arc.ws` posts to
   * (`http://localhost:<port>/_arc/ws/@connections/<id>`, which the gateway serves), and
   * `ARC_WSS_URL` for clients.
   */
  #sandboxEnvironment(name: string, stage: string, tables: boolean): Record<string, string> {
    const port = SERVED_PORT;
    // `arc.tables()` asks `_arc/ssm` (served by the dev server) for the table names and talks
    // to DynamoDB on `ports.tables`.
    const tablesPort = tables ? `,"tables":${SERVED_TABLES_PORT}` : "";
    const sandbox = `{"cwd":${JSON.stringify(this.#root)},"ports":{"http":${port},"_arc":${port}${tablesPort}},"version":"${SANDBOX_VERSION}","apiType":"http"}`;
    return {
      ...sandboxCredentials(),
      ARC_ENV: "testing",
      ARC_APP_NAME: name,
      ARC_SANDBOX: sandbox,
      ARC_WSS_URL: `ws://${SERVED_HOST}:${port}/${stage}`,
    };
  }

  /**
   * `@tables` (with `@tables-indexes`), named as Sandbox names them (`<app>-staging-<table>`):
   * `name *String` is the partition key, `name **Number` the sort key, `name TTL` the TTL.
   */
  #tables(app: string): TableDeclaration[] {
    const pragma = this.#manifest.get("tables");
    if (!pragma) return [];
    const indexes = this.#manifest.get("tables-indexes")?.items ?? [];
    const tables: TableDeclaration[] = [];
    for (const item of pragma.items) {
      const attributes: TableDeclaration["attributes"] = {};
      const key = this.#keyOf(item, attributes);
      if (!key.hash) {
        this.#add(
          item,
          item.at,
          `a partition key under @tables ${item.name} (e.g. id *String)`,
          "none",
        );
        continue;
      }
      const table: TableDeclaration = {
        name: `${app}-staging-${item.name}`,
        declaredAs: item.name,
        attributes,
        key: key.hash && key.range ? { hash: key.hash, range: key.range } : { hash: key.hash },
      };
      if (key.ttl) table.ttlAttribute = key.ttl;
      const global = indexes
        .filter((index) => index.name === item.name)
        .flatMap((index) => {
          const indexKey = this.#keyOf(index, attributes);
          if (!indexKey.hash) {
            this.#add(
              index,
              index.at,
              `a partition key under @tables-indexes ${index.name}`,
              "none",
            );
            return [];
          }
          const named = index.settings.get("name")?.[0];
          return [
            {
              name:
                typeof named === "string"
                  ? named
                  : [indexKey.hash, indexKey.range, "index"].filter(Boolean).join("-"),
              key: indexKey.range
                ? { hash: indexKey.hash, range: indexKey.range }
                : { hash: indexKey.hash },
              projection: { type: "ALL" as const },
            },
          ];
        });
      if (global.length > 0) table.globalIndexes = global;
      tables.push(table);
    }
    return tables;
  }

  /** The keys an `@tables` / `@tables-indexes` item declares (`*String`, `**Number`, `TTL`). */
  #keyOf(
    item: ArcItem,
    attributes: TableDeclaration["attributes"],
  ): { hash?: string; range?: string; ttl?: string } {
    const out: { hash?: string; range?: string; ttl?: string } = {};
    for (const [attribute, values] of item.settings) {
      const value = String(values[0] ?? "");
      const match = /^(\*{1,2})(String|Number|Binary)$/.exec(value);
      if (match) {
        attributes[attribute] = match[2] === "String" ? "S" : match[2] === "Number" ? "N" : "B";
        if (match[1] === "*") out.hash = attribute;
        else out.range = attribute;
      } else if (value === "TTL") {
        out.ttl = attribute;
      }
    }
    return out;
  }

  /** Sandbox's user environment: `.env`, else `prefs.arc` `@env testing`. */
  #userEnvironment(): Record<string, string> {
    const dotEnv = path.join(this.#root, ".env");
    if (existsSync(dotEnv)) {
      const env: Record<string, string> = {};
      for (const line of readFileSync(dotEnv, "utf8").split(/\r?\n/)) {
        const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
        if (match) env[match[1] as string] = (match[2] as string).replace(/^(['"])(.*)\1$/, "$2");
      }
      return env;
    }
    const prefs = path.join(this.#root, "prefs.arc");
    if (!existsSync(prefs)) return {};
    const testing = parseArc(readFileSync(prefs, "utf8"))
      .get("env")
      ?.items.find((item) => item.name === "testing");
    return Object.fromEntries(
      [...(testing?.settings ?? [])].map(([key, values]) => [key, values.join(" ")]),
    );
  }
}

/**
 * Sandbox hands functions the developer's AWS credentials, or dummy ones when there are none
 * (any will do for local emulation); `@architect/functions` needs some to sign its calls.
 */
function sandboxCredentials(): Record<string, string> {
  const { AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE } = process.env;
  const credentialsFile =
    AWS_SHARED_CREDENTIALS_FILE ?? path.join(homedir(), ".aws", "credentials");
  if (AWS_ACCESS_KEY_ID || AWS_PROFILE || existsSync(credentialsFile)) return {};
  return {
    AWS_ACCESS_KEY_ID: "arc_dummy_access_key",
    AWS_SECRET_ACCESS_KEY: "arc_dummy_secret_key",
  };
}

/** Positions of `.arc` pragmas and items by their paths (`["ws", "chat"]`). */
function arcPositions(manifest: ArcManifest): PositionOf {
  const positions = new Map<string, Position>();
  for (const [name, pragma] of manifest) {
    if (pragma.position) positions.set(JSON.stringify([name]), pragma.position);
    for (const item of pragma.items) {
      if (item.position && !positions.has(JSON.stringify(item.at)))
        positions.set(JSON.stringify(item.at), item.position);
    }
  }
  return (at) => positions.get(JSON.stringify(at));
}

function numberSetting(value: ArcValue | undefined): number | undefined {
  return typeof value === "number" ? value : undefined;
}

function withRuntime(runtime: string | undefined): { runtime?: string } {
  return runtime ? { runtime } : {};
}
