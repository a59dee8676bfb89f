import type { WebSocketEvent } from "../runtime/events.js";
import { evaluateJsonPath } from "./json-path.js";

/** The headers and query string an integration request carries after `RequestParameters`. */
export interface MappedParameters {
  headers: Record<string, string>;
  querystring: Record<string, string>;
}

/**
 * Apply `RequestParameters` (`integration.request.header.x` or `.querystring.x` ← `'static'`,
 * `context.connectionId`, `route.request.header.y`, `route.request.querystring.y`,
 * `route.request.body.path`, `stageVariables.z`). A source with no value maps nothing, as on
 * AWS. Parameters other than headers and query strings (`integration.request.path`) are ignored
 * (WebSocket integrations have no path template to put them in).
 */
export function mapRequestParameters(
  parameters: Record<string, string>,
  event: WebSocketEvent,
  frame: string,
): MappedParameters {
  const mapped: MappedParameters = { headers: {}, querystring: {} };
  for (const [target, source] of Object.entries(parameters)) {
    const value = parameterValue(source, event, frame);
    if (value === undefined) continue;
    const header = /^integration\.request\.header\.(.+)$/.exec(target)?.[1];
    if (header) mapped.headers[header] = value;
    const query = /^integration\.request\.querystring\.(.+)$/.exec(target)?.[1];
    if (query) mapped.querystring[query] = value;
  }
  return mapped;
}

function parameterValue(source: string, event: WebSocketEvent, frame: string): string | undefined {
  const literal = /^'(.*)'$/s.exec(source);
  if (literal) return literal[1];
  const rc = event.requestContext as unknown as Record<string, unknown>;
  const context = /^context\.(.+)$/.exec(source)?.[1];
  if (context) {
    let value: unknown = rc;
    for (const part of context.split(".")) {
      value =
        value && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
    }
    return value === undefined || value === null ? undefined : String(value);
  }
  const header = /^route\.request\.header\.(.+)$/.exec(source)?.[1];
  if (header) {
    const lower = header.toLowerCase();
    return Object.entries(event.headers ?? {}).find(([h]) => h.toLowerCase() === lower)?.[1];
  }
  const query = /^route\.request\.querystring\.(.+)$/.exec(source)?.[1];
  if (query) return event.queryStringParameters?.[query];
  const body = /^route\.request\.body\.(.+)$/.exec(source)?.[1];
  if (body) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(frame);
    } catch {
      return undefined;
    }
    const value = evaluateJsonPath(parsed, `$.${body}`);
    if (value === undefined || value === null) return undefined;
    return typeof value === "string" ? value : JSON.stringify(value);
  }
  const stage = /^stageVariables\.(.+)$/.exec(source)?.[1];
  if (stage) return event.stageVariables?.[stage];
  return undefined;
}
