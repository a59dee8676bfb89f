import { RUNTIME_BINDINGS, type RuntimeBindings } from "./bindings.js";
import type { LambdaContext } from "./events.js";

export interface LambdaContextOptions {
  functionName: string;
  memoryMb: number;
  timeoutMs: number;
  requestId: string;
  region: string;
  accountId?: string;
}

/**
 * One invocation's context. The gateway's bindings live in a private field behind a symbol
 * getter on the prototype: invisible to handlers that log or spread the context, and no
 * `defineProperty` per invocation (the dev gateway builds one of these per message).
 */
class InvocationContext implements LambdaContext {
  // Own properties in the order Lambda's Node.js runtime gives them.
  readonly functionName: string;
  readonly functionVersion = "$LATEST";
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName = "switchboard/[$LATEST]local";
  callbackWaitsForEmptyEventLoop = true;
  // Own functions rather than methods: handlers may detach them (`const { done } = context`).
  readonly getRemainingTimeInMillis: () => number;
  readonly done: (error?: unknown, result?: unknown) => void;
  readonly fail: (error: unknown) => void;
  readonly succeed: (result: unknown) => void;
  readonly #bindings: RuntimeBindings | undefined;

  constructor(
    options: LambdaContextOptions,
    settle: ((error: unknown, result?: unknown) => void) | undefined,
    bindings: RuntimeBindings | undefined,
  ) {
    const deadline = Date.now() + options.timeoutMs;
    const done = (error?: unknown, result?: unknown) => settle?.(error ?? undefined, result);
    this.functionName = options.functionName;
    this.invokedFunctionArn = `arn:aws:lambda:${options.region}:${options.accountId ?? "000000000000"}:function:${options.functionName}`;
    this.memoryLimitInMB = String(options.memoryMb);
    this.awsRequestId = options.requestId;
    this.logGroupName = `/aws/lambda/${options.functionName}`;
    this.getRemainingTimeInMillis = () => Math.max(0, deadline - Date.now());
    this.done = done;
    this.fail = (error: unknown) => done(error);
    this.succeed = (result: unknown) => done(undefined, result);
    this.#bindings = bindings;
  }

  get [RUNTIME_BINDINGS](): RuntimeBindings | undefined {
    return this.#bindings;
  }
}

/**
 * A Lambda-like `context` for an invocation; `getRemainingTimeInMillis` counts down from now.
 * `settle` receives `done`/`fail`/`succeed`; `bindings` are what a Switchboard gateway hands the
 * typed API (read back with `getRuntimeBindings`).
 */
export function createLambdaContext(
  options: LambdaContextOptions,
  settle?: (error: unknown, result?: unknown) => void,
  bindings?: RuntimeBindings,
): LambdaContext {
  return new InvocationContext(options, settle, bindings);
}
