import { websocketHandler } from "switchboard/runtime";
import { z } from "zod";
import { tellRoom } from "./members.js";

/** The `send` route's body: checked before the handler runs (else AWS's `Bad request body`). */
export const SendMessage = z.object({
  action: z.literal("send"),
  text: z.string().min(1).max(1000),
});

/** `send`: broadcast to everyone in the sender's room. */
export const send = websocketHandler({ body: SendMessage }, async (_event, ctx) => {
  const me = await ctx.connections.get(ctx.connectionId);
  if (!me) return ctx.send({ type: "error", message: "not in a room" });
  await tellRoom(ctx, String(me.room), {
    type: "message",
    from: me.user,
    text: ctx.body.text,
    at: new Date().toISOString(),
  });
});

/** `whoami`: a two-way route; what it returns goes back to the caller. */
export const whoami = websocketHandler(async (_event, ctx) => {
  const me = await ctx.connections.get(ctx.connectionId);
  return { type: "whoami", connectionId: ctx.connectionId, user: me?.user, room: me?.room };
});

/** `$default`: anything else (unknown actions, text that is not JSON). */
export const fallback = websocketHandler(async (_event, ctx) => {
  const action =
    ctx.body && typeof ctx.body === "object"
      ? (ctx.body as { action?: unknown }).action
      : undefined;
  await ctx.send({
    type: "error",
    message:
      action === undefined ? "messages need an action" : `unknown action "${String(action)}"`,
    actions: ["send", "whoami"],
  });
});
