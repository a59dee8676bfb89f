import type { HttpIntegration } from "../app/integration.js";
import { httpRequest, IntegrationTimeout } from "./http-request.js";
import type { IntegrationRunner } from "./integration-runner.js";
import { mapRequest, mapResponse } from "./mapping.js";
import { mapRequestParameters } from "./request-parameters.js";

/**
 * `HTTP` (non-proxy): the mapped request goes to the backend; its status code selects the
 * integration response, whose template maps the backend's body for the route response.
 */
export const httpRunner: IntegrationRunner<HttpIntegration> = {
  async run(integration, call) {
    const request = mapRequest(integration, call.event, call.frame);
    if (!request.ok) return { kind: "error", error: new Error(request.reason) };
    const parameters = mapRequestParameters(integration.requestParameters, call.event, call.frame);
    try {
      const answer = await httpRequest(
        integration.method,
        integration.url,
        request.body,
        parameters,
        call.timeoutMs,
      );
      const body = mapResponse(integration, answer, String(answer.status), call.event, call.frame);
      return { kind: "ok", status: answer.status, body };
    } catch (error) {
      return error instanceof IntegrationTimeout ? { kind: "timeout" } : { kind: "error", error };
    }
  },
};
