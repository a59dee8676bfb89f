import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { loadApp } from "../app/load.js";
import {
  type App,
  type Authorizer,
  CONNECT,
  DEFAULT_LIMITS,
  DEFAULT_MEMORY_MB,
  DEFAULT_ROUTE_SELECTION_EXPRESSION,
  DEFAULT_STAGE,
  type Limits,
  type Route,
} from "../app/model.js";
import { type LoadedModule, ModuleLoader } from "../app/module-loader.js";
import { InProcessInvoker } from "../invoker/in-process.js";
import type { ConnectionRecord, DeclaredRow } from "../runtime/connection-store.js";
import { checkTestApp } from "./check-routes.js";
import { TestGateway, type TestGatewayOptions } from "./test-gateway.js";

/** Options of {@link testApp}. */
export interface TestAppOptions extends Omit<TestGatewayOptions, "onClose"> {
  /** Overrides the app's stage. */
  stage?: string;
}

/**
 * Serve an app (a folder or config file in any format `switchboard dev` reads, or a loaded
 * `App`) on an in-memory gateway, for a test: handlers run in this process, built as `dev`
 * builds them; nothing listens and nothing reaches AWS. The functions' environment is applied to
 * `process.env` before their modules load, as in `switchboard dev`.
 *
 * @example
 * ```ts
 * const t = await testApp("examples/chat");
 * const alice = await t.connect({ query: { user: "alice", room: "lobby" } });
 * await alice.send({ action: "send", text: "hi" });
 * expect((await alice.next()).json()).toMatchObject({ text: "hi" });
 * await t.close();
 * ```
 */
export async function testApp<Row extends ConnectionRecord = DeclaredRow, Message = unknown>(
  target: string | App,
  options: TestAppOptions = {},
): Promise<TestGateway<Row, Message>> {
  const resolved = typeof target === "string" ? path.resolve(target) : target.root;
  // The build cache sits in the app's folder, as `switchboard dev` keeps it.
  const dir =
    existsSync(resolved) && statSync(resolved).isFile() ? path.dirname(resolved) : resolved;
  const loader = new ModuleLoader({ cacheDir: path.join(dir, ".switchboard", "modules") });
  const app =
    typeof target === "string"
      ? await loadApp(target, {
          loader,
          ...(options.stage ? { stage: options.stage } : {}),
          beforeImport: (environment) => Object.assign(process.env, environment),
        })
      : target;
  const invoker = new InProcessInvoker(loader, { region: options.region ?? "us-east-1" });
  return new TestGateway<Row, Message>(app, invoker, {
    ...options,
    onClose: () => loader.dispose(),
  });
}

/** A function given to {@link testRoutes}: a plain Lambda handler or a `websocketHandler`. */
// biome-ignore lint/suspicious/noExplicitAny: any Lambda handler shape (event, context, callback)
export type TestFunction = (...args: any[]) => unknown;

/** One route of {@link testRoutes}: its function, or the function with route settings. */
export type TestRoute =
  | TestFunction
  | {
      handler: TestFunction;
      /** Two-way route: the result is sent back (default false). */
      routeResponse?: boolean;
      /** Body schema the gateway validates before the handler runs. */
      body?: StandardSchemaV1;
      /** Integration timeout in ms (default 29 s). */
      timeoutMs?: number;
    };

/** Options of {@link testRoutes}. */
export interface TestRoutesOptions extends Omit<TestGatewayOptions, "onClose"> {
  /** The app name (function names are `<name>-<stage>-<route>`); default `test`. */
  name?: string;
  stage?: string;
  /** Default `$request.body.action`. */
  routeSelectionExpression?: string;
  /** A REQUEST authorizer, run on `$connect` (as on AWS). */
  authorizer?: { handler: TestFunction; identitySource?: string[] };
  /** Connection table: TTL in seconds (default none) and the fields `query` may use. */
  connections?: { ttlSeconds?: number; indexes?: string[] };
  environment?: Record<string, string>;
  limits?: Partial<Limits>;
}

/** Where the functions given in code "live": the loader below serves them, nothing is built. */
const IN_MEMORY = "switchboard-test:";

/**
 * Serve handlers given in code, by route key, on an in-memory gateway: the same gateway,
 * invoker, schemas and ordering as {@link testApp}, without a config file.
 *
 * @example
 * ```ts
 * const t = await testRoutes({ echo: { handler: echo, routeResponse: true } });
 * const c = await t.connect();
 * const { response } = await c.send({ action: "echo", text: "hi" });
 * ```
 */
export async function testRoutes<Row extends ConnectionRecord = DeclaredRow, Message = unknown>(
  routes: Record<string, TestRoute>,
  options: TestRoutesOptions = {},
): Promise<TestGateway<Row, Message>> {
  const functions = new Map<string, TestFunction>();
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const target = (name: string, fn: TestFunction) => {
    const file = `${IN_MEMORY}${name}`;
    functions.set(file, fn);
    return { file, export: "handler" };
  };
  const appRoutes: Route[] = Object.entries(routes).map(([key, route]) => {
    const spec = typeof route === "function" ? { handler: route } : route;
    return {
      key,
      target: target(key, spec.handler),
      routeResponse: key !== CONNECT && spec.routeResponse === true,
      ...(spec.body ? { body: { kind: "schema" as const, schema: spec.body } } : {}),
      timeoutMs: spec.timeoutMs ?? limits.timeoutMs,
      memoryMb: DEFAULT_MEMORY_MB,
      environment: {},
    };
  });
  const authorizer: Authorizer | undefined = options.authorizer
    ? {
        name: "authorizer",
        target: target("$authorizer", options.authorizer.handler),
        identitySource: options.authorizer.identitySource ?? [],
      }
    : undefined;
  const app: App = {
    name: options.name ?? "test",
    stage: options.stage ?? DEFAULT_STAGE,
    root: process.cwd(),
    source: { file: "testRoutes()", format: "object" },
    routeSelectionExpression:
      options.routeSelectionExpression ?? DEFAULT_ROUTE_SELECTION_EXPRESSION,
    routes: appRoutes,
    ...(authorizer ? { authorizer } : {}),
    connections: {
      ttlSeconds: options.connections?.ttlSeconds ?? 0,
      indexes: options.connections?.indexes ?? [],
    },
    environment: options.environment ?? {},
    limits,
  };
  checkTestApp(app);
  const loader = {
    load: async (file: string): Promise<LoadedModule> => {
      const fn = functions.get(file);
      if (!fn) throw new Error(`${file}: no such test function`);
      return { file, exports: { handler: fn }, inputs: [], format: "esm" };
    },
  };
  const invoker = new InProcessInvoker(loader, { region: options.region ?? "us-east-1" });
  return new TestGateway<Row, Message>(app, invoker, options);
}

/**
 * Serve one handler on one route (default `$default`), for a unit test of that handler.
 *
 * @example
 * ```ts
 * const t = await testHandler(send, { route: "send" });
 * ```
 */
export function testHandler<Row extends ConnectionRecord = DeclaredRow, Message = unknown>(
  handler: TestFunction,
  options: TestRoutesOptions & {
    route?: string;
    routeResponse?: boolean;
    body?: StandardSchemaV1;
  } = {},
): Promise<TestGateway<Row, Message>> {
  const { route = "$default", routeResponse, body, ...rest } = options;
  return testRoutes<Row, Message>(
    {
      [route]: {
        handler,
        ...(routeResponse !== undefined ? { routeResponse } : {}),
        ...(body ? { body } : {}),
      },
    },
    rest,
  );
}
