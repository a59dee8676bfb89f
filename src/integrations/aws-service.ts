import type { AwsServiceIntegration } from "../app/integration.js";
import type { IntegrationRunner } from "./integration-runner.js";
import { type BackendAnswer, mapRequest, mapResponse } from "./mapping.js";

/** The services an `AWS` integration can reach locally (the app's declared tables). */
export const LOCAL_SERVICES = new Set(["dynamodb"]);

/**
 * `AWS` to DynamoDB (`arn:aws:apigateway:{region}:dynamodb:action/PutItem`): the rendered
 * request template is the action's JSON input, sent with the AWS SDK to the local DynamoDB
 * that `switchboard dev` runs for the tables the app declares (`AWS_ENDPOINT_URL_DYNAMODB`).
 * Without one, the integration fails as AWS fails an unreachable service: it never reaches
 * a real AWS account from a local run. The status code selects the integration response.
 */
export const awsServiceRunner: IntegrationRunner<AwsServiceIntegration> = {
  async run(integration, call) {
    const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    if (integration.service !== "dynamodb" || !endpoint) {
      return {
        kind: "error",
        error: new Error(
          `AWS ${integration.service} integration: no local ${integration.service} (declare the table in the app)`,
        ),
      };
    }
    const request = mapRequest(integration, call.event, call.frame);
    if (!request.ok) return { kind: "error", error: new Error(request.reason) };
    let input: unknown;
    try {
      input = JSON.parse(request.body);
    } catch {
      return { kind: "error", error: new Error("the request template did not produce JSON") };
    }
    const sdk = (await import("@aws-sdk/client-dynamodb")) as unknown as Record<string, unknown>;
    const Command = sdk[`${integration.action}Command`] as
      | (new (
          input: unknown,
        ) => unknown)
      | undefined;
    if (typeof Command !== "function") {
      return { kind: "error", error: new Error(`DynamoDB has no action ${integration.action}`) };
    }
    const client = dynamoClient(sdk, endpoint);
    let answer: BackendAnswer;
    try {
      const output = (await (client as { send(c: unknown, o: unknown): Promise<unknown> }).send(
        new Command(input),
        { abortSignal: AbortSignal.timeout(call.timeoutMs) },
      )) as Record<string, unknown>;
      const { $metadata: _metadata, ...body } = output;
      answer = { status: 200, body: JSON.stringify(body), headers: {} };
    } catch (error) {
      const e = error as {
        name?: string;
        message?: string;
        $metadata?: { httpStatusCode?: number };
      };
      if (e.name === "AbortError") return { kind: "timeout" };
      const status = e.$metadata?.httpStatusCode;
      if (status === undefined) return { kind: "error", error };
      answer = {
        status,
        body: JSON.stringify({
          __type: `com.amazonaws.dynamodb.v20120810#${e.name}`,
          message: e.message,
        }),
        headers: {},
      };
    }
    const body = mapResponse(integration, answer, String(answer.status), call.event, call.frame);
    return { kind: "ok", status: answer.status, body };
  },
};

/** One client per endpoint (the local DynamoDB's port is fixed while the dev server runs). */
let cached: { endpoint: string; client: unknown } | undefined;
function dynamoClient(sdk: Record<string, unknown>, endpoint: string): unknown {
  if (cached?.endpoint !== endpoint) {
    const DynamoDBClient = sdk.DynamoDBClient as new (config: unknown) => unknown;
    cached = {
      endpoint,
      client: new DynamoDBClient({ endpoint, region: process.env.AWS_REGION ?? "us-east-1" }),
    };
  }
  return cached.client;
}
