import { websocketHandler } from "switchboard/runtime";

/** `ping`: answers `{"type":"pong"}` (two-way route: the return value goes back). */
export const ping = websocketHandler(async () => ({ type: "pong", at: new Date().toISOString() }));

/** `$default`: sends every other message back to the connection it came from. */
export const echo = websocketHandler(async (_event, ctx) => {
  await ctx.send({ type: "echo", body: ctx.body });
});
