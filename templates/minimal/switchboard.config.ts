import { defineApp } from "switchboard";

/**
 * The app: a WebSocket API on the API Gateway model. Each JSON message is routed by its
 * `action` field (the route selection expression); anything else goes to `$default`.
 */
export default defineApp({
  name: "__APP_NAME__",
  routes: {
    // A two-way route: what the handler returns is sent back to the caller.
    ping: { handler: "src/echo.ts#ping", routeResponse: true },
    $default: "src/echo.ts#echo",
  },
});
