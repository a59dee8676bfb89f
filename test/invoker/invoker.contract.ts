import path from "node:path";
import { expect, it } from "vitest";
import type { FunctionRoute } from "../../src/app/model.js";
import type { FunctionSpec, InvokeOutcome, Invoker } from "../../src/invoker/invoker.js";
import type { RuntimeBindings } from "../../src/runtime/bindings.js";
import { MemoryConnectionStore } from "../../src/runtime/connection-store.js";
import { GoneError } from "../../src/runtime/management.js";
import { FIXTURES } from "../helpers/server.js";

/** Makes a fresh invoker; the contract disposes it when its test ends. */
export type MakeInvoker = () => Promise<Invoker>;

const HANDLERS = path.join(FIXTURES, "invoker", "handlers.mjs");

/**
 * A function of the contract fixture. The name carries a per-test suffix: invokers may keep
 * warm state per function name, and each test starts from none.
 */
function spec(exportName: string, over: Partial<FunctionSpec> = {}): FunctionSpec {
  return {
    target: { file: HANDLERS, export: exportName },
    functionName: `contract-${exportName}`,
    timeoutMs: 3000,
    memoryMb: 256,
    environment: {},
    ...over,
  };
}

function route(key: string, over: Partial<FunctionRoute> = {}): FunctionRoute {
  return {
    key,
    target: { file: HANDLERS, export: "promised" },
    routeResponse: true,
    timeoutMs: 3000,
    memoryMb: 128,
    environment: {},
    ...over,
  };
}

/**
 * Bindings with no connections behind them: the contract's functions never call management
 * (that the gateway's bindings reach handlers is the gateway's and the invokers' e2e tests').
 */
const bindings: RuntimeBindings = {
  management: {
    send: async (id) => Promise.reject(new GoneError(id)),
    disconnect: async (id) => Promise.reject(new GoneError(id)),
    info: async (id) => Promise.reject(new GoneError(id)),
  },
  connections: new MemoryConnectionStore({ ttlSeconds: 0, indexes: [], now: Date.now }),
};

function ok(outcome: InvokeOutcome): unknown {
  if (outcome.kind !== "ok") {
    const detail = outcome.kind === "error" ? String(outcome.error) : "timeout";
    throw new Error(`expected kind "ok", got "${outcome.kind}" (${detail})`);
  }
  return outcome.result;
}

function failure(outcome: InvokeOutcome): Error {
  if (outcome.kind !== "error") throw new Error(`expected kind "error", got "${outcome.kind}"`);
  return outcome.error as Error;
}

/**
 * The behaviour every {@link Invoker} shares (in-process, worker threads, ...): how handlers
 * are called and answered, what they see, and how failures and timeouts come back. An outcome
 * never rejects: the gateway turns each into a frame or a status.
 */
