// Scenario 3: AWS SDK v3 PostToConnection over HTTP.
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { managementEndpoint } from "../shared.mjs";

const client = new ApiGatewayManagementApiClient({
  endpoint: managementEndpoint,
  region: "us-east-1",
});

export async function handler(event) {
  await client.send(
    new PostToConnectionCommand({
      ConnectionId: event.requestContext.connectionId,
      Data: event.body,
    }),
  );
  return { statusCode: 200 };
}
