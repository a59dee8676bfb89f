// The worker-thread side of the isolated invoker: one function's "Lambda sandbox".
import { parentPort, workerData } from "node:worker_threads";
import { ModuleLoader } from "../app/module-loader.js";
import type { RuntimeBindings } from "../runtime/bindings.js";
import type { ConnectionInfo, SendManyResult } from "../runtime/management.js";
import { GoneError } from "../runtime/management.js";
import { unhandledRejectionError } from "./fault-containment.js";
import { forwardHandlerOutput, type HandlerOutput } from "./handler-output.js";
import { InProcessInvoker } from "./in-process.js";
import { addInterceptions, type InterceptRule } from "./interception.js";
import {
  type BindingOp,
  type FromWorker,
  type SerializedError,
  serializeError,
  type ToWorker,
} from "./isolated-protocol.js";
import { showWarningsOnce, silenceSdkVersionNotice } from "./warn-once.js";

const port = parentPort;
if (!port) throw new Error("isolated-worker must run in a worker thread");
const { cacheDir, region, interceptions } = workerData as {
  cacheDir: string;
  region: string;
  interceptions?: InterceptRule[];
};
// As Lambda's Node.js runtime: an unhandled rejection ends the sandbox, reported with its own
// error type (the thread's `error` event fails the running invocation; the thread is replaced).
process.on("unhandledRejection", (reason) => {
  throw unhandledRejectionError(reason);
});
showWarningsOnce();
silenceSdkVersionNotice();
// Before any handler loads: the function's calls to its API's and DynamoDB's hosts go local.
if (interceptions?.length) addInterceptions(interceptions);
// The gateway's own timer decides timeouts (it terminates this worker); this one is a backstop.
const invoker = new InProcessInvoker(new ModuleLoader({ cacheDir }), {
  region,
  timeoutGraceMs: 1000,
});
// What the running handler prints goes to the gateway's log, tagged (one invocation at a time
// per worker; output after it ended, from a timer left running, is printed as before).
let running: Omit<HandlerOutput, "method" | "text"> | undefined;
forwardHandlerOutput(
  () => running,
  (output) => port.postMessage({ type: "output", output } satisfies FromWorker),
);
const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
let nextCall = 0;

function call<T>(op: BindingOp, ...args: unknown[]): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const callId = ++nextCall;
    calls.set(callId, { resolve: resolve as (v: unknown) => void, reject });
    port?.postMessage({ type: "call", callId, op, args } satisfies FromWorker);
  });
}

/** An error from the gateway, rebuilt: `GoneError` for a 410, else an Error of that name. */
function rebuildError(error: SerializedError): Error {
  if (error.name === "GoneException") {
    return new GoneError(/Connection (\S+) is gone/.exec(error.message)?.[1] ?? "");
  }
  return Object.assign(new Error(error.message), { name: error.name });
}

const bindings: RuntimeBindings = {
  management: {
    send: (id, data) => call("send", id, data),
    sendMany: async (ids, data) => {
      const raw = await call<
        Omit<SendManyResult, "failed"> & {
          failed: Array<{ connectionId: string; error: SerializedError }>;
        }
      >("sendMany", ids, data);
      return {
        sent: raw.sent,
        gone: raw.gone,
        failed: raw.failed.map((f) => ({
          connectionId: f.connectionId,
          error: rebuildError(f.error),
        })),
      };
    },
    disconnect: (id) => call("disconnect", id),
    info: async (id) => {
      const raw = await call<{
        connectedAt: Date;
        lastActiveAt: Date;
        identity: ConnectionInfo["identity"];
      }>("info", id);
      return {
        connectedAt: new Date(raw.connectedAt),
        lastActiveAt: new Date(raw.lastActiveAt),
        identity: raw.identity,
      };
    },
  },
  connections: {
    put: (record) => call("put", record),
    get: (id) => call("get", id),
    delete: (id) => call("delete", id),
    query: (field, value) => call("query", field, value),
    list: () => call("list"),
  },
};

port.on("message", (message: ToWorker) => {
  if (message.type === "reply") {
    const pending = calls.get(message.callId);
    if (!pending) return;
    calls.delete(message.callId);
    if (message.ok) pending.resolve(message.value);
    else pending.reject(rebuildError(message.error));
    return;
  }
  const { id, spec, event, requestId, body } = message;
  const connectionId = (event as { requestContext?: { connectionId?: unknown } } | undefined)
    ?.requestContext?.connectionId;
  running = {
    functionName: spec.functionName,
    requestId,
    ...(typeof connectionId === "string" ? { connectionId } : {}),
  };
  void invoker
    .invoke(spec, event, body ? { ...bindings, body } : bindings, requestId)
    .then((outcome) => {
      running = undefined;
      const serialized =
        outcome.kind === "error" ? { ...outcome, error: serializeError(outcome.error) } : outcome;
      try {
        port.postMessage({ type: "result", id, outcome: serialized } satisfies FromWorker);
      } catch (error) {
        // A result that cannot cross threads (functions, sockets): Lambda could not serialize it either.
        port.postMessage({
          type: "result",
          id,
          outcome: { kind: "error", error: serializeError(error), durationMs: outcome.durationMs },
        } satisfies FromWorker);
      }
    });
});
