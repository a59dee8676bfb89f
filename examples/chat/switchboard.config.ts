import { defineApp } from "switchboard";

/**
 * A chat room on the serverless WebSocket model: connect with `?user=alice&room=lobby`,
 * send `{"action":"send","text":"hi"}`, ask `{"action":"whoami"}` (a two-way route).
 */
export default defineApp({
  name: "chat",
  stage: "dev",
  routeSelectionExpression: "$request.body.action",
  routes: {
    $connect: "src/connect.ts#handler",
    $disconnect: "src/disconnect.ts#handler",
    send: "src/chat.ts#send",
    whoami: { handler: "src/chat.ts#whoami", routeResponse: true },
    $default: "src/chat.ts#fallback",
  },
  connections: { ttl: 7200, indexes: ["room", "user"] },
  environment: { CHAT_USERS: "alice,bob,carol,dave,erin" },
});
