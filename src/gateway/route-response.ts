/** The HTTP-style status of a Lambda proxy result (`{ statusCode }`), if it has one. */
export function resultStatus(result: unknown): number | undefined {
  if (result && typeof result === "object" && "statusCode" in result) {
    const status = Number((result as { statusCode: unknown }).statusCode);
    return Number.isFinite(status) ? status : undefined;
  }
  return undefined;
}

/** What a two-way route sends back: the `body` of a proxy result, a string as is, else JSON. */
export function routeResponseBody(result: unknown): string | undefined {
  if (result === undefined || result === null) return undefined;
  if (typeof result === "string") return result || undefined;
  if (typeof result === "object" && ("statusCode" in result || "body" in result)) {
    const body = (result as { body?: unknown }).body;
    if (body === undefined || body === null || body === "") return undefined;
    return typeof body === "string" ? body : JSON.stringify(body);
  }
  return JSON.stringify(result);
}
