import { defineApp } from "switchboard";

/**
 * A chat on the API Gateway WebSocket model. Connect with `?token=<token>&room=<room>`
 * (the authorizer checks the token), then send `{"action":"send","text":"hi"}`,
 * `{"action":"join","room":"games"}` or `{"action":"whoami"}`.
 */
export default defineApp({
  name: "__APP_NAME__",
  routes: {
    $connect: "src/connect.ts#handler",
    $disconnect: "src/disconnect.ts#handler",
    send: "src/chat.ts#send",
    join: { handler: "src/chat.ts#join", routeResponse: true },
    whoami: { handler: "src/chat.ts#whoami", routeResponse: true },
    $default: "src/chat.ts#fallback",
  },
  // A REQUEST authorizer runs before $connect; no token in the query string: 401.
  authorizer: {
    handler: "src/auth.ts#handler",
    identitySource: ["route.request.querystring.token"],
  },
  // ctx.connections: one row per connection, queried by room.
  connections: { ttl: 7200, indexes: ["room"] },
  // Development tokens (token:user,...): replace src/auth.ts with your identity provider.
  environment: { CHAT_TOKENS: "alice-token:alice,bob-token:bob" },
});
