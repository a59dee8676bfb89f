/**
 * Poll `probe` every 10 ms until it gives a value (not `undefined`), and return that value;
 * throw when `timeoutMs` passes first. For effects that land asynchronously (a row written,
 * a disconnect noticed).
 *
 * @example
 * ```ts
 * const id = await eventually(async () => (await client.ask<string[]>({ action: "ids" }))[0]);
 * ```
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 3000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
