import path from "node:path";
import { describeValue } from "../describe-value.js";
import { unknownKey } from "../did-you-mean.js";
import { resolveModuleFile } from "../handler-ref.js";
import type { DocumentPath } from "../issue-location.js";
import type { LoadAppOptions } from "../load-options.js";
import {
  type App,
  CONNECT,
  DEFAULT_ROUTE_SELECTION_EXPRESSION,
  DEFAULT_STAGE,
  DISCONNECT,
} from "../model.js";
import {
  type AppDraft,
  finishApp,
  isRecord,
  type RouteDraft,
  readEnvironment,
  readMemory,
  readTimeout,
} from "./app-draft.js";
import { CLOUDFORMATION_TAGS } from "./cloudformation-intrinsics.js";
import { parseSource, type SourceIssues } from "./source-issues.js";

/** Used when a function gives no `Memory` / `Timeout`. */
const DEFAULT_MEMORY_MB = 256;
const DEFAULT_TIMEOUT_SECONDS = 30;
/** The class LambdaSharp functions define (`public class Function : ALambdaApiGatewayFunction`). */
const FUNCTION_EXPORT = "Function";
/** Where a function's code is looked for inside its folder, in order. */
const MODULE_NAMES = ["Function", "index"];
const SOURCE_KEYS = ["WebSocket", "Invoke", "OperationName", "ApiKeyRequired", "AuthorizationType"];

/**
 * Read a LambdaSharp-style module (`Module.yml`): every `- Function:` item (also inside
 * `- Namespace:` items) with `Memory`, `Timeout`, `Environment` and `Sources: - WebSocket:`
 * routes. A function's code lives in a folder named after it, next to the module file:
 * `<Function>/Function.ts` (or `.js`, `.mjs`, or `index.*`); `Project:` names another folder.
 * A source with `Invoke: <Method>` calls that method on the exported `Function` class
 * (instantiated once; `initialize()` awaited first), and whatever the method returns is sent
 * back; a source without `Invoke` calls the module's `handler` export.
 *
 * @example
 * ```ts
 * const app = await loadLambdaSharp("/app/Module.yml", text, { loader });
 * ```
 */
export async function loadLambdaSharp(
  file: string,
  text: string,
  options: LoadAppOptions,
): Promise<App> {
  const { value: module, issues } = parseSource(file, text, CLOUDFORMATION_TAGS);
  if (!isRecord(module)) {
    issues.add([], "a LambdaSharp module (Module, Items)", describeValue(module));
    issues.throwIfAny();
  }
  const { Module: name, Items: items } = module as Record<string, unknown>;
  if (typeof name !== "string" || name === "")
    issues.add(["Module"], "a module name (Owner.Name)", describeValue(name));
  const root = path.dirname(issues.file);
  const routes: RouteDraft[] = [];
  readItems(items, ["Items"], { issues, root, routes });
  const draft: AppDraft = {
    name: typeof name === "string" && name ? name : "module",
    stage: DEFAULT_STAGE,
    routeSelectionExpression: DEFAULT_ROUTE_SELECTION_EXPRESSION,
    routes,
    routesAt: ["Items"],
    environment: {},
  };
  return finishApp(draft, { issues, format: "lambdasharp", options });
}

interface ReadContext {
  issues: SourceIssues;
  root: string;
  routes: RouteDraft[];
}

function readItems(items: unknown, at: DocumentPath, context: ReadContext): void {
  if (!Array.isArray(items)) {
    context.issues.add(
      at,
      "a list of items (- Function: ..., - Namespace: ...)",
      describeValue(items),
    );
    return;
  }
  items.forEach((item, index) => {
    const itemAt = [...at, index];
    if (!isRecord(item)) return;
    if (typeof item.Namespace === "string") readItems(item.Items, [...itemAt, "Items"], context);
    else if (item.Function !== undefined) readFunction(item, itemAt, context);
    // Parameters, variables, resources, imports, ...: nothing a local WebSocket run needs.
  });
}

