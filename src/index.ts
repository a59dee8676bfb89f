export type {
  AppConfig,
  AuthorizerConfig,
  HandlerRef,
  HttpRouteConfig,
  LimitsConfig,
  RouteConfig,
} from "./app/config.js";
export { defineApp } from "./app/config.js";
export type { LoadAppOptions } from "./app/load.js";
export { findConfigFile, loadApp } from "./app/load.js";
export type {
  App,
  Authorizer,
  BodySchema,
  ConnectionTableConfig,
  HandlerTarget,
  Limits,
  Route,
} from "./app/model.js";
export { DEFAULT_LIMITS } from "./app/model.js";
export { ModuleLoader } from "./app/module-loader.js";
export type { ConfigIssue, ErrorCode } from "./errors.js";
export { ConfigError, ERRORS, formatConfigIssue, SwitchboardError } from "./errors.js";
