import { websocketHandler } from "switchboard/runtime";

export const send = websocketHandler(async (_event, ctx) => {
  await ctx.send(ctx.rawBody ?? "");
});
