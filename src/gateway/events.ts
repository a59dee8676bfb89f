import type {
  WebSocketAuthorizerContext,
  WebSocketAuthorizerEvent,
  WebSocketEvent,
  WebSocketIdentity,
  WebSocketRequestContext,
} from "../runtime/events.js";
import { newId, traceId } from "./ids.js";
import { requestTime } from "./request-time.js";

/** What every event of one connection shares. */
export interface ConnectionFacts {
  connectionId: string;
  connectedAt: number;
  identity: WebSocketIdentity;
  domainName: string;
  stage: string;
  apiId: string;
  authorizer?: WebSocketAuthorizerContext;
}

/** The handshake as API Gateway forwards it to `$connect` and the authorizer. */
export interface Handshake {
  /** Handshake headers with the client's casing (last duplicate wins), without Connection/Upgrade. */
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  /** The same, including Connection and Upgrade: the authorizer event has them. */
  authorizerHeaders: Record<string, string>;
  authorizerMultiValueHeaders: Record<string, string[]>;
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
}

const HOP_HEADERS = new Set(["connection", "upgrade"]);

/**
 * Turn a Node upgrade request's raw headers and query into the handshake API Gateway shows:
 * the client's header casing, plus the `X-Amzn-Trace-Id` and `X-Forwarded-*` headers it adds.
 */
export function buildHandshake(
  rawHeaders: readonly string[],
  search: string,
  client: {
    sourceIp: string;
    port: number;
    proto: "http" | "https";
    now: number;
    /** The `Host` the edge forwards (AWS: the execute-api domain); default the client's. */
    host?: string;
  },
): Handshake {
  // Maps, turned into objects at the end: a client's `__proto__` header or query key must be an
  // own key of the event, not a prototype lookup (which crashed the gateway).
  const all = new Map<string, string>();
  const allMulti = new Map<string, string[]>();
  let forwardedFor: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    const lower = name.toLowerCase();
    if (lower === "x-forwarded-for") {
      forwardedFor = value;
      continue;
    }
    if (
      lower === "x-forwarded-port" ||
      lower === "x-forwarded-proto" ||
      lower === "x-amzn-trace-id"
    ) {
      continue;
    }
    if (lower === "host" && client.host !== undefined) {
      all.set(name, client.host);
      allMulti.set(name, [client.host]);
      continue;
    }
    all.set(name, value);
    const values = allMulti.get(name);
    if (values) values.push(value);
    else allMulti.set(name, [value]);
  }
  const added: Record<string, string> = {
    "X-Amzn-Trace-Id": traceId(client.now),
    "X-Forwarded-For": forwardedFor ? `${forwardedFor}, ${client.sourceIp}` : client.sourceIp,
    "X-Forwarded-Port": String(client.port),
    "X-Forwarded-Proto": client.proto,
  };
  for (const [name, value] of Object.entries(added)) {
    all.set(name, value);
    allMulti.set(name, [value]);
  }
  const forwarded = [...all.keys()].filter((name) => !HOP_HEADERS.has(name.toLowerCase()));
  const handshake: Handshake = {
    headers: Object.fromEntries(forwarded.map((name) => [name, all.get(name) as string])),
    multiValueHeaders: Object.fromEntries(
      forwarded.map((name) => [name, allMulti.get(name) as string[]]),
    ),
    authorizerHeaders: Object.fromEntries(all),
    authorizerMultiValueHeaders: Object.fromEntries(allMulti),
  };
  if (search && search !== "?") {
    const query = new Map<string, string>();
    const multi = new Map<string, string[]>();
    for (const [key, value] of new URLSearchParams(search)) {
      query.set(key, value);
      const values = multi.get(key);
      if (values) values.push(value);
      else multi.set(key, [value]);
    }
    handshake.queryStringParameters = Object.fromEntries(query);
    handshake.multiValueQueryStringParameters = Object.fromEntries(multi);
  }
  return handshake;
}

