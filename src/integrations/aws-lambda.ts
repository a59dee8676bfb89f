import type { LambdaIntegration } from "../app/integration.js";
import type { IntegrationRunner } from "./integration-runner.js";
import { type BackendAnswer, mapRequest, mapResponse } from "./mapping.js";

/**
 * `AWS` to a Lambda function (non-proxy): the request template's output is the function's
 * payload (JSON, as Lambda's Invoke takes it); its result, or its `{ errorMessage, errorType }`
 * when it fails, is what the integration responses map (selected by `errorMessage`).
 */
export const awsLambdaRunner: IntegrationRunner<LambdaIntegration> = {
  async run(integration, call) {
    const request = mapRequest(integration, call.event, call.frame);
    if (!request.ok) return { kind: "error", error: new Error(request.reason) };
    let payload: unknown;
    try {
      payload = request.body.trim() === "" ? {} : JSON.parse(request.body);
    } catch {
      // Lambda refuses a payload that is not JSON (InvalidRequestContentException).
      return {
        kind: "error",
        error: new Error("the request template did not produce JSON for the Lambda payload"),
      };
    }
    if (!call.invoke) return { kind: "error", error: new Error("no function to invoke") };
    const outcome = await call.invoke(payload);
    if (outcome.kind === "timeout") return { kind: "timeout" };
    let answer: BackendAnswer;
    if (outcome.kind === "error") {
      const error = outcome.error;
      const errorMessage = error instanceof Error ? error.message : String(error);
      const errorType = error instanceof Error ? error.name : "Error";
      answer = {
        status: 200,
        body: JSON.stringify({ errorMessage, errorType }),
        headers: {},
        errorMessage,
      };
    } else {
      const result = outcome.result;
      answer = {
        status: 200,
        body: result === undefined ? "null" : JSON.stringify(result),
        headers: {},
      };
    }
    const body = mapResponse(integration, answer, answer.errorMessage, call.event, call.frame);
    // A function error is a failed `$connect` (500), whatever the responses map it to.
    return { kind: "ok", status: answer.errorMessage === undefined ? 200 : 500, body };
  },
};
