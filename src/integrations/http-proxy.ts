import type { HttpProxyIntegration } from "../app/integration.js";
import { httpRequest, IntegrationTimeout } from "./http-request.js";
import type { IntegrationRunner } from "./integration-runner.js";
import { mapRequestParameters } from "./request-parameters.js";

/** Handshake headers that belong to the client's connection, not to the backend's request. */
const HOP_BY_HOP = /^(host|connection|upgrade|content-length|transfer-encoding|sec-websocket-.*)$/i;

/**
 * `HTTP_PROXY`: the frame goes to the backend as the request body, unchanged; the backend's
 * body comes back as is on a two-way route. On `$connect` the handshake's headers go along,
 * and the backend's status decides the handshake (as a Lambda proxy's `statusCode` does).
 */
export const httpProxyRunner: IntegrationRunner<HttpProxyIntegration> = {
  async run(integration, call) {
    const parameters = mapRequestParameters(integration.requestParameters, call.event, call.frame);
    if (call.event.requestContext.eventType === "CONNECT") {
      for (const [name, value] of Object.entries(call.event.headers ?? {})) {
        if (!HOP_BY_HOP.test(name) && parameters.headers[name] === undefined) {
          parameters.headers[name] = value;
        }
      }
    }
    try {
      const answer = await httpRequest(
        integration.method,
        integration.url,
        call.frame,
        parameters,
        call.timeoutMs,
      );
      return {
        kind: "ok",
        status: answer.status,
        body: answer.body === "" ? undefined : answer.body,
      };
    } catch (error) {
      return error instanceof IntegrationTimeout ? { kind: "timeout" } : { kind: "error", error };
    }
  },
};
