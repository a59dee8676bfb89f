import { describe, expect, it } from "vitest";
import { getRuntimeBindings } from "../../src/runtime/bindings.js";
import { MemoryConnectionStore } from "../../src/runtime/connection-store.js";
import { createLambdaContext } from "../../src/runtime/lambda-context.js";
import type { Management } from "../../src/runtime/management.js";

const options = {
  functionName: "chat-dev-send",
  memoryMb: 512,
  timeoutMs: 3000,
  requestId: "req-1",
  region: "eu-west-1",
};

describe("createLambdaContext", () => {
  it("has Lambda's fields, in Lambda's order, and nothing of the gateway's among them", () => {
    const bindings = {
      management: {} as Management,
      connections: new MemoryConnectionStore({ ttlSeconds: 0, indexes: [] }),
    };
    const context = createLambdaContext(options, undefined, bindings);
    expect(Object.keys(context)).toEqual([
      "functionName",
      "functionVersion",
      "invokedFunctionArn",
      "memoryLimitInMB",
      "awsRequestId",
      "logGroupName",
      "logStreamName",
      "callbackWaitsForEmptyEventLoop",
      "getRemainingTimeInMillis",
      "done",
      "fail",
      "succeed",
    ]);
    expect(context.invokedFunctionArn).toBe(
      "arn:aws:lambda:eu-west-1:000000000000:function:chat-dev-send",
    );
    expect(context.memoryLimitInMB).toBe("512");
    expect(context.logGroupName).toBe("/aws/lambda/chat-dev-send");
    // The bindings reach the typed API, but not a handler that logs or spreads its context.
    expect(getRuntimeBindings(context)).toBe(bindings);
    expect(JSON.stringify(context)).not.toContain("connections");
    expect(Object.getOwnPropertySymbols({ ...context })).toEqual([]);
    expect(getRuntimeBindings(createLambdaContext(options))).toBeUndefined();
  });

  it("counts the remaining time down, and its callbacks work detached", async () => {
    const settled: unknown[][] = [];
    const context = createLambdaContext(options, (error, result) => settled.push([error, result]));
    const first = context.getRemainingTimeInMillis();
    expect(first).toBeGreaterThan(2900);
    expect(first).toBeLessThanOrEqual(3000);
    await new Promise((r) => setTimeout(r, 30));
    expect(context.getRemainingTimeInMillis()).toBeLessThan(first);
    const { succeed, fail, done } = context;
    succeed("ok");
    fail("bad");
    done(null, "both");
    expect(settled).toEqual([
      [undefined, "ok"],
      ["bad", undefined],
      [undefined, "both"],
    ]);
  });
});
