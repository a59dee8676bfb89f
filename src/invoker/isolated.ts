import { existsSync } from "node:fs";
import { mkdir, rename } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import * as esbuild from "esbuild";
import type { Route } from "../app/model.js";
import type { ModuleLoader } from "../app/module-loader.js";
import type { RuntimeBindings } from "../runtime/bindings.js";
import { Reject } from "../runtime/reject.js";
import { reportHandlerOutput } from "./handler-output.js";
import { InProcessInvoker } from "./in-process.js";
import type { InterceptRule } from "./interception.js";
import type { FunctionSpec, InvokeOutcome, Invoker } from "./invoker.js";
import type {
  FromWorker,
  SerializedError,
  SerializedOutcome,
  ToWorker,
} from "./isolated-protocol.js";
import { serializeError } from "./isolated-protocol.js";

export interface IsolatedInvokerOptions {
  /** Where handler bundles are written (inside the app, so packages resolve). */
  cacheDir: string;
  region?: string;
  /** Warm workers kept per function; more concurrent invocations wait (default 4). */
  maxWorkersPerFunction?: number;
  /** Environment under each function's own (AWS region, credentials, endpoints); read per worker. */
  environment?: () => Record<string, string>;
  /** Hosts redirected to local servers inside each worker (see `aws-interception.ts`). */
  interceptions?: () => readonly InterceptRule[];
}

interface Slot {
  worker: Worker;
  busy: boolean;
  /** Where its management and table calls go (also calls a handler left running after returning). */
  bindings?: RuntimeBindings;
  /** The invocation running in it. */
  current?: { id: number; done: (outcome: SerializedOutcome) => void };
}

/**
 * How long a retired invoker keeps its idle warm workers after its last invocation: messages
 * queued on its generation reach it a few microtasks (or one schema build) after the one ahead
 * of them, and should run on the warm workers, i.e. on the code they were selected with.
 */
const RETIRED_GRACE_MS = 1000;

const here = path.dirname(fileURLToPath(import.meta.url));
let workerEntry: Promise<string> | undefined;

/** The worker script: compiled next to this file, or bundled once from source (tests). */
function workerScript(): Promise<string> {
  workerEntry ??= (async () => {
    const compiled = path.join(here, "isolated-worker.js");
    if (existsSync(compiled)) return compiled;
    const outDir = path.join(here, "..", "..", ".switchboard");
    await mkdir(outDir, { recursive: true });
    const outfile = path.join(outDir, "isolated-worker.mjs");
    // Built aside and renamed: other processes (parallel test files) may be starting workers.
    const partial = path.join(outDir, `isolated-worker.${process.pid}.tmp.mjs`);
    await esbuild.build({
      entryPoints: [path.join(here, "isolated-worker.ts")],
      outfile: partial,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      logLevel: "silent",
      // The module loader finds this package's own files from its location: keep the source's.
      define: {
        "import.meta.url": JSON.stringify(
          pathToFileURL(path.join(here, "..", "app", "module-loader.ts")).href,
        ),
      },
    });
    await rename(partial, outfile);
    return outfile;
  })();
  return workerEntry;
}

function rebuildError(error: SerializedError): unknown {
  if (error.reject) return new Reject(error.reject.statusCode, error.reject.body);
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  if (error.stack) rebuilt.stack = error.stack;
  return rebuilt;
}

/**
 * Runs each function in worker threads, like Lambda sandboxes: its own environment
 * (`process.env` per worker), a heap limit from its memory size, warm reuse, and a hard
 * timeout that terminates the worker (a synchronous infinite loop cannot stall the gateway).
 * Management and connection-table calls are proxied to the gateway.
 */
export class IsolatedInvoker implements Invoker {
  readonly #options: Required<IsolatedInvokerOptions>;
  readonly #schemas: InProcessInvoker;
  readonly #pools = new Map<string, Slot[]>();
  readonly #waiting = new Map<string, Array<() => void>>();
  #nextId = 0;
  #disposed = false;
  #retiring = false;
  #inFlight = 0;
  /** Releases a retired invoker's workers once it has been idle for RETIRED_GRACE_MS. */
  #freeTimer: NodeJS.Timeout | undefined;

