export { apiIdFor, executeApiDomain } from "../app/aws-names.js";
export type { RouteSelector } from "../app/route-selection.js";
export {
  compileRouteSelection,
  parseRouteSelectionExpression,
  RouteSelectionSyntaxError,
} from "../app/route-selection.js";
export type { DevServerOptions, ReloadReport } from "../dev/dev-server.js";
export { DevServer, startDevServer } from "../dev/dev-server.js";
export type { LocalTablesOptions } from "../dev/local-tables.js";
export { LocalTables } from "../dev/local-tables.js";
export type { InterceptRule } from "../invoker/interception.js";
export {
  activeInterceptions,
  addInterceptions,
  devInterceptions,
  installInterception,
  interceptedTarget,
} from "../invoker/interception.js";
export type { FunctionSpec, InvokeOutcome, Invoker } from "../invoker/invoker.js";
export { InProcessInvoker } from "../invoker/invoker.js";
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
export type { LogMode, LogOptions } from "./log.js";
export { attachLogger } from "./log.js";
