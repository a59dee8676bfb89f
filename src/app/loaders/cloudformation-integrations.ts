import { describeValue, quote } from "../describe-value.js";
import type {
  BackendIntegration,
  IntegrationResponse,
  LambdaIntegration,
  Mapping,
  PassthroughBehavior,
} from "../integration.js";
import type { DocumentPath } from "../issue-location.js";
import { vtlSyntaxProblem } from "../vtl-syntax.js";
import { isRecord } from "./app-draft.js";
import type { SourceIssues } from "./source-issues.js";

/** What reading an integration needs of the template reader. */
export interface IntegrationSource {
  string(id: string, property: string): string | undefined;
  value(id: string, property: string): unknown;
  at(id: string, property?: string): DocumentPath;
  /** Whether a property is written at all (resolved or not). */
  has(id: string, property: string): boolean;
  /** The Lambda function of this template a URI names (an issue when there is none). */
  functionIn(id: string, property: string): string | undefined;
  /** The `AWS::ApiGatewayV2::IntegrationResponse`s of an integration. */
  responsesOf(integrationId: string): string[];
  /** Whether the template declares DynamoDB tables (the local DynamoDB then has them). */
  hasTables: boolean;
  issues: Pick<SourceIssues, "add" | "warn">;
}

/** A route's integration as read: a function of the template, or a backend. */
export type ReadIntegration =
  | {
      kind: "function";
      functionId: string;
      at: DocumentPath;
      timeoutMs?: number;
      integration?: LambdaIntegration;
    }
  | { kind: "backend"; timeoutMs?: number; integration: BackendIntegration };

const TYPES = ["AWS_PROXY", "AWS", "HTTP", "HTTP_PROXY", "MOCK"];
const PASSTHROUGH: PassthroughBehavior[] = ["WHEN_NO_MATCH", "NEVER", "WHEN_NO_TEMPLATES"];
const LAMBDA_URI = /:lambda:path\/[^/]+\/functions\//;
const SERVICE_URI = /^arn:[^:]+:apigateway:[^:]*:([^:/]+):(action|path)\/([^/?]+)/;

/**
 * Read an `AWS::ApiGatewayV2::Integration` (and its IntegrationResponses) into the App's
 * integration: every `IntegrationType` API Gateway has for WebSocket APIs. What cannot run
 * locally (a VPC link, an AWS service other than DynamoDB) becomes an `unemulated`
 * integration with a warning at its place: the rest of the app is served.
 */
export function readIntegration(
  id: string,
  source: IntegrationSource,
): ReadIntegration | undefined {
  const { issues } = source;
  const type = source.string(id, "IntegrationType");
  if (type === undefined || !TYPES.includes(type)) {
    issues.add(source.at(id, "IntegrationType"), `one of ${TYPES.join(", ")}`, describeValue(type));
    return undefined;
  }
  const timeout = source.value(id, "TimeoutInMillis");
  if (timeout !== undefined && (typeof timeout !== "number" || timeout < 50 || timeout > 29_000)) {
    issues.add(
      source.at(id, "TimeoutInMillis"),
      "a number of ms from 50 to 29000",
      describeValue(timeout),
    );
  }
  const timeoutMs = typeof timeout === "number" ? { timeoutMs: timeout } : {};
  const uri = source.string(id, "IntegrationUri");
  const method = source.string(id, "IntegrationMethod") ?? "POST";
  const unemulated = (reason: string, at: DocumentPath): ReadIntegration => {
    issues.warn(
      at,
      `${type} integration not emulated (${reason}): this route answers as a failing integration`,
    );
    return { kind: "backend", ...timeoutMs, integration: { kind: "unemulated", type, reason } };
  };
  if (source.string(id, "ConnectionType") === "VPC_LINK") {
    return unemulated("a VPC link reaches a private network", source.at(id, "ConnectionType"));
  }
  if (type === "AWS_PROXY") {
    const functionId = source.functionIn(id, "IntegrationUri");
    return functionId
      ? { kind: "function", functionId, at: source.at(id, "IntegrationUri"), ...timeoutMs }
      : undefined;
  }
  if (type === "HTTP_PROXY") {
    const url = httpUrl(id, uri, source);
    if (!url) return undefined;
    return {
      kind: "backend",
      ...timeoutMs,
      integration: { kind: "http-proxy", method, url, requestParameters: parameters(id, source) },
    };
  }
  const mapping = readMapping(id, source);
  if (type === "MOCK")
    return { kind: "backend", ...timeoutMs, integration: { kind: "mock", ...mapping } };
  if (type === "HTTP") {
    const url = httpUrl(id, uri, source);
    if (!url) return undefined;
    return {
      kind: "backend",
      ...timeoutMs,
      integration: { kind: "http", method, url, ...mapping },
    };
  }
  // AWS: a Lambda function of the template, or another service by its action.
  if (uri !== undefined && (LAMBDA_URI.test(uri) || /\u27ea/.test(uri))) {
    const functionId = source.functionIn(id, "IntegrationUri");
    if (!functionId) return undefined;
    return {
      kind: "function",
      functionId,
      at: source.at(id, "IntegrationUri"),
      ...timeoutMs,
      integration: { kind: "aws-lambda", ...mapping },
    };
  }
  const service = uri === undefined ? undefined : SERVICE_URI.exec(uri);
  if (!service) {
    issues.add(
      source.at(id, "IntegrationUri"),
      "an AWS service URI (arn:aws:apigateway:{region}:{service}:action/{Action}) or a Lambda function",
      describeValue(uri),
    );
    return undefined;
  }
  const [, name = "", style, action = ""] = service;
  if (name !== "dynamodb" || style !== "action") {
    return unemulated(
      `only DynamoDB actions run locally, not ${name} ${style}/${action}`,
      source.at(id, "IntegrationUri"),
    );
  }
  if (!source.hasTables) {
    issues.warn(
      source.at(id, "IntegrationUri"),
      `AWS dynamodb integration: the template declares no AWS::DynamoDB::Table, so there is no local table to reach; this route answers as a failing integration`,
    );
  }
  return {
    kind: "backend",
    ...timeoutMs,
    integration: { kind: "aws-service", service: name, action, ...mapping },
  };
}

