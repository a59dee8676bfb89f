import type { MappedParameters } from "./request-parameters.js";

/**
 * The most of a backend's answer we read: API Gateway's integration payload limit for
 * WebSocket APIs is the 128 KiB message limit; what is bigger could not be sent back anyway.
 */
export const MAX_BACKEND_BYTES = 128 * 1024;

/** A backend's answer, read within bounds. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Thrown when the backend did not answer within the integration timeout. */
export class IntegrationTimeout extends Error {}

/**
 * One HTTP request to an integration's backend, within the integration timeout and reading
 * at most {@link MAX_BACKEND_BYTES} of its answer. Rejects on network errors, a timeout
 * ({@link IntegrationTimeout}) or an answer over the bound.
 */
export async function httpRequest(
  method: string,
  url: string,
  body: string,
  parameters: MappedParameters,
  timeoutMs: number,
): Promise<HttpAnswer> {
  const target = new URL(url);
  for (const [name, value] of Object.entries(parameters.querystring)) {
    target.searchParams.set(name, value);
  }
  const headers: Record<string, string> = { ...parameters.headers };
  if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
    headers["Content-Type"] = "application/json";
  }
  const withBody = method !== "GET" && method !== "HEAD";
  let response: Response;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    response = await fetch(target, {
      method,
      headers,
      ...(withBody ? { body } : {}),
      redirect: "manual",
      signal,
    });
  } catch (error) {
    if (signal.aborted)
      throw new IntegrationTimeout(`no answer from ${target.origin} in ${timeoutMs} ms`);
    throw error;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > MAX_BACKEND_BYTES) {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`backend answer over ${MAX_BACKEND_BYTES} bytes`);
      }
      chunks.push(Buffer.from(chunk));
    }
  } catch (error) {
    if (signal.aborted)
      throw new IntegrationTimeout(`answer from ${target.origin} not read in ${timeoutMs} ms`);
    throw error;
  }
  const answerHeaders: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    answerHeaders[name] = value;
  });
  return {
    status: response.status,
    headers: answerHeaders,
    body: Buffer.concat(chunks).toString("utf8"),
  };
}
