/**
 * `switchboard/testing`: run handlers, or a whole app, against the real gateway with an
 * in-memory transport and connection table, from any test runner (vitest, jest, node:test).
 */

export type { TestAppOptions, TestFunction, TestRoute, TestRoutesOptions } from "./test-app.js";
export { testApp, testHandler, testRoutes } from "./test-app.js";
export type { ConnectOptions, SendResult, TestGatewayOptions } from "./test-gateway.js";
export { HandshakeRefused, TestConnection, TestGateway } from "./test-gateway.js";
export type { CloseRecord, ReceivedMessage } from "./test-socket.js";
