import { createHash } from "node:crypto";
import { usesConnectionTable } from "../app/connection-table-use.js";
import { type App, CONNECT, type ConnectionTableConfig } from "../app/model.js";
import { SwitchboardError } from "../errors.js";
import {
  type AwsOptions,
  DEFAULT_ARCHITECTURE,
  DEFAULT_LOG_RETENTION_DAYS,
  DEFAULT_RUNTIME,
  type Throttle,
} from "./aws-options.js";
import { assumeRolePolicy, compileIntegration } from "./compile-integration.js";
import { CONNECTION_TABLE_ACTIONS } from "./connection-table-access.js";
import { type AppPlan, type FunctionPlan, planApp } from "./function-plan.js";
import {
  functionStatements,
  functionVariables,
  seedResource,
  tableResources,
} from "./native-resources.js";

/** A CloudFormation template, as JSON. */
export interface CfnTemplate {
  AWSTemplateFormatVersion: "2010-09-09";
  Description: string;
  Parameters: Record<string, CfnParameter>;
  Resources: Record<string, CfnResource>;
  Outputs: Record<string, { Description: string; Value: unknown }>;
}

export interface CfnParameter {
  Type: "String";
  Description: string;
  Default?: string;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/** Where each function's zip is, by function name: the default S3 key of its artifact. */
export type ArtifactKeys = Record<string, string>;

/** The names of the environment variables the Lambda runtime reads (see docs/aws.md). */
export const ENV = {
  connectionTable: "SWITCHBOARD_CONNECTION_TABLE",
  connectionTtl: "SWITCHBOARD_CONNECTION_TTL",
  connectionIndexes: "SWITCHBOARD_CONNECTION_INDEXES",
  managementEndpoint: "SWITCHBOARD_MANAGEMENT_ENDPOINT",
} as const;

/** The S3 key a function's zip is expected under by default: content-addressed. */
export function defaultArtifactKey(functionName: string, sha256: string): string {
  return `${functionName}-${sha256}.zip`;
}

const API = "WebSocketApi";
const TABLE = "ConnectionTable";
const STAGE = "Stage";

const ref = (id: string) => ({ Ref: id });
const arn = (id: string) => ({ "Fn::GetAtt": [id, "Arn"] });
/** `Fn::Sub` text escapes a literal `${` as `${!`. */
const subLiteral = (text: string) => text.replaceAll("${", "${!");
const lambdaUri = (functionId: string) => ({
  "Fn::Sub": `arn:\${AWS::Partition}:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${${functionId}.Arn}/invocations`,
});
const apiArn = (suffix: string) => ({
  "Fn::Sub": `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${${API}}/${suffix}`,
});

/**
 * Compile an App into a CloudFormation template: the WebSocket API with a Route, Integration
 * and Lambda Permission per route, RouteResponses for two-way routes, the REQUEST authorizer on
 * `$connect`, a Deployment and Stage, a Lambda function, log group and least-privilege role per
 * function, the DynamoDB connection table and, optionally, a custom domain. Logical ids come
 * from route keys (`$connect` → `ConnectRoute`), so the same App always compiles to the same
 * template. Function code is read from S3: `ArtifactBucket` and one `<Name>ArtifactKey`
 * parameter per function, defaulting to `artifactKeys[name]`.
 *
 * @example
 * ```ts
 * const template = compileTemplate(app, { Send: "Send-<sha256>.zip", ... });
 * template.Resources.SendRoute.Properties.RouteKey; // "send"
 * ```
 */
export function compileTemplate(
  app: App,
  artifactKeys: ArtifactKeys,
  options: AwsOptions = {},
  plan: AppPlan = planApp(app),
): CfnTemplate {
  const resources: Record<string, CfnResource> = {};
  const parameters: Record<string, CfnParameter> = {
    ArtifactBucket: {
      Type: "String",
      Description: "S3 bucket holding the function zips (uploaded under their ArtifactKey)",
    },
  };
  const add = (id: string, resource: CfnResource) => {
    if (resources[id]) throw new Error(`duplicate logical id ${id}`);
    resources[id] = resource;
  };

  add(API, {
    Type: "AWS::ApiGatewayV2::Api",
    Properties: {
      Name: `${app.name}-${app.stage}`,
      ProtocolType: "WEBSOCKET",
      RouteSelectionExpression: app.routeSelectionExpression,
    },
  });

  // Only for apps whose handlers use it (see usesConnectionTable).
  const table = usesConnectionTable(app);
  if (table) {
    add(TABLE, {
      Type: "AWS::DynamoDB::Table",
      Properties: connectionTableProperties(app.connections),
    });
  }

  for (const [id, resource] of Object.entries(tableResources(app))) add(id, resource);

  for (const fn of plan.functions) {
    const key = artifactKeys[fn.name];
    parameters[`${fn.name}ArtifactKey`] = {
      Type: "String",
      Description: `S3 key of the ${fn.name} function zip (functions/${fn.name}.zip)`,
      ...(key ? { Default: key } : {}),
    };
    addFunction(app, fn, options, add);
  }

  // API Gateway side: hashed into the Deployment's logical id, so that any change to routes,
  // integrations or the authorizer makes CloudFormation deploy the API again.
  const apiResources: Record<string, CfnResource> = {};
  const addApi = (id: string, resource: CfnResource) => {
    apiResources[id] = resource;
    add(id, resource);
  };

  if (app.authorizer) {
    addApi("Authorizer", {
      Type: "AWS::ApiGatewayV2::Authorizer",
      Properties: {
        ApiId: ref(API),
        AuthorizerType: "REQUEST",
        Name: app.authorizer.name,
        AuthorizerUri: lambdaUri("AuthorizerFunction"),
        IdentitySource: [...app.authorizer.identitySource],
      },
    });
    add("AuthorizerPermission", {
      Type: "AWS::Lambda::Permission",
      Properties: {
        Action: "lambda:InvokeFunction",
        FunctionName: arn("AuthorizerFunction"),
        Principal: "apigateway.amazonaws.com",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: an Fn::Sub variable, not a JS template
        SourceArn: apiArn("authorizers/${Authorizer}"),
      },
    });
  }

  const routeIds: string[] = [];
  for (const { route, name, functionName } of plan.routes) {
    const functionId = functionName ? `${functionName}Function` : undefined;
    const integration = compileIntegration(route, name, lambdaUri, functionId, app.source.file);
    addApi(`${name}Integration`, {
      Type: "AWS::ApiGatewayV2::Integration",
      Properties: { ApiId: ref(API), ...integration.properties },
    });
    for (const [id, properties] of Object.entries(integration.responses)) {
      addApi(id, {
        Type: "AWS::ApiGatewayV2::IntegrationResponse",
        Properties: { ApiId: ref(API), IntegrationId: ref(`${name}Integration`), ...properties },
      });
    }
    for (const [id, resource] of Object.entries(integration.extra)) add(id, resource);
    const withAuthorizer = route.key === CONNECT && app.authorizer !== undefined;
    addApi(`${name}Route`, {
      Type: "AWS::ApiGatewayV2::Route",
      Properties: {
        ApiId: ref(API),
        RouteKey: route.key,
        Target: { "Fn::Join": ["/", ["integrations", ref(`${name}Integration`)]] },
        AuthorizationType: withAuthorizer ? "CUSTOM" : "NONE",
        ...(withAuthorizer ? { AuthorizerId: ref("Authorizer") } : {}),
        ...(route.routeResponse ? { RouteResponseSelectionExpression: "$default" } : {}),
      },
    });
    routeIds.push(`${name}Route`);
    if (route.routeResponse) {
      addApi(`${name}RouteResponse`, {
        Type: "AWS::ApiGatewayV2::RouteResponse",
        Properties: {
          ApiId: ref(API),
          RouteId: ref(`${name}Route`),
          RouteResponseKey: "$default",
        },
      });
      routeIds.push(`${name}RouteResponse`);
    }
    // Only a route that runs a function of the app lets API Gateway invoke it.
    if (!functionId) continue;
    add(`${name}Permission`, {
      Type: "AWS::Lambda::Permission",
      Properties: {
        Action: "lambda:InvokeFunction",
        FunctionName: arn(functionId),
        Principal: "apigateway.amazonaws.com",
        SourceArn: apiArn(`${subLiteral(app.stage)}/${subLiteral(route.key)}`),
      },
    });
  }

  if (app.seed) add("SeedResource", seedResource(app));

  const deploymentId = `Deployment${createHash("sha256").update(JSON.stringify(apiResources)).digest("hex").slice(0, 10).toUpperCase()}`;
  add(deploymentId, {
    Type: "AWS::ApiGatewayV2::Deployment",
    DependsOn: routeIds,
    Properties: { ApiId: ref(API), Description: `${app.name} ${app.stage}` },
  });
  add(STAGE, {
    Type: "AWS::ApiGatewayV2::Stage",
    Properties: {
      ApiId: ref(API),
      StageName: app.stage,
      DeploymentId: ref(deploymentId),
      ...stageThrottling(app, options),
    },
  });

  const outputs: CfnTemplate["Outputs"] = {
    WebSocketUrl: {
      Description: "Connect here (wss)",
      Value: {
        "Fn::Sub": `wss://\${${API}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}/${subLiteral(app.stage)}`,
      },
    },
    ManagementEndpoint: {
      Description: "@connections endpoint (ApiGatewayManagementApi client endpoint)",
      Value: { "Fn::Sub": managementEndpoint(app) },
    },
    WebSocketApiId: { Description: "API id", Value: ref(API) },
    ...(table
      ? { ConnectionTableName: { Description: "DynamoDB connection table", Value: ref(TABLE) } }
      : {}),
  };
  if (options.domain) addCustomDomain(options, add, outputs);

  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: `Switchboard WebSocket API ${app.name} (stage ${app.stage})`,
    Parameters: parameters,
    Resources: resources,
    Outputs: outputs,
  };
}

