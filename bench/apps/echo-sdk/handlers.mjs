import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";

/** @type {ApiGatewayManagementApiClient | undefined} */
let client;

export const sdk = async (event) => {
  const { domainName, stage, connectionId } = event.requestContext;
  client ??= new ApiGatewayManagementApiClient({
    endpoint: process.env.BENCH_MGMT_ENDPOINT ?? `http://${domainName}/${stage}`,
    region: "us-east-1",
  });
  await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: event.body }));
  return { statusCode: 200 };
};
