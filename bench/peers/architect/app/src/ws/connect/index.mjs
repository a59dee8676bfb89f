import { appendFileSync, existsSync } from "node:fs";
import { registry } from "../shared.mjs";

// No authorizer support in Architect: the token check lives in $connect.
export async function handler(event) {
  const token = event.queryStringParameters?.token;
  if (token !== undefined && token !== "bench") return { statusCode: 403 };
  if (existsSync(registry)) appendFileSync(registry, `${event.requestContext.connectionId}\n`);
  return { statusCode: 200 };
}
