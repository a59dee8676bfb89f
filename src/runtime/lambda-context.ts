import type { LambdaContext } from "./events.js";

export interface LambdaContextOptions {
  functionName: string;
  memoryMb: number;
  timeoutMs: number;
  requestId: string;
  region: string;
  accountId?: string;
}

/** A Lambda-like `context` for an invocation; `getRemainingTimeInMillis` counts down from now. */
export function createLambdaContext(
  options: LambdaContextOptions,
  settle?: (error: unknown, result?: unknown) => void,
): LambdaContext {
  const deadline = Date.now() + options.timeoutMs;
  const account = options.accountId ?? "000000000000";
  const done = (error?: unknown, result?: unknown) => settle?.(error ?? undefined, result);
  return {
    functionName: options.functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${options.region}:${account}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryMb),
    awsRequestId: options.requestId,
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: "switchboard/[$LATEST]local",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done,
    fail: (error: unknown) => done(error),
    succeed: (result: unknown) => done(undefined, result),
  };
}
