// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings, not JS templates
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadApp } from "../../src/app/load.js";
import { type App, DEFAULT_LIMITS, type FunctionRoute } from "../../src/app/model.js";
import { ModuleLoader } from "../../src/app/module-loader.js";
import {
  type CfnResource,
  type CfnTemplate,
  compileTemplate,
} from "../../src/aws/compile-template.js";
import { logicalName, planApp } from "../../src/aws/function-plan.js";
import { checkTemplate } from "../../src/aws/validate-template.js";
import { ConfigError } from "../../src/errors.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const CHAT = path.join(ROOT, "examples", "chat");

let loader: ModuleLoader;
let chat: App;
let template: CfnTemplate;

beforeAll(async () => {
  loader = new ModuleLoader({ cacheDir: path.join(ROOT, "test", ".tmp", "aws-compile-modules") });
  chat = await loadApp(CHAT, { loader });
  template = compileTemplate(chat, {});
});

afterAll(async () => {
  await loader.dispose();
});

/** Resources of one type, by logical id. */
function ofType(t: CfnTemplate, type: string): Record<string, CfnResource> {
  return Object.fromEntries(Object.entries(t.Resources).filter(([, r]) => r.Type === type));
}

// biome-ignore lint/suspicious/noExplicitAny: tests reach deep into untyped CloudFormation JSON
function props(t: CfnTemplate, id: string): Record<string, any> {
  const resource = t.Resources[id];
  if (!resource) throw new Error(`no resource ${id} (have ${Object.keys(t.Resources).join(", ")})`);
  // biome-ignore lint/suspicious/noExplicitAny: as above
  return resource.Properties as Record<string, any>;
}

/** A small App literal (no loading): handler files are never read by the compiler. */
function app(
  routes: Array<Partial<FunctionRoute> & { key: string }>,
  extra: Partial<App> = {},
): App {
  return {
    name: "demo",
    stage: "prod",
    root: "/app",
    source: { file: "/app/switchboard.yaml", format: "switchboard-yaml" },
    routeSelectionExpression: "$request.body.type",
    routes: routes.map((r) => ({
      target: { file: "/app/handlers.mjs", export: "handler" },
      routeResponse: false,
      timeoutMs: 29_000,
      memoryMb: 1024,
      environment: {},
      ...r,
    })),
    connections: { ttlSeconds: 0, indexes: [] },
    environment: {},
    limits: { ...DEFAULT_LIMITS },
    ...extra,
  };
}