function managementEndpoint(app: App): string {
  return `https://\${${API}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}/${subLiteral(app.stage)}`;
}

/**
 * The connection table: partition key `connectionId`, TTL on `expiresAt`, a string-keyed global
 * secondary index `<field>-index` per indexed field, on-demand billing.
 *
 * @example
 * ```ts
 * connectionTableProperties({ ttlSeconds: 7200, indexes: ["room"] }).GlobalSecondaryIndexes; // [{ IndexName: "room-index", ... }]
 * ```
 */
export function connectionTableProperties(
  connections: ConnectionTableConfig,
): Record<string, unknown> {
  const indexes = connections.indexes;
  return {
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [
      { AttributeName: "connectionId", AttributeType: "S" },
      ...indexes.map((field) => ({ AttributeName: field, AttributeType: "S" })),
    ],
    KeySchema: [{ AttributeName: "connectionId", KeyType: "HASH" }],
    // Always on: rows without expiresAt never expire; readers ignore expired rows TTL has not removed yet.
    TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
    ...(indexes.length > 0
      ? {
          GlobalSecondaryIndexes: indexes.map((field) => ({
            IndexName: `${field}-index`,
            KeySchema: [{ AttributeName: field, KeyType: "HASH" }],
            Projection: { ProjectionType: "ALL" },
          })),
        }
      : {}),
  };
}

