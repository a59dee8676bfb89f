const REJECT_BRAND = Symbol.for("switchboard.reject");

/**
 * Throw from `$connect` (or an authorizer-less handshake) to refuse the connection with an HTTP
 * status, as returning `{ statusCode }` does.
 *
 * @example
 * ```ts
 * export const connect = websocketHandler(async (_event, ctx) => {
 *   if (!ctx.queryStringParameters?.user) throw new Reject(401, "user required");
 * });
 * ```
 */
export class Reject extends Error {
  readonly statusCode: number;
  readonly body: string | undefined;
  constructor(statusCode: number, body?: string) {
    super(`Rejected with ${statusCode}${body ? `: ${body}` : ""}`);
    this.name = "Reject";
    this.statusCode = statusCode;
    this.body = body;
    Object.defineProperty(this, REJECT_BRAND, { value: true });
  }

  /** Works across copies of this package (a brand, not `instanceof`). */
  static is(error: unknown): error is Reject {
    return (
      typeof error === "object" &&
      error !== null &&
      (error as Record<symbol, unknown>)[REJECT_BRAND] === true
    );
  }
}
