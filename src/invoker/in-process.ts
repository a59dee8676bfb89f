import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { HandlerTarget, Route } from "../app/model.js";
import { exportAt, importedAt } from "../app/module-exports.js";
import type { ModuleLoader } from "../app/module-loader.js";
import { BODY_SCHEMA, type RuntimeBindings } from "../runtime/bindings.js";
import { createLambdaContext } from "../runtime/lambda-context.js";
import { isStandardSchema } from "../runtime/schema.js";
import { methodHandler } from "../runtime/websocket-function.js";
import { Deadlines } from "./deadlines.js";
import { type InvocationScope, outsideScopes, runInScope } from "./fault-containment.js";
import type { FunctionSpec, InvokeOutcome, Invoker } from "./invoker.js";

type Callable = (
  event: unknown,
  context: unknown,
  callback?: (e?: unknown, r?: unknown) => void,
) => unknown;

/** The function whose environment process.env holds (each write to process.env is a call into C++). */
let envFunction: FunctionSpec | undefined;
function setFunctionEnv(fn: FunctionSpec): void {
  if (envFunction === fn) return;
  if (
    envFunction?.functionName === fn.functionName &&
    envFunction.memoryMb === fn.memoryMb &&
    envFunction.environment === fn.environment
  ) {
    return;
  }
  envFunction = fn;
  // The function's own variables as it starts: where two functions set one differently, each
  // sees its own value (until another function starts: in process, they share process.env).
  Object.assign(process.env, fn.environment);
  process.env.AWS_LAMBDA_FUNCTION_NAME = fn.functionName;
  process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE = String(fn.memoryMb);
}

/**
 * Runs handlers in this process: fastest, and hot-reloadable (the loader rebuilds changed
 * modules). A timeout abandons the invocation's promise; a synchronous infinite loop would
 * block the process, which is what the isolated invoker is for. Process-level faults a handler
 * leaves behind fail its own invocation while `containHandlerFaults()` is in force.
 */
export class InProcessInvoker implements Invoker {
  readonly #loader: Pick<ModuleLoader, "load">;
  readonly #region: string;
  readonly #callables = new Map<string, Promise<Callable>>();
  /** Callables already invoked once, by target: the hot path skips a promise hop. */
  readonly #loaded = new WeakMap<HandlerTarget, Callable>();
  readonly #deadlines = new Deadlines();
  readonly #graceMs: number;

  /**
   * @param options.timeoutGraceMs added to each function's timeout before this invoker gives up
   * on it, while the context still counts down from the timeout itself (the isolated worker uses
   * this: the gateway's timer must win the race).
   * @param loader builds handler modules (the test kit's loader serves functions it was given).
   */
  constructor(
    loader: Pick<ModuleLoader, "load">,
    options: { region?: string; timeoutGraceMs?: number } = {},
  ) {
    this.#loader = loader;
    this.#region = options.region ?? "us-east-1";
    this.#graceMs = options.timeoutGraceMs ?? 0;
  }