function requestContext(
  facts: ConnectionFacts,
  routeKey: string,
  eventType: WebSocketRequestContext["eventType"],
  now: number,
  extra: { messageId?: string; disconnectStatusCode?: number; disconnectReason?: string },
): WebSocketRequestContext {
  const requestId = newId();
  // Key order follows captures of real events, so logged events read the same. Keys are added
  // one by one (no spreads): each event type then shares one hidden class, which keeps the
  // per-message path fast.
  const rc = { routeKey } as WebSocketRequestContext;
  if (extra.messageId !== undefined) rc.messageId = extra.messageId;
  if (extra.disconnectStatusCode !== undefined) {
    rc.disconnectStatusCode = extra.disconnectStatusCode;
  }
  rc.eventType = eventType;
  rc.extendedRequestId = requestId;
  rc.requestTime = requestTime(now);
  rc.messageDirection = "IN";
  if (extra.disconnectReason !== undefined) rc.disconnectReason = extra.disconnectReason;
  rc.stage = facts.stage;
  rc.connectedAt = facts.connectedAt;
  rc.requestTimeEpoch = now;
  rc.identity = facts.identity;
  rc.requestId = requestId;
  rc.domainName = facts.domainName;
  rc.connectionId = facts.connectionId;
  rc.apiId = facts.apiId;
  if (facts.authorizer) rc.authorizer = facts.authorizer;
  return rc;
}

/** The `$connect` event: handshake headers, query string (only when present), no body. */
export function buildConnectEvent(
  facts: ConnectionFacts,
  handshake: Handshake,
  now: number,
): WebSocketEvent {
  const event: WebSocketEvent = {
    headers: handshake.headers,
    multiValueHeaders: handshake.multiValueHeaders,
    requestContext: requestContext(facts, "$connect", "CONNECT", now, {}),
    isBase64Encoded: false,
  };
  if (handshake.queryStringParameters) {
    event.queryStringParameters = handshake.queryStringParameters;
    event.multiValueQueryStringParameters = handshake.multiValueQueryStringParameters as Record<
      string,
      string[]
    >;
  }
  return event;
}

/** A MESSAGE event for the selected route: no headers, the raw frame text as `body`. */
export function buildMessageEvent(
  facts: ConnectionFacts,
  routeKey: string,
  body: string,
  now: number,
): WebSocketEvent {
  return {
    requestContext: requestContext(facts, routeKey, "MESSAGE", now, { messageId: newId() }),
    body,
    isBase64Encoded: false,
  };
}

/** The `$disconnect` event: API Gateway's fixed header set, and the close code and reason. */
export function buildDisconnectEvent(
  facts: ConnectionFacts,
  code: number,
  reason: string,
  now: number,
): WebSocketEvent {
  const headers = {
    Host: facts.domainName,
    "x-api-key": "",
    "X-Forwarded-For": "",
    "x-restapi": "",
  };
  return {
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    requestContext: requestContext(facts, "$disconnect", "DISCONNECT", now, {
      disconnectStatusCode: code,
      disconnectReason: reason,
    }),
    isBase64Encoded: false,
  };
}

/** The REQUEST authorizer event for `$connect`. */
export function buildAuthorizerEvent(
  facts: ConnectionFacts,
  handshake: Handshake,
  region: string,
  accountId: string,
  now: number,
): WebSocketAuthorizerEvent {
  const event: WebSocketAuthorizerEvent = {
    type: "REQUEST",
    methodArn: `arn:aws:execute-api:${region}:${accountId}:${facts.apiId}/${facts.stage}/$connect`,
    headers: handshake.authorizerHeaders,
    multiValueHeaders: handshake.authorizerMultiValueHeaders,
    requestContext: requestContext(facts, "$connect", "CONNECT", now, {}),
  };
  if (handshake.queryStringParameters) {
    event.queryStringParameters = handshake.queryStringParameters;
    event.multiValueQueryStringParameters = handshake.multiValueQueryStringParameters as Record<
      string,
      string[]
    >;
  }
  return event;
}