function httpUrl(
  id: string,
  uri: string | undefined,
  source: IntegrationSource,
): string | undefined {
  try {
    const url = new URL(uri ?? "");
    if (url.protocol === "http:" || url.protocol === "https:") return url.toString();
  } catch {
    // reported below
  }
  source.issues.add(
    source.at(id, "IntegrationUri"),
    "an http:// or https:// URL",
    describeValue(uri),
  );
  return undefined;
}

/** `RequestParameters`: a map of strings (targets `integration.request.header.x` / `.querystring.x`). */
function parameters(id: string, source: IntegrationSource): Record<string, string> {
  return stringMap(id, "RequestParameters", source, (key, at) => {
    if (!/^integration\.request\.(header|querystring|path)\.[^.]+$/.test(key)) {
      source.issues.add(
        at,
        "integration.request.header.{name} or integration.request.querystring.{name}",
        quote(key),
      );
    }
  });
}

function stringMap(
  id: string,
  property: string,
  source: IntegrationSource,
  check?: (key: string, at: DocumentPath) => void,
): Record<string, string> {
  if (!source.has(id, property)) return {};
  const value = source.value(id, property);
  if (!isRecord(value)) {
    source.issues.add(source.at(id, property), "a map of strings", describeValue(value));
    return {};
  }
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    const at = [...source.at(id, property), key];
    if (typeof entry !== "string") {
      source.issues.add(at, "a string", describeValue(entry));
      continue;
    }
    check?.(key, at);
    out[key] = entry;
  }
  return out;
}

/** A map of VTL templates, each checked to parse. */
function templates(
  id: string,
  property: string,
  source: IntegrationSource,
): Record<string, string> {
  const map = stringMap(id, property, source);
  for (const [key, template] of Object.entries(map)) {
    const problem = vtlSyntaxProblem(template);
    if (problem)
      source.issues.add([...source.at(id, property), key], "a VTL template that parses", problem);
  }
  return map;
}

function readMapping(id: string, source: IntegrationSource): Mapping {
  const passthrough = source.string(id, "PassthroughBehavior") ?? "WHEN_NO_MATCH";
  if (!PASSTHROUGH.includes(passthrough as PassthroughBehavior)) {
    source.issues.add(
      source.at(id, "PassthroughBehavior"),
      PASSTHROUGH.join(", "),
      quote(passthrough),
    );
  }
  const tse = source.string(id, "TemplateSelectionExpression");
  const responses: IntegrationResponse[] = source.responsesOf(id).map((responseId) => {
    const key = source.string(responseId, "IntegrationResponseKey") ?? "";
    if (key !== "$default" && !/^\/.+\/$/.test(key)) {
      source.issues.add(
        source.at(responseId, "IntegrationResponseKey"),
        "$default or a pattern between slashes (/2\\d\\d/)",
        describeValue(key),
      );
    }
    const responseTse = source.string(responseId, "TemplateSelectionExpression");
    return {
      key,
      ...(responseTse !== undefined ? { templateSelectionExpression: responseTse } : {}),
      templates: templates(responseId, "ResponseTemplates", source),
    };
  });
  return {
    ...(tse !== undefined ? { templateSelectionExpression: tse } : {}),
    requestTemplates: templates(id, "RequestTemplates", source),
    passthroughBehavior: passthrough as PassthroughBehavior,
    requestParameters: parameters(id, source),
    responses,
  };
}
