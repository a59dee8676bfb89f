/**
 * Event and result types for WebSocket Lambda handlers, exactly as API Gateway sends them.
 * `@types/aws-lambda`'s `APIGatewayProxyWebsocketEventV2` lacks `headers`, `identity`,
 * `authorizer` and the disconnect fields, and claims `messageId` is always present; these fill
 * those gaps (see docs/events.md).
 */

export type WebSocketEventType = "CONNECT" | "MESSAGE" | "DISCONNECT";

export interface WebSocketIdentity {
  sourceIp: string;
  /** Present only when the client sent a `User-Agent` header. */
  userAgent?: string;
}

/** `requestContext.authorizer`: the Lambda authorizer's `principalId` and context, values as strings. */
export interface WebSocketAuthorizerContext {
  principalId: string;
  integrationLatency: number;
  [key: string]: string | number;
}

export interface WebSocketRequestContext {
  routeKey: string;
  eventType: WebSocketEventType;
  extendedRequestId: string;
  requestId: string;
  /** CLF time, `dd/MMM/yyyy:HH:mm:ss +0000`. */
  requestTime: string;
  requestTimeEpoch: number;
  messageDirection: "IN";
  stage: string;
  /** Epoch ms; the same on every event of one connection. */
  connectedAt: number;
  domainName: string;
  connectionId: string;
  apiId: string;
  identity: WebSocketIdentity;
  /** MESSAGE only. */
  messageId?: string;
  /** DISCONNECT only. */
  disconnectStatusCode?: number;
  /** DISCONNECT only. */
  disconnectReason?: string;
  /** With a Lambda authorizer: on CONNECT and every later event of the connection. */
  authorizer?: WebSocketAuthorizerContext;
}

/** The event a WebSocket route's Lambda receives (`$connect`, `$disconnect`, `$default`, custom). */
export interface WebSocketEvent {
  requestContext: WebSocketRequestContext;
  isBase64Encoded: false;
  /** MESSAGE only: the raw frame text. */
  body?: string;
  /** CONNECT: the handshake headers; DISCONNECT: a fixed set; MESSAGE: absent. */
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  /** CONNECT only, and only when the URL has a query string. */
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
  stageVariables?: Record<string, string>;
}

/** What a handler may return. On `$connect`, a non-2xx `statusCode` rejects the handshake with it. */
export type WebSocketResult =
  | {
      statusCode?: number;
      body?: string;
      headers?: Record<string, string>;
      isBase64Encoded?: boolean;
    }
  | string
  // biome-ignore lint/suspicious/noConfusingVoidType: handlers commonly return nothing
  | void
  | undefined;

/** The Lambda `context` object handlers receive. */
export interface LambdaContext {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
  done(error?: unknown, result?: unknown): void;
  fail(error: unknown): void;
  succeed(result: unknown): void;
}

/** A plain AWS Lambda WebSocket handler, promise or callback style. */
export type WebSocketLambdaHandler = (
  event: WebSocketEvent,
  context: LambdaContext,
  callback?: (error?: unknown, result?: WebSocketResult) => void,
) => unknown;

/** REQUEST authorizer input for WebSocket `$connect`. */
export interface WebSocketAuthorizerEvent {
  type: "REQUEST";
  methodArn: string;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
  stageVariables?: Record<string, string>;
  requestContext: WebSocketRequestContext;
}

/** REQUEST authorizer output. */
export interface WebSocketAuthorizerResult {
  principalId: string;
  policyDocument: {
    Version: string;
    Statement: Array<{
      Action: string | string[];
      Effect: "Allow" | "Deny";
      Resource: string | string[];
    }>;
  };
  context?: Record<string, string | number | boolean>;
  usageIdentifierKey?: string;
}