describe("compileTemplate: the chat example", () => {
  it("is a valid template per the CloudFormation resource specification", () => {
    expect(checkTemplate(template)).toEqual([]);
  });

  it("has a WEBSOCKET API with the app's route selection expression", () => {
    expect(props(template, "WebSocketApi")).toMatchObject({
      ProtocolType: "WEBSOCKET",
      RouteSelectionExpression: "$request.body.action",
      Name: "chat-dev",
    });
  });

  it("gives every route a Route, an AWS_PROXY Integration and a Permission scoped to the API, stage and route", () => {
    const keys = chat.routes.map((r) => r.key);
    expect(keys).toEqual(["$connect", "$disconnect", "send", "whoami", "$default"]);
    expect(Object.keys(ofType(template, "AWS::ApiGatewayV2::Route")).sort()).toEqual(
      ["ConnectRoute", "DefaultRoute", "DisconnectRoute", "SendRoute", "WhoamiRoute"].sort(),
    );
    for (const key of keys) {
      const name = logicalName(key);
      const route = props(template, `${name}Route`);
      expect(route.RouteKey).toBe(key);
      expect(route.ApiId).toEqual({ Ref: "WebSocketApi" });
      expect(route.Target).toEqual({
        "Fn::Join": ["/", ["integrations", { Ref: `${name}Integration` }]],
      });
      const integration = props(template, `${name}Integration`);
      expect(integration.IntegrationType).toBe("AWS_PROXY");
      expect(integration.TimeoutInMillis).toBe(29_000);
      const fnId = planApp(chat).routes.find((r) => r.route.key === key)?.functionName;
      expect(integration.IntegrationUri).toEqual({
        "Fn::Sub": `arn:\${AWS::Partition}:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${${fnId}Function.Arn}/invocations`,
      });
      const permission = props(template, `${name}Permission`);
      expect(permission).toEqual({
        Action: "lambda:InvokeFunction",
        FunctionName: { "Fn::GetAtt": [`${fnId}Function`, "Arn"] },
        Principal: "apigateway.amazonaws.com",
        SourceArn: {
          "Fn::Sub": `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${WebSocketApi}/dev/${key}`,
        },
      });
    }
  });

  it("makes two-way routes answer: RouteResponseSelectionExpression $default and a $default RouteResponse", () => {
    expect(props(template, "WhoamiRoute").RouteResponseSelectionExpression).toBe("$default");
    expect(props(template, "WhoamiRouteResponse")).toEqual({
      ApiId: { Ref: "WebSocketApi" },
      RouteId: { Ref: "WhoamiRoute" },
      RouteResponseKey: "$default",
    });
    expect(props(template, "SendRoute")).not.toHaveProperty("RouteResponseSelectionExpression");
    expect(Object.keys(ofType(template, "AWS::ApiGatewayV2::RouteResponse"))).toEqual([
      "WhoamiRouteResponse",
    ]);
  });

  it("deploys after every route, to the app's stage", () => {
    const [deploymentId, deployment] = Object.entries(
      ofType(template, "AWS::ApiGatewayV2::Deployment"),
    )[0]!;
    expect(deploymentId).toMatch(/^Deployment[0-9A-F]{10}$/);
    expect(deployment.DependsOn).toEqual(
      expect.arrayContaining(Object.keys(ofType(template, "AWS::ApiGatewayV2::Route"))),
    );
    expect(props(template, "Stage")).toMatchObject({
      StageName: "dev",
      DeploymentId: { Ref: deploymentId },
    });
  });

  it("declares the connection table: connectionId key, expiresAt TTL, one GSI per index field", () => {
    expect(props(template, "ConnectionTable")).toEqual({
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "connectionId", AttributeType: "S" },
        { AttributeName: "room", AttributeType: "S" },
        { AttributeName: "user", AttributeType: "S" },
      ],
      KeySchema: [{ AttributeName: "connectionId", KeyType: "HASH" }],
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: "room-index",
          KeySchema: [{ AttributeName: "room", KeyType: "HASH" }],
          Projection: { ProjectionType: "ALL" },
        },
        {
          IndexName: "user-index",
          KeySchema: [{ AttributeName: "user", KeyType: "HASH" }],
          Projection: { ProjectionType: "ALL" },
        },
      ],
    });
  });

  it("gives each function a role with least privilege: its log group, @connections of this API's stage, the table", () => {
    const roles = ofType(template, "AWS::IAM::Role");
    expect(Object.keys(roles).length).toBe(
      Object.keys(ofType(template, "AWS::Lambda::Function")).length,
    );
    for (const id of Object.keys(ofType(template, "AWS::Lambda::Function"))) {
      const fn = props(template, id);
      const name = id.replace(/Function$/, "");
      expect(fn.Role).toEqual({ "Fn::GetAtt": [`${id}Role`, "Arn"] });
      const role = props(template, `${id}Role`);
      expect(role.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Effect: "Allow",
          Principal: { Service: "lambda.amazonaws.com" },
          Action: "sts:AssumeRole",
        },
      ]);
      expect(role).not.toHaveProperty("ManagedPolicyArns");
      const statements = role.Policies[0].PolicyDocument.Statement as Array<
        Record<string, unknown>
      >;
      expect(statements).toEqual([
        {
          Sid: "Logs",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: { "Fn::GetAtt": [`${name}LogGroup`, "Arn"] },
        },
        {
          Sid: "ManageConnections",
          Effect: "Allow",
          Action: "execute-api:ManageConnections",
          Resource: {
            "Fn::Sub":
              "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/dev/*/@connections/*",
          },
        },
        {
          Sid: "ConnectionTable",
          Effect: "Allow",
          Action: [
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:Query",
            "dynamodb:Scan",
          ],
          Resource: [
            { "Fn::GetAtt": ["ConnectionTable", "Arn"] },
            { "Fn::Sub": "${ConnectionTable.Arn}/index/*" },
          ],
        },
      ]);
      // No wildcard actions or resources anywhere.
      expect(JSON.stringify(statements)).not.toMatch(/"(Action|Resource)":"\*"|:\*"/);
      expect(fn.LoggingConfig).toEqual({ LogGroup: { Ref: `${name}LogGroup` } });
    }
  });

  it("configures functions: runtime, architecture, memory, timeout, code from S3, environment", () => {
    const fn = props(template, "SendFunction");
    expect(fn).toMatchObject({
      Handler: "index.handler",
      Runtime: "nodejs22.x",
      Architectures: ["arm64"],
      MemorySize: 1024,
      Timeout: 29,
      Code: { S3Bucket: { Ref: "ArtifactBucket" }, S3Key: { Ref: "SendArtifactKey" } },
    });
    expect(fn.Environment.Variables).toMatchObject({
      CHAT_USERS: "alice,bob,carol,dave,erin",
      SWITCHBOARD_CONNECTION_TABLE: { Ref: "ConnectionTable" },
      SWITCHBOARD_CONNECTION_TTL: "7200",
      SWITCHBOARD_CONNECTION_INDEXES: "room,user",
    });
    const other = compileTemplate(chat, {}, { runtime: "nodejs20.x", architecture: "x86_64" });
    expect(props(other, "SendFunction")).toMatchObject({
      Runtime: "nodejs20.x",
      Architectures: ["x86_64"],
    });
    expect(checkTemplate(other)).toEqual([]);
  });

  it("takes function code from parameters whose defaults are the given artifact keys", () => {
    const withKeys = compileTemplate(chat, { Send: "Send-abc.zip" });
    expect(withKeys.Parameters.ArtifactBucket).toMatchObject({ Type: "String" });
    expect(withKeys.Parameters.ArtifactBucket).not.toHaveProperty("Default");
    expect(withKeys.Parameters.SendArtifactKey).toMatchObject({
      Type: "String",
      Default: "Send-abc.zip",
    });
  });

  it("outputs the WebSocket URL, the management endpoint and the table name", () => {
    expect(template.Outputs.WebSocketUrl?.Value).toEqual({
      "Fn::Sub": "wss://${WebSocketApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/dev",
    });
    expect(template.Outputs.ManagementEndpoint?.Value).toEqual({
      "Fn::Sub": "https://${WebSocketApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/dev",
    });
    expect(template.Outputs.ConnectionTableName?.Value).toEqual({ Ref: "ConnectionTable" });
  });

  it("compiles the same App to the same template", () => {
    expect(JSON.stringify(compileTemplate(chat, {}))).toBe(JSON.stringify(template));
  });
});

