import type { WebSocketAuthorizerContext, WebSocketAuthorizerResult } from "../runtime/events.js";
import type { Handshake } from "./events.js";

/** A value the object really has (`constructor` or `toString` are not query parameters). */
function ownValue(record: Record<string, string> | undefined, key: string): string | undefined {
  return record && Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * API Gateway checks every identity source before calling the authorizer: one missing, null or
 * empty value means 401 without an invocation.
 */
export function identitySourcesPresent(
  sources: readonly string[],
  handshake: Handshake,
  stageVariables: Record<string, string> = {},
): boolean {
  const lowerHeaders = new Map(
    Object.entries(handshake.authorizerHeaders).map(([k, v]) => [k.toLowerCase(), v]),
  );
  return sources.every((source) => {
    let value: string | undefined;
    if (source.startsWith("route.request.header.")) {
      value = lowerHeaders.get(source.slice("route.request.header.".length).toLowerCase());
    } else if (source.startsWith("route.request.querystring.")) {
      value = ownValue(
        handshake.queryStringParameters,
        source.slice("route.request.querystring.".length),
      );
    } else if (source.startsWith("stageVariables.")) {
      value = ownValue(stageVariables, source.slice("stageVariables.".length));
    } else {
      // context.* variables are always available to the gateway
      return true;
    }
    return value !== undefined && value !== "";
  });
}

function wildcardMatch(pattern: string, value: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")
      .replace(/\\\?/g, ".")}$`,
  );
  return regex.test(value);
}

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** IAM evaluation for the `execute-api:Invoke` action on `methodArn`: an explicit Deny wins. */
export function policyAllows(result: WebSocketAuthorizerResult, methodArn: string): boolean {
  const statement = result.policyDocument?.Statement as unknown;
  // IAM accepts one statement object as well as a list of them.
  const statements = (Array.isArray(statement) ? statement : statement ? [statement] : []) as Array<
    NonNullable<WebSocketAuthorizerResult["policyDocument"]>["Statement"][number]
  >;
  let allowed = false;
  for (const statement of statements) {
    const actionMatches = asArray(statement.Action ?? []).some((a) =>
      wildcardMatch(String(a), "execute-api:Invoke"),
    );
    const resourceMatches = asArray(statement.Resource ?? []).some((r) =>
      wildcardMatch(String(r), methodArn),
    );
    if (!actionMatches || !resourceMatches) continue;
    if (statement.Effect === "Deny") return false;
    if (statement.Effect === "Allow") allowed = true;
  }
  return allowed;
}

/** `requestContext.authorizer` as later events carry it: principalId, latency, context as strings. */
export function authorizerContext(
  result: WebSocketAuthorizerResult,
  integrationLatency: number,
): WebSocketAuthorizerContext {
  const context: WebSocketAuthorizerContext = {
    principalId: String(result.principalId),
    integrationLatency: Math.round(integrationLatency),
  };
  for (const [key, value] of Object.entries(result.context ?? {})) {
    context[key] = String(value);
  }
  return context;
}

/** An authorizer error that means "401" (the Lambda threw `Unauthorized`). */
export function isUnauthorized(error: unknown): boolean {
  if (error === "Unauthorized") return true;
  return error instanceof Error && error.message === "Unauthorized";
}
