export type { InterceptRule } from "./aws-interception.js";
export {
  activeInterceptions,
  addInterceptions,
  devInterceptions,
  installInterception,
  interceptedTarget,
} from "./aws-interception.js";
export type { DevServerOptions, ReloadReport } from "./dev-server.js";
export { DevServer, startDevServer } from "./dev-server.js";
export {
  badRequestBodyFrame,
  forbiddenFrame,
  internalServerErrorFrame,
  timeoutFrame,
} from "./error-frames.js";
export type { ConnectionFacts, Handshake } from "./events.js";
export {
  buildAuthorizerEvent,
  buildConnectEvent,
  buildDisconnectEvent,
  buildHandshake,
  buildMessageEvent,
} from "./events.js";
export type { GatewayOptions } from "./gateway.js";
export { Gateway } from "./gateway.js";
export type { ConnectReport, GatewayEventMap, InvokeReport } from "./gateway-events.js";
export { apiIdFor, executeApiDomain, newId } from "./ids.js";
export type { FunctionSpec, InvokeOutcome, Invoker } from "./invoker.js";
export { InProcessInvoker } from "./invoker.js";
export type { LocalTablesOptions } from "./local-tables.js";
export { LocalTables } from "./local-tables.js";
export type { LogMode, LogOptions } from "./log.js";
export { attachLogger } from "./log.js";
export type { RouteSelector } from "./route-selection.js";
export {
  compileRouteSelection,
  parseRouteSelectionExpression,
  RouteSelectionSyntaxError,
} from "./route-selection.js";
