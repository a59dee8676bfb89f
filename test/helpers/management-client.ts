import { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";

/**
 * The real AWS SDK v3 management client against a local `@connections` endpoint: dummy
 * credentials (the dev gateway checks none on loopback) and one attempt, so a test sees the
 * first answer rather than the SDK's retries.
 */
export function managementClient(endpoint: string): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-a-secret" },
    maxAttempts: 1,
  });
}
