import { z } from "zod";

/**
 * What travels on a node's channel: requests from other nodes and their replies. Every message
 * is parsed against these schemas before it is acted on; anything else (`null`, `5`, a request
 * missing its id, ...) is dropped and reported, never thrown on the subscriber's event loop.
 */
const requestSchema = z.object({
  id: z.string().min(1),
  from: z.string().min(1),
  op: z.enum(["send", "disconnect", "info"]),
  connectionId: z.string(),
  /** Epoch ms after which the caller has given up: the owner drops the request unanswered. */
  deadline: z.number().finite(),
  /** `send`: the data, as text or base64 (`binary`). */
  data: z.string().optional(),
  binary: z.boolean().optional(),
});

const identitySchema = z.object({ sourceIp: z.string(), userAgent: z.string().optional() });

const replySchema = z.union([
  z.object({
    re: z.string(),
    ok: z.literal(true),
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