describe("compileTemplate: options and other apps", () => {
  const withAuth = app([{ key: "$connect" }, { key: "$default" }], {
    authorizer: {
      name: "tokenAuth",
      target: { file: "/app/auth.mjs", export: "authorize" },
      identitySource: ["route.request.querystring.token", "route.request.header.Authorization"],
    },
  });

  it("puts a REQUEST authorizer with its identity sources on $connect only", () => {
    const t = compileTemplate(withAuth, {});
    expect(checkTemplate(t)).toEqual([]);
    expect(props(t, "Authorizer")).toEqual({
      ApiId: { Ref: "WebSocketApi" },
      AuthorizerType: "REQUEST",
      Name: "tokenAuth",
      AuthorizerUri: {
        "Fn::Sub":
          "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${AuthorizerFunction.Arn}/invocations",
      },
      IdentitySource: ["route.request.querystring.token", "route.request.header.Authorization"],
    });
    expect(props(t, "ConnectRoute")).toMatchObject({
      AuthorizationType: "CUSTOM",
      AuthorizerId: { Ref: "Authorizer" },
    });
    expect(props(t, "DefaultRoute")).toMatchObject({ AuthorizationType: "NONE" });
    expect(props(t, "DefaultRoute")).not.toHaveProperty("AuthorizerId");
    expect(props(t, "AuthorizerPermission").SourceArn).toEqual({
      "Fn::Sub":
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/authorizers/${Authorizer}",
    });
    // The authorizer needs its logs only: no @connections, no table.
    const statements = props(t, "AuthorizerFunctionRole").Policies[0].PolicyDocument.Statement;
    expect(statements.map((s: { Sid: string }) => s.Sid)).toEqual(["Logs"]);
    expect(props(t, "AuthorizerFunction").Environment.Variables).not.toHaveProperty(
      "SWITCHBOARD_CONNECTION_TABLE",
    );
  });

  it("shares one function among routes with the same handler and settings, and splits otherwise", () => {
    const shared = app([
      { key: "a", target: { file: "/app/h.mjs", export: "handler" } },
      { key: "b", target: { file: "/app/h.mjs", export: "handler" }, timeoutMs: 5_000 },
      { key: "c", target: { file: "/app/h.mjs", export: "handler" }, memoryMb: 256 },
      { key: "d", target: { file: "/app/h.mjs", export: "Chat", method: "join" } },
    ]);
    const plan = planApp(shared);
    expect(plan.functions.map((f) => [f.name, f.routeKeys])).toEqual([
      ["A", ["a", "b"]],
      ["C", ["c"]],
      ["D", ["d"]],
    ]);
    const t = compileTemplate(shared, {});
    expect(props(t, "BPermission").FunctionName).toEqual({ "Fn::GetAtt": ["AFunction", "Arn"] });
    expect(props(t, "BIntegration").TimeoutInMillis).toBe(5_000);
    expect(props(t, "AFunction").Timeout).toBe(29);
    expect(checkTemplate(t)).toEqual([]);
  });

  it("sets stage throttling when configured: defaults and per route", () => {
    const t = compileTemplate(
      app([{ key: "$default" }, { key: "send" }]),
      {},
      {
        throttling: {
          default: { rateLimit: 100, burstLimit: 50 },
          routes: { send: { rateLimit: 5 } },
        },
      },
    );
    expect(props(t, "Stage")).toMatchObject({
      DefaultRouteSettings: { ThrottlingBurstLimit: 50, ThrottlingRateLimit: 100 },
      RouteSettings: { send: { ThrottlingRateLimit: 5 } },
    });
    expect(checkTemplate(t)).toEqual([]);
    expect(() =>
      compileTemplate(app([{ key: "$default" }]), {}, { throttling: { routes: { nope: {} } } }),
    ).toThrow(/throttling names route "nope"/);
  });

  it("adds a custom domain with a DNS-validated certificate, mapping and alias record", () => {
    const t = compileTemplate(
      app([{ key: "$default" }]),
      {},
      {
        domain: { name: "ws.example.com", hostedZoneId: "Z123" },
      },
    );
    expect(checkTemplate(t)).toEqual([]);
    expect(props(t, "CustomDomainCertificate")).toEqual({
      DomainName: "ws.example.com",
      ValidationMethod: "DNS",
      DomainValidationOptions: [{ DomainName: "ws.example.com", HostedZoneId: "Z123" }],
    });
    expect(props(t, "CustomDomain").DomainNameConfigurations).toEqual([
      {
        CertificateArn: { Ref: "CustomDomainCertificate" },
        EndpointType: "REGIONAL",
        SecurityPolicy: "TLS_1_2",
      },
    ]);
    expect(props(t, "CustomDomainMapping")).toEqual({
      ApiId: { Ref: "WebSocketApi" },
      DomainName: { Ref: "CustomDomain" },
      Stage: { Ref: "Stage" },
    });
    expect(props(t, "CustomDomainRecord")).toMatchObject({ Type: "A", Name: "ws.example.com" });
    expect(t.Outputs.CustomDomainUrl?.Value).toBe("wss://ws.example.com");

    const existing = compileTemplate(
      app([{ key: "$default" }]),
      {},
      {
        domain: {
          name: "ws.example.com",
          certificateArn: "arn:aws:acm:us-east-1:123:certificate/abc",
          basePath: "chat",
        },
      },
    );
    expect(checkTemplate(existing)).toEqual([]);
    expect(existing.Resources).not.toHaveProperty("CustomDomainCertificate");
    expect(existing.Resources).not.toHaveProperty("CustomDomainRecord");
    expect(props(existing, "CustomDomainMapping").ApiMappingKey).toBe("chat");
  });

  it("changes the Deployment's logical id when the API changes (so CloudFormation redeploys it)", () => {
    const deployment = (t: CfnTemplate) =>
      Object.keys(ofType(t, "AWS::ApiGatewayV2::Deployment"))[0];
    const one = compileTemplate(app([{ key: "$default" }]), {});
    const two = compileTemplate(app([{ key: "$default" }, { key: "send" }]), {});
    const newCode = compileTemplate(app([{ key: "$default" }]), { Default: "Default-other.zip" });
    expect(deployment(one)).not.toBe(deployment(two));
    expect(deployment(one)).toBe(deployment(newCode));
  });
});