  constructor(schemaLoader: ModuleLoader, options: IsolatedInvokerOptions) {
    this.#options = {
      region: "us-east-1",
      maxWorkersPerFunction: 4,
      environment: () => ({}),
      interceptions: () => [],
      ...options,
    };
    // Schemas are objects with methods: they cannot cross threads, so validation stays here.
    this.#schemas = new InProcessInvoker(schemaLoader, { region: this.#options.region });
  }

  bodySchema(route: Route): Promise<StandardSchemaV1 | undefined> {
    return this.#schemas.bodySchema(route);
  }

  async invoke(
    spec: FunctionSpec,
    event: unknown,
    bindings: RuntimeBindings,
    requestId: string,
  ): Promise<InvokeOutcome> {
    this.#inFlight += 1;
    clearTimeout(this.#freeTimer);
    try {
      return await this.#invoke(spec, event, bindings, requestId);
    } finally {
      this.#inFlight -= 1;
      this.#freeIfRetired();
    }
  }

  invokeThen(
    spec: FunctionSpec,
    event: unknown,
    bindings: RuntimeBindings,
    requestId: string,
    done: (outcome: InvokeOutcome) => void,
  ): void {
    // A worker round trip costs far more than this promise.
    void this.invoke(spec, event, bindings, requestId).then(done);
  }

  /** Worker threads alive now (warm or busy), across functions. */
  get workers(): number {
    let count = 0;
    for (const pool of this.#pools.values()) count += pool.length;
    return count;
  }

  /**
   * A newer generation replaced this one (hot reload). Messages already queued on it still run
   * here, on the code they were selected with (its warm workers); its workers are released once
   * it has had no invocation for a second.
   */
  retire(): void {
    this.#retiring = true;
    this.#freeIfRetired();
  }

  #freeIfRetired(): void {
    if (!this.#retiring || this.#inFlight > 0) return;
    clearTimeout(this.#freeTimer);
    this.#freeTimer = setTimeout(() => {
      if (this.#inFlight > 0) return;
      const idle = [...this.#pools.values()].flat();
      this.#pools.clear();
      for (const slot of idle) void slot.worker.terminate();
    }, RETIRED_GRACE_MS);
    this.#freeTimer.unref();
  }

  async #invoke(
    spec: FunctionSpec,
    event: unknown,
    bindings: RuntimeBindings,
    requestId: string,
  ): Promise<InvokeOutcome> {
    const started = performance.now();
    let slot: Slot;
    try {
      slot = await this.#acquire(spec);
    } catch (error) {
      // Never reject: the gateway turns outcomes into frames and statuses.
      return { kind: "error", error, durationMs: performance.now() - started };
    }
    const id = ++this.#nextId;
    const outcome = await new Promise<SerializedOutcome>((resolve) => {
      const timer = setTimeout(() => {
        // Lambda ends the sandbox on timeout; so do we (the next call starts cold).
        this.#retire(spec.functionName, slot);
        resolve({ kind: "timeout", durationMs: performance.now() - started });
      }, spec.timeoutMs);
      slot.bindings = bindings;
      slot.current = {
        id,
        done: (result) => {
          clearTimeout(timer);
          resolve(result);
        },
      };
      const message: ToWorker = {
        type: "invoke",
        id,
        // The worker's own timer runs late (timeoutGraceMs): the gateway's decides.
        spec,
        event,
        requestId,
        ...(bindings.body ? { body: bindings.body } : {}),
      };
      try {
        slot.worker.postMessage(message);
      } catch (error) {
        clearTimeout(timer);
        resolve({ kind: "error", error: serializeError(error), durationMs: 0 });
      }
    });
    slot.current = undefined;
    this.#release(spec.functionName, slot);
    return outcome.kind === "error" ? { ...outcome, error: rebuildError(outcome.error) } : outcome;
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    clearTimeout(this.#freeTimer);
    const all = [...this.#pools.values()].flat();
    this.#pools.clear();
    await Promise.all(all.map((slot) => slot.worker.terminate()));
  }

  async #acquire(spec: FunctionSpec): Promise<Slot> {
    for (;;) {
      const pool = this.#pools.get(spec.functionName) ?? [];
      this.#pools.set(spec.functionName, pool);
      const idle = pool.find((slot) => !slot.busy);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (pool.length < this.#options.maxWorkersPerFunction) {
        const script = await workerScript();
        // Calls made while the script was awaited may have filled the pool: look again.
        if (pool.length >= this.#options.maxWorkersPerFunction || pool.some((s) => !s.busy)) {
          continue;
        }
        const slot = this.#spawn(spec, script);
        slot.busy = true;
        pool.push(slot);
        return slot;
      }
      await new Promise<void>((resolve) => {
        const queue = this.#waiting.get(spec.functionName) ?? [];
        queue.push(resolve);
        this.#waiting.set(spec.functionName, queue);
      });
    }
  }

  #release(functionName: string, slot: Slot): void {
    slot.busy = false;
    this.#waiting.get(functionName)?.shift()?.();
  }

  #retire(functionName: string, slot: Slot): void {
    const pool = this.#pools.get(functionName) ?? [];
    const index = pool.indexOf(slot);
    if (index >= 0) pool.splice(index, 1);
    void slot.worker.terminate();
    this.#waiting.get(functionName)?.shift()?.();
  }

  #spawn(spec: FunctionSpec, script: string): Slot {
    if (this.#disposed) throw new Error("invoker disposed");
    const worker = new Worker(script, {
      workerData: {
        cacheDir: this.#options.cacheDir,
        region: this.#options.region,
        interceptions: this.#options.interceptions(),
      },
      env: {
        ...process.env,
        ...this.#options.environment(),
        ...spec.environment,
        AWS_REGION: process.env.AWS_REGION ?? this.#options.region,
        AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      },
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, spec.memoryMb) },
    });
    worker.unref();
    const slot: Slot = { worker, busy: false };
    worker.on("message", (message: FromWorker) => this.#onMessage(slot, message));
    const fail = (error: unknown) => {
      slot.current?.done({ kind: "error", error: serializeError(error), durationMs: 0 });
      this.#retire(spec.functionName, slot);
    };
    worker.on("error", fail);
    worker.on("exit", (code) => {
      if (slot.current) {
        const exited = new Error(`Runtime exited with error: exit status ${code}`);
        exited.name = "Runtime.ExitError"; // Lambda's type for a function that ends its process
        fail(exited);
      }
      // Exited while idle: never hand it another call (it would wait for the timeout).
      else this.#retire(spec.functionName, slot);
    });
    return slot;
  }

  #onMessage(slot: Slot, message: FromWorker): void {
    const current = slot.current;
    if (message.type === "result") {
      if (current && current.id === message.id) current.done(message.outcome);
      return;
    }
    if (message.type === "output") {
      reportHandlerOutput(message.output);
      return;
    }
    const reply = (value: Promise<unknown>) =>
      value.then(
        (v) =>
          slot.worker.postMessage({
            type: "reply",
            callId: message.callId,
            ok: true,
            value: v,
          } satisfies ToWorker),
        (error: unknown) =>
          slot.worker.postMessage({
            type: "reply",
            callId: message.callId,
            ok: false,
            error: serializeError(error),
          } satisfies ToWorker),
      );
    if (!slot.bindings) return;
    const { management, connections } = slot.bindings;
    const [a, b] = message.args as [never, never];
    switch (message.op) {
      case "send":
        void reply(management.send(a, b));
        break;
      case "sendMany":
        // The gateway's management always has sendMany. Errors cross the thread as data
        // (structured clone keeps no class).
        void reply(
          (
            management.sendMany?.(a, b) ??
            Promise.reject(new Error("this management API has no sendMany"))
          ).then((result) => ({
            ...result,
            failed: result.failed.map((f) => ({
              connectionId: f.connectionId,
              error: serializeError(f.error),
            })),
          })),
        );
        break;
      case "disconnect":
        void reply(management.disconnect(a));
        break;
      case "info":
        void reply(management.info(a));
        break;
      case "put":
        void reply(connections.put(a));
        break;
      case "get":
        void reply(connections.get(a));
        break;
      case "delete":
        void reply(connections.delete(a));
        break;
      case "query":
        void reply(connections.query(a, b));
        break;
      case "list":
        void reply(connections.list());
        break;
    }
  }
}
