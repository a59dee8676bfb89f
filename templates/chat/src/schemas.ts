import { z } from "zod";

/** A room name: 1-32 letters, digits, `_` or `-`. */
export const RoomName = z.string().regex(/^[\w-]{1,32}$/);

/** `{"action":"send","text":"..."}`: a message to the sender's room. */
export const SendMessage = z.object({
  action: z.literal("send"),
  text: z.string().min(1).max(1000),
});

/** `{"action":"join","room":"..."}`: move to another room. */
export const JoinRoom = z.object({ action: z.literal("join"), room: RoomName });
