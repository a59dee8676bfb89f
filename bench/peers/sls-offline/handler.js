// Benchmark peer handlers for serverless-offline (CommonJS, as most Serverless v3 services).
const { appendFileSync, readFileSync } = require("node:fs");
const {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} = require("@aws-sdk/client-apigatewaymanagementapi");

const endpoint = process.env.WS_ENDPOINT;
const registry = process.env.BENCH_REGISTRY;
const sdk = new ApiGatewayManagementApiClient({ endpoint, region: "us-east-1" });

const post = (id, data) =>
  fetch(`${endpoint}/@connections/${id}`, { method: "POST", body: data }).then((r) => {
    if (r.status >= 300 && r.status !== 410) throw new Error(`PostToConnection ${r.status}`);
  });

module.exports.authorize = async (event) => {
  if (event.queryStringParameters?.token !== "bench") throw new Error("Unauthorized");
  return {
    principalId: "bench",
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: event.methodArn }],
    },
  };
};

module.exports.connect = async (event) => {
  // The connection registry (a DynamoDB table in a real app) is a file, shared by every worker.
  if (registry) appendFileSync(registry, `${event.requestContext.connectionId}\n`);
  return { statusCode: 200 };
};

module.exports.disconnect = async () => ({ statusCode: 200 });

module.exports.echo = async (event) => ({ statusCode: 200, body: event.body });

module.exports.send = async (event) => {
  await post(event.requestContext.connectionId, event.body);
  return { statusCode: 200 };
};

module.exports.sdk = async (event) => {
  await sdk.send(
    new PostToConnectionCommand({
      ConnectionId: event.requestContext.connectionId,
      Data: event.body,
    }),
  );
  return { statusCode: 200 };
};

module.exports.broadcast = async (event) => {
  const ids = registry ? readFileSync(registry, "utf8").split("\n").filter(Boolean) : [];
  let next = 0;
  const lane = async () => {
    while (next < ids.length) await post(ids[next++], event.body).catch(() => undefined);
  };
  await Promise.all(Array.from({ length: Math.min(64, ids.length) }, lane));
  return { statusCode: 200 };
};
