export { attachLogger } from "../gateway/log.js";
export type { InterceptRule } from "../invoker/interception.js";
export {
  addInterceptions,
  devInterceptions,
  installInterception,
} from "../invoker/interception.js";
export type { DevServerOptions, ReloadReport } from "./dev-server.js";
export { DevServer, startDevServer } from "./dev-server.js";
export type { LocalTablesOptions } from "./local-tables.js";
export { LocalTables } from "./local-tables.js";