describe("compileTemplate: a foreign app deploys what it declares", () => {
  it("sam-chat: each function's Runtime, MemorySize, Timeout and variables (the authorizer's from Globals), and no connection table", async () => {
    const sam = await loadApp(path.join(ROOT, "test", "fixtures", "sam-chat"), { loader });
    const t = compileTemplate(sam, {});
    // Globals: nodejs20.x, 10 s, 256 MB, TABLE_NAME; WhoamiFunction: its own 512 MB.
    expect(props(t, "AuthorizerFunction")).toMatchObject({
      Runtime: "nodejs20.x",
      MemorySize: 256,
      Timeout: 10,
      Environment: { Variables: { TABLE_NAME: "simplechat_connections" } },
    });
    const functions = ofType(t, "AWS::Lambda::Function");
    for (const [id, fn] of Object.entries(functions)) {
      expect((fn.Properties as { Runtime: string }).Runtime, id).toBe("nodejs20.x");
    }
    expect(
      Object.values(functions).map((f) => (f.Properties as { MemorySize: number }).MemorySize),
    ).toContain(512);
    expect(ofType(t, "AWS::DynamoDB::Table")).toEqual({});
    expect(JSON.stringify(t)).not.toContain("SWITCHBOARD_CONNECTION_TABLE");
    expect(t.Outputs?.ConnectionTableName).toBeUndefined();
  });

  it("a declared runtime wins over --runtime, which stays the default for the rest", () => {
    const t = compileTemplate(
      app([
        {
          key: "$connect",
          target: { file: "/app/handlers.mjs", export: "handler", runtime: "nodejs20.x" },
        },
        { key: "$default", target: { file: "/app/other.mjs", export: "handler" } },
      ]),
      {},
      { runtime: "nodejs22.x" },
    );
    expect(props(t, "ConnectFunction").Runtime).toBe("nodejs20.x");
    expect(props(t, "DefaultFunction").Runtime).toBe("nodejs22.x");
  });
});

