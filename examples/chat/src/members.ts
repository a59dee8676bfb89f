import type { WebSocketContext } from "switchboard/runtime";

/** Users allowed in (a stand-in for a real user directory). */
export function knownUsers(): Set<string> {
  return new Set((process.env.CHAT_USERS ?? "").split(",").filter(Boolean));
}

/** Everyone in a room, through the connection table's `room` index. */
export async function roomMembers(ctx: WebSocketContext, room: string): Promise<string[]> {
  const rows = await ctx.connections.query("room", room);
  return rows.map((row) => row.connectionId);
}

/** Send an event to a whole room; connections that are gone are dropped from the table. */
export async function tellRoom(ctx: WebSocketContext, room: string, event: object): Promise<void> {
  await ctx.broadcast(await roomMembers(ctx, room), event);
}
