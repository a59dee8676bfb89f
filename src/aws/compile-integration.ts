import type { Integration, Mapping } from "../app/integration.js";
import { displayFile } from "../app/issue-location.js";
import type { Route } from "../app/model.js";
import { ConfigError } from "../errors.js";
import type { CfnResource } from "./compile-template.js";

/** The resources one route's integration compiles to (besides the Route itself). */
export interface CompiledIntegration {
  /** The `AWS::ApiGatewayV2::Integration`'s properties (without `ApiId`). */
  properties: Record<string, unknown>;
  /** `AWS::ApiGatewayV2::IntegrationResponse`s by logical id (without `ApiId`, `IntegrationId`). */
  responses: Record<string, Record<string, unknown>>;
  /** Other resources it needs (the role API Gateway assumes for an AWS service). */
  extra: Record<string, CfnResource>;
}

/**
 * A route's integration as CloudFormation: `AWS_PROXY` for a Lambda proxy (today's), `AWS`
 * with its templates for a non-proxy Lambda, `MOCK`, `HTTP`, `HTTP_PROXY`, and `AWS` to a
 * DynamoDB action with a role API Gateway assumes. An integration Switchboard does not emulate
 * (a VPC link) carries too little to deploy: the build refuses it by name.
 */
export function compileIntegration(
  route: Route,
  name: string,
  lambdaUri: ((functionId: string) => unknown) & {},
  functionId: string | undefined,
  sourceFile: string,
): CompiledIntegration {
  const timeout = { TimeoutInMillis: Math.min(29_000, Math.max(50, route.timeoutMs)) };
  const integration: Integration | undefined = route.integration;
  if (!integration) {
    return {
      properties: {
        IntegrationType: "AWS_PROXY",
        IntegrationMethod: "POST",
        IntegrationUri: lambdaUri(functionId ?? ""),
        ...timeout,
      },
      responses: {},
      extra: {},
    };
  }
  switch (integration.kind) {
    case "aws-lambda":
      return mapped(integration, name, {
        IntegrationType: "AWS",
        IntegrationMethod: "POST",
        IntegrationUri: lambdaUri(functionId ?? ""),
        ...timeout,
      });
    case "mock":
      return mapped(integration, name, { IntegrationType: "MOCK", ...timeout });
    case "http":
      return mapped(integration, name, {
        IntegrationType: "HTTP",
        IntegrationMethod: integration.method,
        IntegrationUri: integration.url,
        ...timeout,
      });
    case "http-proxy":
      return {
        properties: {
          IntegrationType: "HTTP_PROXY",
          IntegrationMethod: integration.method,
          IntegrationUri: integration.url,
          ...(Object.keys(integration.requestParameters).length > 0
            ? { RequestParameters: { ...integration.requestParameters } }
            : {}),
          ...timeout,
        },
        responses: {},
        extra: {},
      };
    case "aws-service": {
      const role = `${name}IntegrationRole`;
      const compiled = mapped(integration, name, {
        IntegrationType: "AWS",
        IntegrationMethod: "POST",
        IntegrationUri: {
          "Fn::Sub": `arn:\${AWS::Partition}:apigateway:\${AWS::Region}:${integration.service}:action/${integration.action}`,
        },
        CredentialsArn: { "Fn::GetAtt": [role, "Arn"] },
        ...timeout,
      });
      compiled.extra[role] = {
        Type: "AWS::IAM::Role",
        Properties: {
          AssumeRolePolicyDocument: assumeRolePolicy("apigateway.amazonaws.com"),
          Policies: [
            {
              PolicyName: `${name}-${integration.action}`,
              PolicyDocument: {
                Version: "2012-10-17",
                Statement: [
                  {
                    Effect: "Allow",
                    Action: `${integration.service}:${integration.action}`,
                    Resource: {
                      "Fn::Sub": `arn:\${AWS::Partition}:${integration.service}:\${AWS::Region}:\${AWS::AccountId}:table/*`,
                    },
                  },
                ],
              },
            },
          ],
        },
      };
      return compiled;
    }
    case "unemulated":
      throw new ConfigError([
        {
          file: displayFile(sourceFile),
          path: `routes.${route.key}`,
          expected: "an integration Switchboard can build (AWS_PROXY, AWS, HTTP, HTTP_PROXY, MOCK)",
          found: `${integration.type} (${integration.reason})`,
        },
      ]);
  }
}

/** A non-proxy integration: its templates, passthrough, parameters and integration responses. */
function mapped(
  mapping: Mapping,
  name: string,
  base: Record<string, unknown>,
): CompiledIntegration {
  const properties: Record<string, unknown> = {
    ...base,
    PassthroughBehavior: mapping.passthroughBehavior,
    ...(mapping.templateSelectionExpression !== undefined
      ? { TemplateSelectionExpression: mapping.templateSelectionExpression }
      : {}),
    ...(Object.keys(mapping.requestTemplates).length > 0
      ? { RequestTemplates: { ...mapping.requestTemplates } }
      : {}),
    ...(Object.keys(mapping.requestParameters).length > 0
      ? { RequestParameters: { ...mapping.requestParameters } }
      : {}),
  };
  const responses: Record<string, Record<string, unknown>> = {};
  mapping.responses.forEach((response, index) => {
    responses[`${name}IntegrationResponse${index === 0 ? "" : index + 1}`] = {
      IntegrationResponseKey: response.key,
      ...(response.templateSelectionExpression !== undefined
        ? { TemplateSelectionExpression: response.templateSelectionExpression }
        : {}),
      ...(Object.keys(response.templates).length > 0
        ? { ResponseTemplates: { ...response.templates } }
        : {}),
    };
  });
  return { properties, responses, extra: {} };
}

/** The trust policy of a role a service assumes (`lambda.amazonaws.com`, `apigateway.amazonaws.com`). */
export function assumeRolePolicy(service: string): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  };
}
