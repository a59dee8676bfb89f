import { z } from "zod";

/**
 * What travels on a node's channel: requests from other nodes and their replies. Every message
 * is parsed against these schemas before it is acted on; anything else (`null`, `5`, a request
 * missing its id, ...) is dropped and reported, never thrown on the subscriber's event loop.
 */
/** Ids one `send` request carries at most (a broadcast to more is split). */
export const MAX_IDS_PER_REQUEST = 1000;

const common = {
  id: z.string().min(1),
  from: z.string().min(1),
  /** Epoch ms after which the caller has given up: the owner drops the request unanswered. */
  deadline: z.number().finite(),
};

const requestSchema = z.discriminatedUnion("op", [
  z.object({
    ...common,
    op: z.literal("send"),
    /** Every connection of this node the data goes to (one message per node for a broadcast). */
    connectionIds: z.array(z.string()).min(1).max(MAX_IDS_PER_REQUEST),
    /** The data, as text or base64 (`binary`). */
    data: z.string(),
    binary: z.boolean().optional(),
  }),
  z.object({ ...common, op: z.enum(["disconnect", "info"]), connectionId: z.string() }),
]);

const identitySchema = z.object({ sourceIp: z.string(), userAgent: z.string().optional() });

const replySchema = z.union([
  z.object({
    re: z.string(),
    ok: z.literal(true),
    /** `send`: the ids this node does not hold, and those it failed to send to. */
    gone: z.array(z.string()).optional(),
    failed: z.array(z.object({ connectionId: z.string(), message: z.string() })).optional(),
    info: z
      .object({
        connectedAt: z.number(),
        lastActiveAt: z.number(),
        identity: identitySchema,
      })
      .optional(),
  }),
  z.object({ re: z.string(), ok: z.literal(false), gone: z.boolean(), message: z.string() }),
]);

export type BusRequest = z.infer<typeof requestSchema>;
/** A request before it is addressed (id, sender and deadline are added when it is sent). */
export type BusRequestBody = BusRequest extends infer R
  ? R extends BusRequest
    ? Omit<R, "id" | "from" | "deadline">
    : never
  : never;
export type BusReply = z.infer<typeof replySchema>;

/** A bus message, parsed and checked; `undefined` (with why) for anything malformed. */
export function parseBusMessage(
  text: string,
): { request: BusRequest } | { reply: BusReply } | { invalid: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { invalid: "not JSON" };
  }
  if (typeof value === "object" && value !== null && "re" in value) {
    const reply = replySchema.safeParse(value);
    return reply.success ? { reply: reply.data } : { invalid: "malformed reply" };
  }
  const request = requestSchema.safeParse(value);
  return request.success ? { request: request.data } : { invalid: "malformed request" };
}
