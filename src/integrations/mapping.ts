import type { IntegrationResponse, Mapping } from "../app/integration.js";
import { compileRouteSelection } from "../app/route-selection.js";
import type { WebSocketEvent } from "../runtime/events.js";
import { renderTemplate, vtlVariables } from "./vtl-context.js";

/** What the backend answered, before the integration response maps it. */
export interface BackendAnswer {
  /** HTTP status (MOCK: the request template's `statusCode`; Lambda: 200). */
  status: number;
  body: string;
  headers: Record<string, string>;
  /** A Lambda function's `errorMessage` when it failed (the Lambda selection value). */
  errorMessage?: string;
}

/** The integration request body, or why there is none (the integration then fails). */
export type MappedRequest = { ok: true; body: string } | { ok: false; reason: string };

/**
 * Evaluate a template selection expression (`${request.body.type}`, static text, `\$default`)
 * against the frame, with `${integration.response.*}` filled in on the response side.
 */
export function selectTemplateKey(
  expression: string | undefined,
  frame: string,
  answer?: BackendAnswer,
): string {
  if (expression === undefined) return "$default";
  let text = expression;
  if (answer) {
    text = text.replace(
      /\$\{?integration\.response\.(statuscode|header\.([A-Za-z0-9_-]+)|multivalueheader\.([A-Za-z0-9_-]+))\}?/g,
      (_all, what: string, header?: string, multi?: string) => {
        if (what === "statuscode") return String(answer.status);
        const name = (header ?? multi ?? "").toLowerCase();
        const found = Object.entries(answer.headers).find(([h]) => h.toLowerCase() === name);
        return found?.[1] ?? "";
      },
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(frame);
  } catch {
    body = undefined;
  }
  try {
    return compileRouteSelection(text)(
      body !== null && typeof body === "object" ? body : undefined,
    );
  } catch {
    return text;
  }
}

/**
 * The integration request: the template the selection expression picks (else `$default`),
 * rendered over the frame; without one, `PassthroughBehavior` decides (`WHEN_NO_MATCH`: the
 * frame as is; `WHEN_NO_TEMPLATES`: as is only when there are no templates; `NEVER`: refused).
 */
export function mapRequest(mapping: Mapping, event: WebSocketEvent, frame: string): MappedRequest {
  const templates = mapping.requestTemplates;
  const key = selectTemplateKey(mapping.templateSelectionExpression, frame);
  const template = Object.hasOwn(templates, key) ? templates[key] : templates.$default;
  if (template === undefined) {
    const none = Object.keys(templates).length === 0;
    if (
      mapping.passthroughBehavior === "WHEN_NO_MATCH" ||
      (mapping.passthroughBehavior === "WHEN_NO_TEMPLATES" && none)
    ) {
      return { ok: true, body: frame };
    }
    return {
      ok: false,
      reason: `no request template for ${JSON.stringify(key)} and PassthroughBehavior ${mapping.passthroughBehavior}`,
    };
  }
  return { ok: true, body: renderTemplate(template, vtlVariables(frame, event)) };
}

/**
 * The integration response for an answer: for a Lambda function the selection value is its
 * `errorMessage`, for HTTP and MOCK the status code (API Gateway's fixed
 * `IntegrationResponseSelectionExpression`s). Keys between slashes are patterns matched
 * whole; `$default` takes what no other key matches.
 */
export function selectIntegrationResponse(
  responses: readonly IntegrationResponse[],
  value: string | undefined,
): IntegrationResponse | undefined {
  if (value !== undefined && value !== "") {
    for (const response of responses) {
      const { key } = response;
      if (key === "$default") continue;
      if (key.length > 1 && key.startsWith("/") && key.endsWith("/")) {
        let pattern: RegExp;
        try {
          pattern = new RegExp(`^(?:${key.slice(1, -1)})$`, "s");
        } catch {
          continue;
        }
        if (pattern.test(value)) return response;
      } else if (key === value) {
        return response;
      }
    }
  }
  return responses.find((response) => response.key === "$default");
}

/**
 * What the route response sends back: the selected integration response's template (by its
 * own selection expression, else `$default`) rendered over the backend's answer, or the
 * answer as is when it has no template. No integration response: nothing to send.
 */
export function mapResponse(
  mapping: Mapping,
  answer: BackendAnswer,
  selectionValue: string | undefined,
  event: WebSocketEvent,
  frame: string,
): string | undefined {
  const response = selectIntegrationResponse(mapping.responses, selectionValue);
  if (!response) return undefined;
  const key = selectTemplateKey(response.templateSelectionExpression, frame, answer);
  const templates = response.templates;
  const template = Object.hasOwn(templates, key) ? templates[key] : templates.$default;
  if (template === undefined) return answer.body;
  return renderTemplate(template, vtlVariables(answer.body, event));
}
