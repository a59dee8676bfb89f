import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

/** The real Redis the tests use (CI starts one on 127.0.0.1:6379). */
export const TEST_REDIS_URL = process.env.SWITCHBOARD_TEST_REDIS ?? "redis://127.0.0.1:6379";

/** A key prefix of this test run's own (`switchboard-test:<random>:<name>:`). */
export function testKeyPrefix(name: string): string {
  return `switchboard-test:${randomBytes(4).toString("hex")}:${name}:`;
}

/** Delete every key under a prefix (a test file's cleanup). */
export async function removeKeys(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    await redis.quit();
  }
}