export function invokerContract(make: MakeInvoker): void {
  const withInvoker = (run: (invoker: Invoker) => Promise<void>) => async () => {
    const invoker = await make();
    try {
      await run(invoker);
    } finally {
      await invoker.dispose?.();
    }
  };

  it(
    "answers a promise handler with its result, and gives it the Lambda context",
    withInvoker(async (invoker) => {
      const event = { requestContext: { routeKey: "r" }, body: '{"a":1}' };
      const fn = spec("promised", { functionName: "contract-ctx", memoryMb: 512, timeoutMs: 2000 });
      const started = Date.now();
      const outcome = await invoker.invoke(fn, event, bindings, "req-ctx-1");
      const result = ok(outcome) as Record<string, unknown>;
      expect(result).toMatchObject({
        event,
        functionName: "contract-ctx",
        memoryLimitInMB: "512",
        awsRequestId: "req-ctx-1",
        envFunctionName: "contract-ctx",
        envMemory: "512",
      });
      // Counts down from the function's own timeout, never from more.
      const remaining = result.remaining as number;
      expect(remaining).toBeLessThanOrEqual(2000);
      expect(remaining).toBeGreaterThan(2000 - (Date.now() - started) - 50);
      expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
    }),
  );

  it(
    "answers a callback handler (three parameters) with what it passed the callback",
    withInvoker(async (invoker) => {
      const outcome = await invoker.invoke(spec("callback"), { n: 1 }, bindings, "req-cb");
      expect(ok(outcome)).toEqual({ via: "callback", event: { n: 1 }, awsRequestId: "req-cb" });
      const plain = await invoker.invoke(spec("plain"), { n: 2 }, bindings, "req-plain");
      expect(ok(plain)).toEqual({ plain: true, n: 2 });
    }),
  );

  it(
    "passes results through as the handler returned them",
    withInvoker(async (invoker) => {
      const results: unknown[] = [
        { statusCode: 200, body: "hi", headers: { "x-a": "b" } },
        "a plain string",
        42,
        null,
        [1, { nested: [true, "x"] }],
        undefined,
      ];
      for (const [i, give] of results.entries()) {
        const outcome = await invoker.invoke(spec("passthrough"), { give }, bindings, `p${i}`);
        expect(ok(outcome)).toEqual(give);
      }
    }),
  );

  it(
    'gives kind "error" with the error for a throw, a rejection and a callback error',
    withInvoker(async (invoker) => {
      const thrown = failure(await invoker.invoke(spec("throws"), {}, bindings, "e1"));
      expect(thrown.message).toBe("thrown synchronously");
      expect(thrown.name).toBe("TypeError");
      const rejected = failure(await invoker.invoke(spec("rejects"), {}, bindings, "e2"));
      expect(rejected.message).toBe("rejected");
      expect(rejected.name).toBe("RangeError");
      const viaCallback = failure(await invoker.invoke(spec("callbackError"), {}, bindings, "e3"));
      expect(viaCallback.message).toBe("callback failed");
      // A missing export is an error outcome too, never a rejection.
      const missing = await invoker.invoke(spec("noSuchExport"), {}, bindings, "e4");
      expect(missing.kind).toBe("error");
      // And the function still answers afterwards.
      expect(ok(await invoker.invoke(spec("plain"), { n: 3 }, bindings, "e5"))).toEqual({
        plain: true,
        n: 3,
      });
    }),
  );

  it(
    'gives kind "timeout" at the function\'s timeout, and keeps serving other and later calls',
    withInvoker(async (invoker) => {
      // Warm first (one function name, the same module): the timing below is the timeout's alone,
      // not a sandbox's cold start.
      const warm = spec("plain", { functionName: "contract-timeout" });
      expect(ok(await invoker.invoke(warm, { n: 0 }, bindings, "t0"))).toEqual({
        plain: true,
        n: 0,
      });
      const started = Date.now();
      const hung = invoker.invoke(
        spec("hangs", { functionName: "contract-timeout", timeoutMs: 300 }),
        {},
        bindings,
        "t1",
      );
      // Another function runs to completion meanwhile.
      const meanwhile = await invoker.invoke(spec("plain"), { n: 4 }, bindings, "t2");
      expect(ok(meanwhile)).toEqual({ plain: true, n: 4 });
      const outcome = await hung;
      const elapsed = Date.now() - started;
      expect(outcome.kind).toBe("timeout");
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(1100); // the function's 0.3 s, not a backstop 1 s later
      expect(outcome.durationMs).toBeGreaterThanOrEqual(290);
      // The same function is invoked again afterwards (a Lambda starts a new sandbox).
      const again = await invoker.invoke(spec("hangs", { timeoutMs: 200 }), {}, bindings, "t3");
      expect(again.kind).toBe("timeout");
      const other = await invoker.invoke(spec("plain"), { n: 5 }, bindings, "t4");
      expect(ok(other)).toEqual({ plain: true, n: 5 });
    }),
  );

  it(
    "answers through invokeThen as through invoke: once, never a rejection, ok, error and timeout",
    withInvoker(async (invoker) => {
      const { invokeThen } = invoker;
      if (!invokeThen) return; // optional: the gateway falls back to invoke()
      const via = (fn: FunctionSpec, event: unknown, requestId: string) =>
        new Promise<InvokeOutcome[]>((resolve) => {
          const outcomes: InvokeOutcome[] = [];
          invokeThen.call(invoker, fn, event, bindings, requestId, (outcome) => {
            outcomes.push(outcome);
            // Called once: anything after the first would land here within the wait.
            setTimeout(() => resolve(outcomes), 50);
          });
        });
      const [promised, ...more] = await via(spec("promised"), { requestContext: {} }, "it-1");
      expect(more).toEqual([]);
      expect(ok(promised as InvokeOutcome)).toMatchObject({ awsRequestId: "it-1" });
      const [viaCallback] = await via(spec("callback"), { n: 7 }, "it-2");
      expect(ok(viaCallback as InvokeOutcome)).toEqual({
        via: "callback",
        event: { n: 7 },
        awsRequestId: "it-2",
      });
      const [thrown] = await via(spec("throws"), {}, "it-3");
      expect(failure(thrown as InvokeOutcome).message).toBe("thrown synchronously");
      const [missing] = await via(spec("noSuchExport"), {}, "it-4");
      expect(missing?.kind).toBe("error");
      const [hung, ...again] = await via(spec("hangs", { timeoutMs: 200 }), {}, "it-5");
      expect(hung?.kind).toBe("timeout");
      expect(again).toEqual([]);
    }),
  );

  it(
    "applies each function's own environment, whichever function ran before",
    withInvoker(async (invoker) => {
      const a = spec("environment", {
        functionName: "contract-env-a",
        environment: { CONTRACT_SHARED: "from-a", CONTRACT_OWN: "a-only" },
      });
      const b = spec("environment", {
        functionName: "contract-env-b",
        environment: { CONTRACT_SHARED: "from-b" },
      });
      expect(ok(await invoker.invoke(a, {}, bindings, "v1"))).toEqual({
        CONTRACT_SHARED: "from-a",
        CONTRACT_OWN: "a-only",
      });
      expect(ok(await invoker.invoke(b, {}, bindings, "v2"))).toMatchObject({
        CONTRACT_SHARED: "from-b",
      });
      expect(ok(await invoker.invoke(a, {}, bindings, "v3"))).toEqual({
        CONTRACT_SHARED: "from-a",
        CONTRACT_OWN: "a-only",
      });
    }),
  );

  it(
    "finds a route's body schema: from the config, from a file#export, from the handler",
    withInvoker(async (invoker) => {
      const inline = {
        "~standard": {
          version: 1 as const,
          vendor: "inline",
          validate: (v: unknown) => ({ value: v }),
        },
      };
      expect(
        await invoker.bodySchema(route("a", { body: { kind: "schema", schema: inline } })),
      ).toBe(inline);
      const byRef = await invoker.bodySchema(
        route("b", { body: { kind: "ref", file: HANDLERS, export: "bodySchema" } }),
      );
      expect(byRef?.["~standard"].vendor).toBe("contract");
      expect(await byRef?.["~standard"].validate({ n: 1 })).toEqual({ value: { n: 1 } });
      const carried = await invoker.bodySchema(
        route("c", { target: { file: HANDLERS, export: "typed" } }),
      );
      expect(carried?.["~standard"].vendor).toBe("contract");
      expect(await invoker.bodySchema(route("d"))).toBeUndefined();
    }),
  );
}
