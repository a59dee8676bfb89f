import { websocketHandler } from "switchboard/runtime";
import { member, tellRoom } from "./rooms.js";

/** `$disconnect` (best effort, as on AWS): forget the connection and tell its room. */
export const handler = websocketHandler(async (_event, ctx) => {
  const me = await member(ctx, ctx.connectionId);
  await ctx.connections.delete(ctx.connectionId);
  if (me) await tellRoom(ctx, me.room, { type: "left", user: me.user, room: me.room });
});
