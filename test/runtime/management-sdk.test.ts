import { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";
import { describe } from "vitest";
import { SdkManagement } from "../../src/runtime/management-sdk.js";
import { managementContract } from "./management.contract.js";

describe("Management contract: SdkManagement (AWS SDK v3 over HTTP to @connections)", () => {
  managementContract(
    async (app) =>
      new SdkManagement({
        client: new ApiGatewayManagementApiClient({
          endpoint: `${app.http}/test`,
          region: "us-east-1",
          credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-a-secret" },
          maxAttempts: 1,
        }),
      }),
  );
});
