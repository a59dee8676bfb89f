import type { WebSocketAuthorizerEvent, WebSocketAuthorizerResult } from "switchboard/runtime";

/** The users the development tokens stand for (`CHAT_TOKENS`, set in switchboard.config.ts). */
function tokens(): Map<string, string> {
  const pairs = (process.env.CHAT_TOKENS ?? "").split(",").map((pair) => pair.split(":"));
  return new Map(pairs.flatMap(([token, user]) => (token && user ? [[token, user]] : [])));
}

/**
 * The REQUEST authorizer: lets a connection in when its `token` is known, and hands the user
 * to every handler as `ctx.authorizer.user`. Throwing `Unauthorized` is API Gateway's 401.
 */
export async function handler(event: WebSocketAuthorizerEvent): Promise<WebSocketAuthorizerResult> {
  const token = event.queryStringParameters?.token ?? "";
  const user = tokens().get(token);
  if (!user) throw new Error("Unauthorized");
  return {
    principalId: user,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: event.methodArn }],
    },
    context: { user },
  };
}