function addFunction(
  app: App,
  fn: FunctionPlan,
  options: AwsOptions,
  add: (id: string, resource: CfnResource) => void,
): void {
  const functionId = `${fn.name}Function`;
  const logGroupId = `${fn.name}LogGroup`;
  const roleId = `${fn.name}FunctionRole`;
  add(logGroupId, {
    Type: "AWS::Logs::LogGroup",
    Properties: { RetentionInDays: options.logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS },
  });

  const statements: unknown[] = [
    {
      Sid: "Logs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: arn(logGroupId),
    },
  ];
  if (fn.kind === "route") {
    statements.push({
      Sid: "ManageConnections",
      Effect: "Allow",
      Action: "execute-api:ManageConnections",
      Resource: apiArn(`${subLiteral(app.stage)}/*/@connections/*`),
    });
    if (usesConnectionTable(app)) {
      statements.push({
        Sid: "ConnectionTable",
        Effect: "Allow",
        Action: [...CONNECTION_TABLE_ACTIONS],
        Resource: [arn(TABLE), { "Fn::Sub": `\${${TABLE}.Arn}/index/*` }],
      });
    }
  }
  statements.push(...functionStatements(app, fn));
  add(roleId, {
    Type: "AWS::IAM::Role",
    Properties: {
      AssumeRolePolicyDocument: assumeRolePolicy("lambda.amazonaws.com"),
      Policies: [
        {
          PolicyName: `${fn.name}Function`,
          PolicyDocument: { Version: "2012-10-17", Statement: statements },
        },
      ],
    },
  });

  const variables: Record<string, unknown> = {
    ...sortedEntries(fn.environment),
    NODE_OPTIONS: "--enable-source-maps",
  };
  if (fn.kind === "route") {
    if (usesConnectionTable(app)) {
      variables[ENV.connectionTable] = ref(TABLE);
      variables[ENV.connectionTtl] = String(app.connections.ttlSeconds);
      variables[ENV.connectionIndexes] = app.connections.indexes.join(",");
    }
    variables[ENV.managementEndpoint] = { "Fn::Sub": managementEndpoint(app) };
  }
  functionVariables(app, fn, variables);
  add(functionId, {
    Type: "AWS::Lambda::Function",
    Properties: {
      Code: { S3Bucket: ref("ArtifactBucket"), S3Key: ref(`${fn.name}ArtifactKey`) },
      Handler: "index.handler",
      // What the app declares for this function wins; --runtime is the default for the rest.
      Runtime: fn.runtime ?? options.runtime ?? DEFAULT_RUNTIME,
      Architectures: [options.architecture ?? DEFAULT_ARCHITECTURE],
      MemorySize: fn.memoryMb,
      Timeout: fn.timeoutSeconds,
      Role: arn(roleId),
      LoggingConfig: { LogGroup: ref(logGroupId) },
      Environment: { Variables: variables },
      Description:
        fn.kind === "route"
          ? `${app.name} routes ${fn.routeKeys.join(", ")}`
          : `${app.name} ${fn.kind}`,
    },
  });
}

