import { randomBytes } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const POOL_SIZE = 15 * 1024;
let pool = randomBytes(POOL_SIZE);
let offset = POOL_SIZE;

/**
 * An AWS-style id (`connectionId`, `requestId`, `messageId`): 16 characters, the last `=`,
 * e.g. `BFaT_fALIAMCKug=`. Drawn from a pooled random buffer: one syscall per thousand ids.
 */
export function newId(): string {
  if (offset + 15 > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  let id = "";
  for (let i = 0; i < 15; i++) id += ALPHABET[(pool[offset + i] as number) & 63];
  offset += 15;
  return `${id}=`;
}

/** `Root=1-<epoch hex>-<24 hex>`, as API Gateway puts in `X-Amzn-Trace-Id`. */
export function traceId(now: number): string {
  return `Root=1-${Math.floor(now / 1000).toString(16)}-${randomBytes(12).toString("hex")}`;
}
