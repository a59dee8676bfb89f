import { websocketHandler } from "switchboard/runtime";
import { tellRoom } from "./members.js";

/** `$disconnect` (best effort, as on AWS): forget the connection and tell the room. */
export const handler = websocketHandler(async (_event, ctx) => {
  const me = await ctx.connections.get(ctx.connectionId);
  await ctx.connections.delete(ctx.connectionId);
  if (me) await tellRoom(ctx, String(me.room), { type: "left", user: me.user, room: me.room });
});