function sortedEntries(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

function routeSettings(throttle: Throttle): Record<string, number> {
  return {
    ...(throttle.burstLimit !== undefined ? { ThrottlingBurstLimit: throttle.burstLimit } : {}),
    ...(throttle.rateLimit !== undefined ? { ThrottlingRateLimit: throttle.rateLimit } : {}),
  };
}

function stageThrottling(app: App, options: AwsOptions): Record<string, unknown> {
  const throttling = options.throttling;
  if (!throttling) return {};
  const out: Record<string, unknown> = {};
  if (throttling.default) out.DefaultRouteSettings = routeSettings(throttling.default);
  const perRoute = Object.entries(throttling.routes ?? {});
  if (perRoute.length > 0) {
    const known = new Set(app.routes.map((route) => route.key));
    for (const [key] of perRoute) {
      if (!known.has(key)) {
        throw new SwitchboardError(
          "SB_ERR_BUILD",
          `throttling names route ${JSON.stringify(key)}, which the app does not have (routes: ${[...known].join(", ")})`,
        );
      }
    }
    out.RouteSettings = Object.fromEntries(perRoute.map(([key, t]) => [key, routeSettings(t)]));
  }
  return out;
}

function addCustomDomain(
  options: AwsOptions,
  add: (id: string, resource: CfnResource) => void,
  outputs: CfnTemplate["Outputs"],
): void {
  const domain = options.domain;
  if (!domain) return;
  let certificate: unknown = domain.certificateArn;
  if (!certificate) {
    add("CustomDomainCertificate", {
      Type: "AWS::CertificateManager::Certificate",
      Properties: {
        DomainName: domain.name,
        ValidationMethod: "DNS",
        ...(domain.hostedZoneId
          ? {
              DomainValidationOptions: [
                { DomainName: domain.name, HostedZoneId: domain.hostedZoneId },
              ],
            }
          : {}),
      },
    });
    certificate = ref("CustomDomainCertificate");
  }
  add("CustomDomain", {
    Type: "AWS::ApiGatewayV2::DomainName",
    Properties: {
      DomainName: domain.name,
      DomainNameConfigurations: [
        { CertificateArn: certificate, EndpointType: "REGIONAL", SecurityPolicy: "TLS_1_2" },
      ],
    },
  });
  add("CustomDomainMapping", {
    Type: "AWS::ApiGatewayV2::ApiMapping",
    DependsOn: [STAGE],
    Properties: {
      ApiId: ref(API),
      DomainName: ref("CustomDomain"),
      Stage: ref(STAGE),
      ...(domain.basePath ? { ApiMappingKey: domain.basePath } : {}),
    },
  });
  if (domain.hostedZoneId) {
    add("CustomDomainRecord", {
      Type: "AWS::Route53::RecordSet",
      Properties: {
        HostedZoneId: domain.hostedZoneId,
        Name: domain.name,
        Type: "A",
        AliasTarget: {
          DNSName: { "Fn::GetAtt": ["CustomDomain", "RegionalDomainName"] },
          HostedZoneId: { "Fn::GetAtt": ["CustomDomain", "RegionalHostedZoneId"] },
        },
      },
    });
  }
  outputs.CustomDomainUrl = {
    Description: "Connect here through the custom domain (wss)",
    Value: `wss://${domain.name}${domain.basePath ? `/${domain.basePath}` : ""}`,
  };
  outputs.CustomDomainTarget = {
    Description: "Point the domain's DNS (CNAME or alias) here",
    Value: { "Fn::GetAtt": ["CustomDomain", "RegionalDomainName"] },
  };
}
