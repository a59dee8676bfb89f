import { Reject, websocketHandler } from "switchboard/runtime";
import { knownUsers, tellRoom } from "./members.js";

/** `$connect`: only known users get in; the handshake waits for this to return. */
export const handler = websocketHandler(async (_event, ctx) => {
  const user = ctx.queryStringParameters.user;
  const room = ctx.queryStringParameters.room ?? "lobby";
  if (!user) throw new Reject(400, "user is required");
  if (!knownUsers().has(user)) return { statusCode: 403 };
  // Others hear about it now; the new connection cannot receive until $connect returns.
  await tellRoom(ctx, room, { type: "joined", user, room });
  await ctx.connections.put({ connectionId: ctx.connectionId, user, room });
  return { statusCode: 200 };
});
