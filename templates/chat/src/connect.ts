import { Reject, websocketHandler } from "switchboard/runtime";
import { tellRoom } from "./rooms.js";
import { RoomName } from "./schemas.js";

/** `$connect`: the authorizer let the user in; join the room asked for (default `lobby`). */
export const handler = websocketHandler(async (_event, ctx) => {
  const user = String(ctx.authorizer?.user ?? "");
  const room = RoomName.safeParse(ctx.queryStringParameters.room ?? "lobby");
  if (!room.success) throw new Reject(400, "room: 1-32 letters, digits, _ or -");
  // The others hear about it now; this connection can receive once $connect has returned.
  await tellRoom(ctx, room.data, { type: "joined", user, room: room.data });
  await ctx.connections.put({ connectionId: ctx.connectionId, user, room: room.data });
});
