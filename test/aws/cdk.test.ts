import path from "node:path";
import { fileURLToPath } from "node:url";
import { App, Duration, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Certificate } from "aws-cdk-lib/aws-certificatemanager";
import { Code, Function as LambdaFunction, Runtime } from "aws-cdk-lib/aws-lambda";
import { HostedZone } from "aws-cdk-lib/aws-route53";
import * as esbuild from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { SwitchboardWebSocket } from "../../src/aws/cdk.js";
import { CHAT_EXAMPLE, repoScratchDir } from "../helpers/repo-paths.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
// Synthesized assemblies go here (CDK's default is a new folder in the OS temp dir per App).
const OUT = path.join(ROOT, "test", ".tmp", `cdk-${process.pid}-${Date.now().toString(36)}`);
let apps = 0;
const newApp = () => new App({ outdir: path.join(OUT, String(++apps)) });
afterAll(async () => {
  const { rm } = await import("node:fs/promises");
  await rm(OUT, { recursive: true, force: true });
});

function fn(stack: Stack, id: string): LambdaFunction {
  return new LambdaFunction(stack, id, {
    runtime: Runtime.NODEJS_22_X,
    handler: "index.handler",
    code: Code.fromInline("exports.handler = async () => ({ statusCode: 200 });"),
  });
}

/** The chat example's shape, as CDK code. */
function chatStack() {
  const stack = new Stack(newApp(), "ChatStack", {
    env: { account: "123456789012", region: "eu-west-1" },
  });
  const connect = fn(stack, "ConnectFn");
  const disconnect = fn(stack, "DisconnectFn");
  const send = fn(stack, "SendFn");
  const whoami = fn(stack, "WhoamiFn");
  const fallback = fn(stack, "DefaultFn");
  const auth = fn(stack, "AuthFn");
  const zone = HostedZone.fromHostedZoneAttributes(stack, "Zone", {
    hostedZoneId: "Z123",
    zoneName: "example.com",
  });
  const ws = new SwitchboardWebSocket(stack, "Chat", {
    name: "chat-dev",
    connect,
    disconnect,
    default: fallback,
    routes: { send, whoami },
    twoWay: ["whoami"],
    connectionTable: { ttl: Duration.hours(2), indexes: ["room", "user"] },
    authorizer: { handler: auth, identitySource: ["route.request.querystring.token"] },
    host: { name: "ws.example.com", hostedZone: zone },
  });
  return { stack, ws, template: Template.fromStack(stack) };
}

