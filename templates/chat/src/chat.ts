import { websocketHandler } from "switchboard/runtime";
import { member, tellRoom } from "./rooms.js";
import { JoinRoom, SendMessage } from "./schemas.js";

// A body that fails its schema gets API Gateway's `Bad request body` frame; the handler is not called.

/** `send`: broadcast the text to everyone in the sender's room (the sender too). */
export const send = websocketHandler({ body: SendMessage }, async (_event, ctx) => {
  const me = await member(ctx, ctx.connectionId);
  if (!me) return ctx.send({ type: "error", message: "not in a room" });
  await tellRoom(ctx, me.room, { type: "message", from: me.user, text: ctx.body.text });
});

/** `join` (two-way): move to another room; the answer says where you are. */
export const join = websocketHandler({ body: JoinRoom }, async (_event, ctx) => {
  const me = await member(ctx, ctx.connectionId);
  if (!me) return { type: "error", message: "not in a room" };
  await ctx.connections.put({ connectionId: ctx.connectionId, user: me.user, room: ctx.body.room });
  await tellRoom(ctx, me.room, { type: "left", user: me.user, room: me.room });
  return { type: "joined", user: me.user, room: ctx.body.room };
});

/** `whoami` (two-way): what the table knows about this connection. */
export const whoami = websocketHandler(async (_event, ctx) => {
  const me = await member(ctx, ctx.connectionId);
  return { type: "whoami", connectionId: ctx.connectionId, ...me };
});

/** `$default`: anything else (an unknown action, text that is not JSON). */
export const fallback = websocketHandler(async (_event, ctx) => {
  await ctx.send({
    type: "error",
    message: "unknown message",
    actions: ["send", "join", "whoami"],
  });
});