describe("planApp: what cannot be built", () => {
  const problems = (a: App) => {
    try {
      planApp(a);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).message;
    }
    throw new Error("expected a ConfigError");
  };

  it("rejects route keys whose CloudFormation names clash, naming the file and both routes", () => {
    const message = problems(app([{ key: "sendMessage" }, { key: "send-message" }]));
    expect(message).toContain("switchboard.yaml");
    expect(message).toContain("routes.send-message");
    expect(message).toContain('"SendMessageRoute", also produced by route "sendMessage"');
  });

  it("rejects an authorizer without a $connect route to sit on", () => {
    const message = problems(
      app([{ key: "$default" }], {
        authorizer: {
          name: "auth",
          target: { file: "/app/a.mjs", export: "handler" },
          identitySource: ["route.request.header.Auth"],
        },
      }),
    );
    expect(message).toMatch(/authorizer — expected a \$connect route for the authorizer/);
  });

  it("rejects identity sources API Gateway does not accept", () => {
    const message = problems(
      app([{ key: "$connect" }], {
        authorizer: {
          name: "auth",
          target: { file: "/app/a.mjs", export: "handler" },
          identitySource: ["header.Auth"],
        },
      }),
    );
    expect(message).toContain("authorizer.identitySource[0]");
  });

  it("names routes after their keys", () => {
    expect(
      ["$connect", "$disconnect", "$default", "send-message", "chat/join", "1st", "+"].map(
        logicalName,
      ),
    ).toEqual([
      "Connect",
      "Disconnect",
      "Default",
      "SendMessage",
      "ChatJoin",
      "Route1st",
      "Route2B",
    ]);
  });
});
