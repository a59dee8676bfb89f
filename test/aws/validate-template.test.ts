// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings, not JS templates
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../src/app/model.js";
import { type CfnTemplate, compileTemplate } from "../../src/aws/compile-template.js";
import {
  checkTemplate,
  TemplateValidationError,
  validateTemplate,
} from "../../src/aws/validate-template.js";

/** A valid compiled template to break in each test. */
function base(): CfnTemplate {
  return compileTemplate(
    {
      name: "demo",
      stage: "prod",
      root: "/app",
      source: { file: "/app/switchboard.yaml", format: "switchboard-yaml" },
      routeSelectionExpression: "$request.body.action",
      routes: [
        {
          key: "$default",
          target: { file: "/app/h.mjs", export: "handler" },
          routeResponse: true,
          timeoutMs: 29_000,
          memoryMb: 512,
          environment: {},
        },
      ],
      connections: { ttlSeconds: 60, indexes: ["room"] },
      environment: {},
      limits: { ...DEFAULT_LIMITS },
    },
    { Default: "Default-x.zip" },
  );
}

function messages(template: unknown): string[] {
  return checkTemplate(template).map((issue) => `${issue.path}: ${issue.message}`);
}

describe("checkTemplate (CloudFormation resource specification from @aws-cdk/aws-service-spec)", () => {
  it("accepts the compiled template", () => {
    expect(messages(base())).toEqual([]);
    expect(() => validateTemplate(base())).not.toThrow();
  });

  it("rejects an unknown property, suggesting the right one", () => {
    const t = base();
    const route = t.Resources.DefaultRoute!.Properties!;
    route.RouteKy = route.RouteKey;
    delete route.RouteKey;
    expect(messages(t)).toEqual([
      "Resources.DefaultRoute.Properties: missing required property RouteKey of AWS::ApiGatewayV2::Route",
      "Resources.DefaultRoute.Properties.RouteKy: unknown property of AWS::ApiGatewayV2::Route (did you mean RouteKey?)",
    ]);
  });

  it("rejects a missing required property", () => {
    const t = base();
    delete t.Resources.DefaultFunction!.Properties!.Role;
    delete t.Resources.DefaultRouteResponse!.Properties!.RouteResponseKey;
    expect(messages(t)).toEqual([
      "Resources.DefaultFunction.Properties: missing required property Role of AWS::Lambda::Function",
      "Resources.DefaultRouteResponse.Properties: missing required property RouteResponseKey of AWS::ApiGatewayV2::RouteResponse",
    ]);
  });

  it("rejects values of the wrong type, nested ones included", () => {
    const t = base();
    t.Resources.DefaultFunction!.Properties!.MemorySize = "big";
    t.Resources.DefaultFunction!.Properties!.Architectures = "arm64";
    (
      t.Resources.ConnectionTable!.Properties!.TimeToLiveSpecification as Record<string, unknown>
    ).Enabled = "yes";
    (
      t.Resources.ConnectionTable!.Properties!.KeySchema as Array<Record<string, unknown>>
    )[0]!.KeyTyp = "HASH";
    (t.Resources.DefaultFunction!.Properties!.Environment as Record<string, unknown>).Variabls = {};
    expect(messages(t)).toEqual(
      expect.arrayContaining([
        'Resources.DefaultFunction.Properties.MemorySize: expected an integer, found string "big"',
        'Resources.DefaultFunction.Properties.Architectures: expected a list of strings, found string "arm64"',
        "Resources.DefaultFunction.Properties.Environment.Variabls: unknown property of Environment (did you mean Variables?)",
        'Resources.ConnectionTable.Properties.TimeToLiveSpecification.Enabled: expected a boolean, found string "yes"',
        "Resources.ConnectionTable.Properties.KeySchema[0].KeyTyp: unknown property of KeySchema (did you mean KeyType?)",
      ]),
    );
  });

  it("rejects unknown resource types and resource attributes", () => {
    const t = base() as unknown as { Resources: Record<string, Record<string, unknown>> };
    t.Resources.Extra = { Type: "AWS::ApiGatewayV2::Rout", Properties: {} };
    t.Resources.DefaultRoute!.DependOn = ["WebSocketApi"];
    expect(messages(t)).toEqual([
      "Resources.DefaultRoute.DependOn: unknown resource attribute (did you mean DependsOn?)",
      "Resources.Extra.Type: unknown resource type AWS::ApiGatewayV2::Rout",
    ]);
  });

  it("checks intrinsic functions: Ref, GetAtt and Sub targets must exist; list results only where lists go", () => {
    const t = base();
    const fn = t.Resources.DefaultFunction!.Properties!;
    fn.Role = { "Fn::GetAtt": ["DefaultFunctionRole", "Arnn"] };
    fn.Handler = { "Fn::Split": [",", "a,b"] };
    (fn.Code as Record<string, unknown>).S3Bucket = { Ref: "Bucket" };
    t.Resources.DefaultPermission!.Properties!.SourceArn = {
      "Fn::Sub": "arn:${AWS::Partition}:${Api}/*",
    };
    t.Resources.StageX = {
      Type: "AWS::ApiGatewayV2::Stage",
      DependsOn: ["Nope"],
      Properties: { ApiId: { Ref: "WebSocketApi" }, StageName: "x" },
    };
    expect(messages(t)).toEqual([
      'Resources.DefaultFunction.Properties.Code.S3Bucket.Ref: no parameter or resource "Bucket"',
      "Resources.DefaultFunction.Properties.Handler: Fn::Split returns a list, expected a string",
      "Resources.DefaultFunction.Properties.Role.Fn::GetAtt: AWS::IAM::Role has no attribute Arnn (did you mean Arn?)",
      "Resources.DefaultPermission.Properties.SourceArn.Fn::Sub: ${Api} names no parameter, resource or pseudo parameter",
      'Resources.StageX.DependsOn: no resource "Nope"',
    ]);
  });

  it("throws a TemplateValidationError listing every problem", () => {
    const t = base();
    t.Resources.DefaultFunction!.Properties!.Timeout = 1.5;
    t.Resources.DefaultFunction!.Properties!.Runtim = "nodejs22.x";
    const error = (() => {
      try {
        validateTemplate(t);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TemplateValidationError);
    expect((error as TemplateValidationError).code).toBe("SB_ERR_TEMPLATE");
    expect((error as Error).message).toMatch(/^2 problems in the CloudFormation template:/);
    expect((error as Error).message).toContain(
      "Resources.DefaultFunction.Properties.Timeout: expected an integer, found number 1.5",
    );
    expect((error as Error).message).toContain(
      "Resources.DefaultFunction.Properties.Runtim: unknown property of AWS::Lambda::Function (did you mean Runtime?)",
    );
  });
});
