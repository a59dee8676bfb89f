export type { RuntimeBindings } from "./bindings.js";
export { attachRuntimeBindings, getRuntimeBindings } from "./bindings.js";
export type {
  ConnectionRecord,
  ConnectionRow,
  ConnectionStore,
  ConnectionStoreOptions,
  DeclaredRow,
} from "./connection-store.js";
export { MemoryConnectionStore, NotAnIndexError } from "./connection-store.js";
export type { DynamoDbConnectionStoreOptions } from "./connection-store-dynamodb.js";
export { DynamoDbConnectionStore } from "./connection-store-dynamodb.js";
export type {
  RedisCommands,
  RedisConnectionStoreOptions,
  RedisTransaction,
} from "./connection-store-redis.js";
export { RedisConnectionStore } from "./connection-store-redis.js";
export type {
  LambdaContext,
  WebSocketAuthorizerContext,
  WebSocketAuthorizerEvent,
  WebSocketAuthorizerResult,
  WebSocketEvent,
  WebSocketEventType,
  WebSocketIdentity,
  WebSocketLambdaHandler,
  WebSocketRequestContext,
  WebSocketResult,
} from "./events.js";
export { isClass } from "./is-class.js";
export { createLambdaContext } from "./lambda-context.js";
export type { ConnectionInfo, Management } from "./management.js";
export { GoneError, isGone, LimitExceededError, serialize } from "./management.js";
export { SdkManagement } from "./management-sdk.js";
export { Reject } from "./reject.js";
export { isStandardSchema, parseBody, validateBody } from "./schema.js";
export type { Seed, SeedInput } from "./seed.js";
export type { QueryOptions, SortKeyCondition, TableClient, TableItem, Tables } from "./tables.js";
export { tableClient, tableEnvName, tablesFromEnvironment } from "./tables.js";
export { methodHandler, methodNames, WebSocketFunction } from "./websocket-function.js";
export type {
  BroadcastResult,
  BuiltHandler,
  TypedHandler,
  TypedResult,
  WebSocketContext,
  WebSocketHandlerOptions,
} from "./websocket-handler.js";
export { websocketHandler } from "./websocket-handler.js";
