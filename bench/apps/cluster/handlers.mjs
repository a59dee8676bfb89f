import { websocketHandler } from "switchboard/runtime";

export const connect = websocketHandler(async (_event, ctx) => {
  await ctx.connections.put({ connectionId: ctx.connectionId });
});

export const disconnect = websocketHandler(async (_event, ctx) => {
  await ctx.connections.delete(ctx.connectionId);
});

export const whoami = async (event) => ({
  statusCode: 200,
  body: event.requestContext.connectionId,
});

export const broadcast = websocketHandler(async (_event, ctx) => {
  const everyone = await ctx.connections.list();
  await ctx.broadcast(
    everyone.map((c) => c.connectionId),
    ctx.rawBody ?? "",
  );
});