  /** Resolve (once) the function a target names. */
  resolve(target: HandlerTarget): Promise<Callable> {
    const key = `${target.file}#${target.export}.${target.method ?? ""}@${target.runtime ?? ""}`;
    let callable = this.#callables.get(key);
    if (!callable) {
      callable = this.#loader.load(target.file, { runtime: target.runtime }).then((mod) => {
        const exported = exportAt(mod, target.export);
        if (target.method) return methodHandler(exported, target.method) as Callable;
        if (typeof exported !== "function") {
          throw new TypeError(`${target.file}: export "${target.export}" is not a function`);
        }
        return exported as Callable;
      });
      this.#callables.set(key, callable);
      callable.catch(() => this.#callables.delete(key));
    }
    return callable;
  }

  async bodySchema(route: Route): Promise<StandardSchemaV1 | undefined> {
    if (route.body?.kind === "schema") return route.body.schema;
    if (route.body?.kind === "ref") {
      const mod = await this.#loader.load(route.body.file);
      const schema = importedAt(mod, route.body.export);
      return isStandardSchema(schema) ? schema : undefined;
    }
    // A route that runs no function (MOCK, HTTP, ...) has no handler to carry a schema.
    if (route.target === undefined) return undefined;
    const fn = (await this.resolve(route.target)) as Callable & {
      [BODY_SCHEMA]?: StandardSchemaV1;
    };
    return fn[BODY_SCHEMA];
  }

  invoke(
    fn: FunctionSpec,
    event: unknown,
    bindings: RuntimeBindings,
    requestId: string,
  ): Promise<InvokeOutcome> {
    return new Promise((resolve) => this.invokeThen(fn, event, bindings, requestId, resolve));
  }

  invokeThen(
    fn: FunctionSpec,
    event: unknown,
    bindings: RuntimeBindings,
    requestId: string,
    done: (outcome: InvokeOutcome) => void,
  ): void {
    const started = performance.now();
    const loaded = this.#loaded.get(fn.target);
    if (loaded) {
      this.#run(loaded, fn, event, bindings, requestId, started, done);
      return;
    }
    // Timers and promises a module's top level leaves behind are contained too (their faults
    // are logged: the invocation that loaded it cannot own them).
    const loading: InvocationScope = {
      functionName: fn.functionName,
      requestId,
      fail: () => false,
    };
    runInScope(loading, () => this.resolve(fn.target)).then(
      (callable) => {
        this.#loaded.set(fn.target, callable);
        this.#run(callable, fn, event, bindings, requestId, started, done);
      },
      (error: unknown) => done({ kind: "error", error, durationMs: performance.now() - started }),
    );
  }

  #run(
    callable: Callable,
    fn: FunctionSpec,
    event: unknown,
    bindings: RuntimeBindings,
    requestId: string,
    started: number,
    done: (outcome: InvokeOutcome) => void,
  ): void {
    // `done` may start the connection's next message at once, so it is called only from this
    // invoker's own code: after the handler returned, or from the handler's promise settling.
    // Settled from anywhere else (the handler's callback or `context.succeed`, whether called
    // before it returned or from one of its timers, a fault of its own, the deadline), the
    // outcome goes to `done` in a microtask of no invocation's scope.
    let settled = false;
    let calling = true;
    let early: InvokeOutcome | undefined;
    const settle = (outcome: InvokeOutcome, direct: boolean) => {
      if (settled) return;
      settled = true;
      deadline.cancel();
      if (calling) early = outcome;
      else if (direct) done(outcome);
      else outsideScopes(queueMicrotask, () => done(outcome));
    };
    const outcomeOf = (error: unknown, result?: unknown): InvokeOutcome =>
      error !== undefined && error !== null
        ? { kind: "error", error, durationMs: performance.now() - started }
        : { kind: "ok", result, durationMs: performance.now() - started };
    const finish = (error: unknown, result?: unknown) => settle(outcomeOf(error, result), false);
    const deadline = this.#deadlines.add(fn.timeoutMs + this.#graceMs, () =>
      settle({ kind: "timeout", durationMs: performance.now() - started }, false),
    );
    // As Lambda sets them. In-process functions share process.env: with invocations of
    // different functions interleaving, a read after an `await` may see another's name.
    setFunctionEnv(fn);
    const context = createLambdaContext(
      {
        functionName: fn.functionName,
        memoryMb: fn.memoryMb,
        timeoutMs: fn.timeoutMs,
        requestId,
        region: this.#region,
      },
      finish,
      bindings,
    );
    // What the handler leaves running (timers, promises, process.exit) fails this invocation
    // only: see fault-containment.ts.
    const connectionId = (event as { requestContext?: { connectionId?: unknown } } | undefined)
      ?.requestContext?.connectionId;
    const scope: InvocationScope = {
      functionName: fn.functionName,
      requestId,
      connectionId: typeof connectionId === "string" ? connectionId : undefined,
      fail: (error) => {
        if (settled) return false;
        finish(error);
        return true;
      },
    };
    try {
      const callbackStyle = callable.length >= 3;
      const returned = runInScope(scope, () =>
        callbackStyle ? callable(event, context, finish) : callable(event, context),
      );
      calling = false;
      if (returned && typeof (returned as Promise<unknown>).then === "function") {
        (returned as Promise<unknown>).then(
          (result) => settle(outcomeOf(undefined, result), true),
          (error: unknown) => settle(outcomeOf(error ?? new Error("handler rejected")), true),
        );
      } else if (!callbackStyle) {
        settle(outcomeOf(undefined, returned), true);
      }
    } catch (error) {
      calling = false;
      settle(outcomeOf(error ?? new Error("handler threw")), true);
    }
    if (early) done(early);
  }
}