function readFunction(item: Record<string, unknown>, at: DocumentPath, context: ReadContext): void {
  const { issues, root } = context;
  const name = item.Function;
  if (typeof name !== "string" || !/^[A-Za-z0-9]+$/.test(name)) {
    issues.add([...at, "Function"], "a function name of letters and digits", describeValue(name));
    return;
  }
  const sources = item.Sources;
  if (sources === undefined) return;
  if (!Array.isArray(sources)) {
    issues.add([...at, "Sources"], "a list of sources", describeValue(sources));
    return;
  }
  const webSockets = sources
    .map((source: unknown, index) => ({ source, index }))
    .filter(({ source }) => isRecord(source) && source.WebSocket !== undefined);
  if (webSockets.length === 0) return;

  const project = item.Project;
  if (project !== undefined && typeof project !== "string") {
    issues.add(
      [...at, "Project"],
      "a folder or module file with the function's code",
      describeValue(project),
    );
    return;
  }
  const folder = project ?? name;
  const file = moduleFile(root, folder);
  if (!file) {
    issues.add(
      project !== undefined ? [...at, "Project"] : [...at, "Function"],
      `the function's code in ${folder}/Function.{ts,js,mjs} or ${folder}/index.* (one folder per function)`,
      `no such file`,
    );
    return;
  }
  const relative = path.relative(root, file).split(path.sep).join("/");
  const timeoutMs = readTimeout(item.Timeout, [...at, "Timeout"], issues, DEFAULT_TIMEOUT_SECONDS);
  const memoryMb = readMemory(item.Memory, [...at, "Memory"], issues, DEFAULT_MEMORY_MB);
  const environment = readEnvironment(item.Environment, [...at, "Environment"], issues);
  const runtime = item.Runtime;
  if (runtime !== undefined && (typeof runtime !== "string" || !runtime.startsWith("nodejs"))) {
    issues.add([...at, "Runtime"], "a Node.js runtime (nodejs20.x, ...)", describeValue(runtime));
  }
  const withRuntime = typeof runtime === "string" ? { runtime } : {};
  for (const { source, index } of webSockets) {
    const sourceAt = [...at, "Sources", index];
    const ws = source as Record<string, unknown>;
    for (const key of Object.keys(ws)) {
      if (!SOURCE_KEYS.includes(key)) {
        issues.add(
          [...sourceAt, key],
          `one of ${SOURCE_KEYS.join(", ")}`,
          unknownKey(key, SOURCE_KEYS, Object.keys(ws)),
        );
      }
    }
    if (ws.AuthorizationType !== undefined && ws.AuthorizationType !== "NONE") {
      issues.add(
        [...sourceAt, "AuthorizationType"],
        "NONE (authorizers are read from Switchboard, Serverless and CloudFormation configs, not modules yet)",
        describeValue(ws.AuthorizationType),
      );
    }
    const key = ws.WebSocket;
    if (typeof key !== "string") {
      issues.add(
        [...sourceAt, "WebSocket"],
        "a route key ($connect, $disconnect, $default or a custom key)",
        describeValue(key),
      );
      continue;
    }
    const invoke = ws.Invoke;
    if (invoke !== undefined && (typeof invoke !== "string" || invoke === "")) {
      issues.add([...sourceAt, "Invoke"], "a method name", describeValue(invoke));
      continue;
    }
    context.routes.push({
      key,
      at: [...sourceAt, "WebSocket"],
      declaredIn: `function ${name}`,
      handler:
        invoke === undefined
          ? { ref: `${relative}#handler`, at: [...sourceAt, "WebSocket"], ...withRuntime }
          : {
              ref: `${relative}#${FUNCTION_EXPORT}`,
              method: invoke,
              at: [...at, "Function"],
              methodAt: [...sourceAt, "Invoke"],
              ...withRuntime,
            },
      functionName: name,
      // A method's return value goes back to the client (LambdaSharp makes such routes two-way);
      // a method that returns nothing sends nothing.
      routeResponse: invoke !== undefined && key !== CONNECT && key !== DISCONNECT,
      timeoutMs,
      memoryMb,
      environment,
    });
  }
}

function moduleFile(root: string, folder: string): string | undefined {
  const direct = path.extname(folder) ? resolveModuleFile(root, folder) : undefined;
  if (direct) return direct;
  for (const name of MODULE_NAMES) {
    const file = resolveModuleFile(root, path.join(folder, name));
    if (file) return file;
  }
  return undefined;
}