describe("SwitchboardWebSocket (CDK construct, synthesized and checked with aws-cdk-lib/assertions)", () => {
  it("creates the resources of the compiled template: api, routes, integrations, scoped permissions, route responses, authorizer, stage", () => {
    const { template } = chatStack();
    template.hasResourceProperties("AWS::ApiGatewayV2::Api", {
      Name: "chat-dev",
      ProtocolType: "WEBSOCKET",
      RouteSelectionExpression: "$request.body.action",
    });
    template.resourceCountIs("AWS::ApiGatewayV2::Route", 5);
    template.resourceCountIs("AWS::ApiGatewayV2::Integration", 5);
    template.resourceCountIs("AWS::ApiGatewayV2::RouteResponse", 1);
    template.resourceCountIs("AWS::ApiGatewayV2::Deployment", 1);
    template.resourceCountIs("AWS::ApiGatewayV2::Authorizer", 1);
    // 5 routes + the authorizer.
    template.resourceCountIs("AWS::Lambda::Permission", 6);
    for (const key of ["$disconnect", "send", "$default"]) {
      template.hasResourceProperties("AWS::ApiGatewayV2::Route", {
        RouteKey: key,
        AuthorizationType: "NONE",
        Target: Match.objectLike({ "Fn::Join": Match.anyValue() }),
      });
    }
    template.hasResourceProperties("AWS::ApiGatewayV2::Route", {
      RouteKey: "$connect",
      AuthorizationType: "CUSTOM",
      AuthorizerId: { Ref: Match.stringLikeRegexp("^ChatAuthorizer") },
    });
    template.hasResourceProperties("AWS::ApiGatewayV2::Route", {
      RouteKey: "whoami",
      RouteResponseSelectionExpression: "$default",
    });
    template.hasResourceProperties("AWS::ApiGatewayV2::RouteResponse", {
      RouteResponseKey: "$default",
      RouteId: { Ref: Match.stringLikeRegexp("^ChatWhoamiRoute") },
    });
    template.hasResourceProperties("AWS::ApiGatewayV2::Integration", {
      IntegrationType: "AWS_PROXY",
      IntegrationMethod: "POST",
      TimeoutInMillis: 29000,
    });
    template.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "REQUEST",
      IdentitySource: ["route.request.querystring.token"],
    });
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "dev",
      DeploymentId: { Ref: Match.stringLikeRegexp("^ChatDeployment[0-9A-F]{10}") },
    });
    // Each permission is scoped to its route: .../<api>/<stage>/<routeKey>.
    template.hasResourceProperties("AWS::Lambda::Permission", {
      Action: "lambda:InvokeFunction",
      Principal: "apigateway.amazonaws.com",
      FunctionName: { "Fn::GetAtt": [Match.stringLikeRegexp("^SendFn"), "Arn"] },
      SourceArn: { "Fn::Join": ["", Match.arrayWith([Match.stringLikeRegexp("/dev/send$")])] },
    });
    const deployments = template.findResources("AWS::ApiGatewayV2::Deployment");
    const deployment = Object.values(deployments)[0] as { DependsOn: string[] };
    expect(deployment.DependsOn).toHaveLength(6);
  });

  it("grants ManageConnections and the connection table, and sets the runtime's environment", () => {
    const { template, ws } = chatStack();
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: "connectionId", KeyType: "HASH" }],
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: "room-index",
          KeySchema: [{ AttributeName: "room", KeyType: "HASH" }],
        }),
        Match.objectLike({
          IndexName: "user-index",
          KeySchema: [{ AttributeName: "user", KeyType: "HASH" }],
        }),
      ],
    });
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: "execute-api:ManageConnections",
            Resource: {
              "Fn::Join": [
                "",
                Match.arrayWith([Match.stringLikeRegexp("/dev/\\*/@connections/\\*$")]),
              ],
            },
          }),
          Match.objectLike({
            Action: Match.arrayWith(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]),
          }),
        ]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp("^SendFnServiceRole") }],
    });
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: {
        Variables: {
          SWITCHBOARD_CONNECTION_TABLE: { Ref: Match.stringLikeRegexp("^ChatConnectionTable") },
          SWITCHBOARD_CONNECTION_TTL: "7200",
          SWITCHBOARD_CONNECTION_INDEXES: "room,user",
          SWITCHBOARD_MANAGEMENT_ENDPOINT: Match.anyValue(),
        },
      },
    });
    expect(ws.functions).toHaveLength(5);
    expect(Object.keys(ws.routes)).toEqual([
      "$connect",
      "$disconnect",
      "send",
      "whoami",
      "$default",
    ]);
  });

  it("serves a custom domain: a DNS-validated certificate, DomainName, ApiMapping and alias record", () => {
    const { template } = chatStack();
    template.hasResourceProperties("AWS::CertificateManager::Certificate", {
      DomainName: "ws.example.com",
      ValidationMethod: "DNS",
      DomainValidationOptions: [{ DomainName: "ws.example.com", HostedZoneId: "Z123" }],
    });
    template.hasResourceProperties("AWS::ApiGatewayV2::DomainName", {
      DomainName: "ws.example.com",
      DomainNameConfigurations: [
        Match.objectLike({ EndpointType: "REGIONAL", SecurityPolicy: "TLS_1_2" }),
      ],
    });
    template.resourceCountIs("AWS::ApiGatewayV2::ApiMapping", 1);
    template.hasResourceProperties("AWS::Route53::RecordSet", {
      Name: "ws.example.com",
      Type: "A",
      HostedZoneId: "Z123",
      AliasTarget: {
        DNSName: {
          "Fn::GetAtt": [Match.stringLikeRegexp("^ChatDomainName"), "RegionalDomainName"],
        },
        HostedZoneId: {
          "Fn::GetAtt": [Match.stringLikeRegexp("^ChatDomainName"), "RegionalHostedZoneId"],
        },
      },
    });
  });

  it("takes one handler for every lifecycle route (JaypieWebSocket's `handler`) and an existing certificate", () => {
    const stack = new Stack(newApp(), "One");
    const handler = fn(stack, "All");
    const certificate = Certificate.fromCertificateArn(
      stack,
      "Cert",
      "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
    );
    new SwitchboardWebSocket(stack, "Ws", {
      handler,
      routes: { ping: handler },
      host: "ws.example.org",
      certificate,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs("AWS::ApiGatewayV2::Route", 4);
    template.resourceCountIs("AWS::ApiGatewayV2::RouteResponse", 0);
    template.resourceCountIs("AWS::ApiGatewayV2::Authorizer", 0);
    template.resourceCountIs("AWS::DynamoDB::Table", 0);
    template.resourceCountIs("AWS::CertificateManager::Certificate", 0);
    template.resourceCountIs("AWS::Route53::RecordSet", 0);
    template.hasResourceProperties("AWS::ApiGatewayV2::DomainName", {
      DomainNameConfigurations: [
        Match.objectLike({ CertificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc" }),
      ],
    });
    template.resourceCountIs("AWS::Lambda::Permission", 4);
  });

  it("changes the Deployment's logical id when the routes change (so CloudFormation redeploys the API)", () => {
    const ids = (routes: string[]) => {
      const stack = new Stack(newApp(), "S");
      const handler = fn(stack, "All");
      new SwitchboardWebSocket(stack, "Ws", {
        handler,
        routes: Object.fromEntries(routes.map((r) => [r, handler])),
      });
      return Object.keys(Template.fromStack(stack).findResources("AWS::ApiGatewayV2::Deployment"));
    };
    expect(ids(["a"])).toEqual(ids(["a"]));
    expect(ids(["a"])).not.toEqual(ids(["a", "b"]));
  });

  it("changes the Deployment's logical id when an authorizer is added or changed (else $connect stays open on the live stage)", () => {
    const ids = (authorizer?: { fn: string; name?: string }) => {
      const stack = new Stack(newApp(), "S");
      const handler = fn(stack, "All");
      const auth = fn(stack, authorizer?.fn ?? "Auth");
      new SwitchboardWebSocket(stack, "Ws", {
        handler,
        ...(authorizer
          ? {
              authorizer: {
                handler: auth,
                ...(authorizer.name ? { name: authorizer.name } : {}),
              },
            }
          : {}),
      });
      return Object.keys(Template.fromStack(stack).findResources("AWS::ApiGatewayV2::Deployment"));
    };
    expect(ids({ fn: "Auth" })).toEqual(ids({ fn: "Auth" }));
    expect(ids()).not.toEqual(ids({ fn: "Auth" }));
    expect(ids({ fn: "Auth" })).not.toEqual(ids({ fn: "OtherAuth" }));
    expect(ids({ fn: "Auth" })).not.toEqual(ids({ fn: "Auth", name: "custom" }));
  });

  it("refuses no routes, an unknown two-way route, clashing ids and a host without a certificate", () => {
    const stack = new Stack(newApp(), "Bad");
    const handler = fn(stack, "All");
    expect(() => new SwitchboardWebSocket(stack, "A", {})).toThrow(/no routes/);
    expect(() => new SwitchboardWebSocket(stack, "B", { handler, twoWay: ["nope"] })).toThrow(
      /twoWay names "nope"/,
    );
    expect(
      () =>
        new SwitchboardWebSocket(stack, "C", {
          routes: { sendMessage: handler, "send-message": handler },
        }),
    ).toThrow(/same id SendMessage/);
    expect(
      () =>
        new SwitchboardWebSocket(stack, "D", {
          handler,
          host: "x.example.com",
          certificate: false,
        }),
    ).toThrow(/needs a certificate/);
  });
});

/** The packages an entry point of the library imports once bundled (packages stay external). */
async function packageImports(entry: string): Promise<string[]> {
  const result = await esbuild.build({
    entryPoints: [path.join(ROOT, entry)],
    bundle: true,
    write: false,
    platform: "node",
    format: "esm",
    packages: "external",
    metafile: true,
    logLevel: "silent",
  });
  return Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
}

describe("switchboard/cdk is the only entry that needs aws-cdk-lib", () => {
  it("switchboard, switchboard/aws, switchboard/runtime and switchboard/gateway import neither aws-cdk-lib nor constructs", async () => {
    for (const entry of [
      "src/index.ts",
      "src/aws/index.ts",
      "src/runtime/index.ts",
      "src/gateway/index.ts",
    ]) {
      const imports = await packageImports(entry);
      expect(
        imports.filter((p) => /^(aws-cdk-lib|constructs)(\/|$)/.test(p)),
        entry,
      ).toEqual([]);
    }
    expect(await packageImports("src/aws/cdk.ts")).toContain("aws-cdk-lib");
  });
});

describe("examples/cdk/chat-stack.ts (the docs' runnable example)", () => {
  it("synthesizes the chat example from its switchboard build output", async () => {
    const { rm } = await import("node:fs/promises");
    const { buildAwsApp } = await import("../../src/aws/build.js");
    const { ChatStack } = await import("../../examples/cdk/chat-stack.js");
    const out = repoScratchDir("cdk-example");
    try {
      await buildAwsApp({ target: CHAT_EXAMPLE, outDir: out });
      const stack = new ChatStack(newApp(), "ChatStack", { buildDir: out });
      const template = Template.fromStack(stack);
      template.resourceCountIs("AWS::ApiGatewayV2::Route", 5);
      template.resourceCountIs("AWS::Lambda::Function", 5);
      template.resourceCountIs("AWS::DynamoDB::Table", 1);
      template.hasResourceProperties("AWS::Lambda::Function", {
        Handler: "index.handler",
        Runtime: "nodejs22.x",
        Code: { S3Bucket: Match.anyValue(), S3Key: Match.stringLikeRegexp("\\.zip$") },
      });
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
