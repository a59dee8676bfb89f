import type { Integration } from "../app/integration.js";
import { awsLambdaRunner } from "./aws-lambda.js";
import { awsServiceRunner } from "./aws-service.js";
import { httpRunner } from "./http.js";
import { httpProxyRunner } from "./http-proxy.js";
import type { IntegrationCall, IntegrationOutcome } from "./integration-runner.js";
import { mockRunner } from "./mock.js";

export type { IntegrationCall, IntegrationOutcome } from "./integration-runner.js";

/**
 * Run a route's integration with the runner of its kind. Never rejects: a template that
 * throws, a backend that fails, all become `{ kind: "error" }`, which the gateway answers as
 * AWS answers a failing integration.
 */
export async function runIntegration(
  integration: Integration,
  call: IntegrationCall,
): Promise<IntegrationOutcome> {
  try {
    switch (integration.kind) {
      case "aws-lambda":
        return await awsLambdaRunner.run(integration, call);
      case "mock":
        return await mockRunner.run(integration, call);
      case "http":
        return await httpRunner.run(integration, call);
      case "http-proxy":
        return await httpProxyRunner.run(integration, call);
      case "aws-service":
        return await awsServiceRunner.run(integration, call);
      case "unemulated":
        return {
          kind: "error",
          error: new Error(
            `${integration.type} integration is not emulated: ${integration.reason}`,
          ),
        };
    }
  } catch (error) {
    return { kind: "error", error };
  }
}
