import type { MockIntegration } from "../app/integration.js";
import type { IntegrationRunner } from "./integration-runner.js";
import { mapRequest, mapResponse } from "./mapping.js";

/**
 * `MOCK`: no backend. The rendered request template's `statusCode` is the status the
 * integration responses are selected by (200 when it names none); the response body is empty,
 * so what the client gets comes from the integration response's template.
 */
export const mockRunner: IntegrationRunner<MockIntegration> = {
  async run(integration, call) {
    const request = mapRequest(integration, call.event, call.frame);
    if (!request.ok) return { kind: "error", error: new Error(request.reason) };
    let status = 200;
    try {
      const declared = (JSON.parse(request.body) as { statusCode?: unknown } | null)?.statusCode;
      if (declared !== undefined) status = Number(declared);
    } catch {
      // Not JSON: no statusCode, the default stands.
    }
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      return { kind: "error", error: new Error(`MOCK statusCode ${status} is not an HTTP status`) };
    }
    const answer = { status, body: "", headers: {} };
    const body = mapResponse(integration, answer, String(status), call.event, call.frame);
    return { kind: "ok", status, body };
  },
};
