import type { WebSocketContext } from "switchboard/runtime";

/** Who a connection is, as `$connect` stored it in the connection table. */
export interface Member {
  user: string;
  room: string;
}

/** The member behind a connection, or undefined when its row is gone. */
export async function member(
  ctx: WebSocketContext,
  connectionId: string,
): Promise<Member | undefined> {
  const row = await ctx.connections.get(connectionId);
  return row ? { user: String(row.user), room: String(row.room) } : undefined;
}

/** Send an event to everyone in a room; connections that are gone leave the table. */
export async function tellRoom(ctx: WebSocketContext, room: string, event: object): Promise<void> {
  const rows = await ctx.connections.query("room", room);
  await ctx.broadcast(
    rows.map((row) => row.connectionId),
    event,
  );
}
