/**
 * How a route reaches its backend when it is not a Lambda proxy (API Gateway's
 * `IntegrationType` other than `AWS_PROXY`). A route without one is a Lambda proxy to its
 * `target`: the gateway's hot path, which never looks further.
 */
export type Integration =
  | LambdaIntegration
  | MockIntegration
  | HttpIntegration
  | HttpProxyIntegration
  | AwsServiceIntegration
  | UnemulatedIntegration;

/** The integrations that run no function of the app (the route has no `target`). */
export type BackendIntegration = Exclude<Integration, LambdaIntegration>;

/** What a non-proxy integration declares about mapping (request and response side). */
export interface Mapping {
  /** `Integration.TemplateSelectionExpression` (`${request.body.type}`, or a static key). */
  templateSelectionExpression?: string;
  /** `RequestTemplates`: selection key → VTL template. */
  requestTemplates: Record<string, string>;
  /** `PassthroughBehavior` (API Gateway's default `WHEN_NO_MATCH`). */
  passthroughBehavior: PassthroughBehavior;
  /** `RequestParameters`: `integration.request.header.x` → `route.request.header.y` / `context.x` / `'static'`. */
  requestParameters: Record<string, string>;
  /** The integration's `AWS::ApiGatewayV2::IntegrationResponse`s. */
  responses: IntegrationResponse[];
}

export type PassthroughBehavior = "WHEN_NO_MATCH" | "NEVER" | "WHEN_NO_TEMPLATES";

/** One `AWS::ApiGatewayV2::IntegrationResponse`. */
export interface IntegrationResponse {
  /** `$default`, or a pattern between slashes (`/4\d\d/`) matched against the selection value. */
  key: string;
  /** `IntegrationResponse.TemplateSelectionExpression`. */
  templateSelectionExpression?: string;
  /** `ResponseTemplates`: selection key → VTL template. */
  templates: Record<string, string>;
}

/** `AWS` to a Lambda function of the app (non-proxy): the route's `target` runs the mapped payload. */
export interface LambdaIntegration extends Mapping {
  kind: "aws-lambda";
}

/** `MOCK`: the request template's `statusCode` selects the integration response. */
export interface MockIntegration extends Mapping {
  kind: "mock";
}

/** `HTTP`: the mapped request goes to `url`; its status selects the integration response. */
export interface HttpIntegration extends Mapping {
  kind: "http";
  method: string;
  url: string;
}

/** `HTTP_PROXY`: the frame is forwarded to `url` as is; the response body is the answer. */
export interface HttpProxyIntegration {
  kind: "http-proxy";
  method: string;
  url: string;
  requestParameters: Record<string, string>;
}

/** `AWS` to a service other than Lambda (`arn:aws:apigateway:{region}:dynamodb:action/PutItem`). */
export interface AwsServiceIntegration extends Mapping {
  kind: "aws-service";
  service: string;
  /** The action (`PutItem`) of an `action/` URI. */
  action: string;
}

/**
 * An integration that cannot run here (a VPC link, a service we have no local twin of). The
 * route answers as AWS answers a failing integration; the app is served all the same.
 */
export interface UnemulatedIntegration {
  kind: "unemulated";
  /** The `IntegrationType` as declared. */
  type: string;
  /** Why, for the startup warning. */
  reason: string;
}

/**
 * An integration as `switchboard routes` and warnings name it: the AWS `IntegrationType`
 * and where it goes.
 *
 * @example
 * ```ts
 * integrationLabel({ kind: "http-proxy", method: "POST", url: "http://x/y", requestParameters: {} });
 * // "HTTP_PROXY POST http://x/y"
 * ```
 */
export function integrationLabel(integration: BackendIntegration): string {
  switch (integration.kind) {
    case "mock":
      return "MOCK";
    case "http":
      return `HTTP ${integration.method} ${integration.url}`;
    case "http-proxy":
      return `HTTP_PROXY ${integration.method} ${integration.url}`;
    case "aws-service":
      return `AWS ${integration.service} ${integration.action}`;
    case "unemulated":
      return `${integration.type} (not emulated: ${integration.reason})`;
  }
}
