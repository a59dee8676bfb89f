export const authorize = async (event) => {
  if (event.queryStringParameters?.token !== "bench") throw new Error("Unauthorized");
  return {
    principalId: "bench",
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: event.methodArn }],
    },
  };
};

export const connect = async () => ({ statusCode: 200 });

export const ignore = async () => ({ statusCode: 200 });
