/**
 * `switchboard/cdk`: the WebSocket API of `switchboard build`'s template as an AWS CDK
 * construct, for apps whose infrastructure is CDK code. Needs `aws-cdk-lib` and `constructs`
 * (optional peer dependencies: only this subpath imports them).
 */
import { createHash } from "node:crypto";
import { Aws, CfnOutput, type Duration } from "aws-cdk-lib";
import {
  CfnApi,
  CfnApiMapping,
  CfnAuthorizer,
  CfnDeployment,
  CfnDomainName,
  CfnIntegration,
  CfnRoute,
  CfnRouteResponse,
  CfnStage,
} from "aws-cdk-lib/aws-apigatewayv2";
import {
  Certificate,
  CertificateValidation,
  type ICertificate,
} from "aws-cdk-lib/aws-certificatemanager";
import { AttributeType, BillingMode, type ITable, Table } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { CfnPermission, type IFunction } from "aws-cdk-lib/aws-lambda";
import { CfnRecordSet, type IHostedZone } from "aws-cdk-lib/aws-route53";
import { Construct } from "constructs";
import { tableEnvName } from "../runtime/tables.js";
import { CONNECTION_TABLE_ACTIONS } from "./connection-table-access.js";
import { logicalName } from "./function-plan.js";

/** A custom domain: the name, and optionally its Route 53 zone (certificate validation + alias record). */
export interface SwitchboardHost {
  name: string;
  hostedZone?: IHostedZone;
  /** API mapping key under the domain (`wss://<name>/<basePath>`). */
  basePath?: string;
}

export interface SwitchboardConnectionTableOptions {
  /** How long a record lives after its last write (written as `expiresAt` by the runtime). Default: forever. */
  ttl?: Duration;
  /** Record fields that `ctx.connections.query` can use: one GSI `<field>-index` each. */
  indexes?: string[];
}

export interface SwitchboardAuthorizerOptions {
  /** The REQUEST authorizer function (runs on `$connect`). */
  handler: IFunction;
  /** Default `["route.request.header.Authorization"]`. */
  identitySource?: string[];
  /** Default `authorizer`. */
  name?: string;
}

/**
 * Props of {@link SwitchboardWebSocket}: JaypieWebSocket's (`connect`, `disconnect`, `default`,
 * `routes`, `handler`, `host`, `certificate`) plus what a Switchboard app config says.
 */
export interface SwitchboardWebSocketProps {
  /** API name. Default: the construct's path. */
  name?: string;
  /** Stage. Default `dev`. */
  stage?: string;
  /** Default `$request.body.action`. */
  routeSelectionExpression?: string;
  /** `$connect` handler. */
  connect?: IFunction;
  /** `$disconnect` handler. */
  disconnect?: IFunction;
  /** `$default` handler. */
  default?: IFunction;
  /** Custom routes: route key → function. */
  routes?: Record<string, IFunction>;
  /** One function for `$connect`, `$disconnect` and `$default` (each unless given its own). */
  handler?: IFunction;
  /** Two-way routes: what the handler returns is sent back (a RouteResponse `$default`). */
  twoWay?: string[];
  /** Integration timeout (50 ms – 29 s). Default 29 s. */
  timeout?: Duration;
  /** A DynamoDB connection table (`true` or options); route functions get read/write on it. */
  connectionTable?: boolean | SwitchboardConnectionTableOptions;
  /** A REQUEST authorizer on `$connect`. */
  authorizer?: SwitchboardAuthorizerOptions;
  /** Custom domain: `ws.example.com` or {@link SwitchboardHost}. */
  host?: string | SwitchboardHost;
  /**
   * The domain's certificate: one you have (same region), or `true`/unset to create a
   * DNS-validated one (validated automatically with `host.hostedZone`). `false` is refused with a host.
   */
  certificate?: boolean | ICertificate;
  /** Add CfnOutputs (WebSocketUrl, ManagementEndpoint, ...). Default true. */
  outputs?: boolean;
  /**
   * Secrets every route function reads at cold start (as `switchboard build`): a name, read
   * from Secrets Manager `<name prop>/<stage>/<NAME>`, or `{ name, arn }`. Each function may
   * call `secretsmanager:GetSecretValue` on exactly these, and gets `SWITCHBOARD_SECRETS`.
   */
  secrets?: Array<string | { name: string; arn: string }>;
  /** Tables by name: every route function gets read/write data access and `TABLE_<NAME>`. */
  tables?: Record<string, ITable>;
}

const INTEGRATION_TIMEOUT_MS = { min: 50, max: 29_000 };

/**
 * A WebSocket API on API Gateway with the resources `switchboard build` compiles: the Api, a
 * Route, `AWS_PROXY` Integration and Lambda Permission (scoped to the route's execute-api ARN)
 * per route, RouteResponses for two-way routes, an optional REQUEST authorizer on `$connect`,
 * a Deployment (new whenever routes change) and Stage, `execute-api:ManageConnections` for
 * every route function, an optional connection table (TTL `expiresAt`, a GSI per index) and an
 * optional custom domain (DomainName, ApiMapping, certificate, alias record). Route functions
 * that are `lambda.Function`s also get the environment the Switchboard runtime reads
 * (`SWITCHBOARD_CONNECTION_TABLE`, `SWITCHBOARD_MANAGEMENT_ENDPOINT`, ...).
 *
 * @example
 * ```ts
 * import { SwitchboardWebSocket } from "switchboard/cdk";
 *
 * const ws = new SwitchboardWebSocket(this, "Chat", {
 *   host: "ws.example.com",
 *   connect: connectFn,
 *   disconnect: disconnectFn,
 *   default: defaultFn,
 *   routes: { send: sendFn, whoami: whoamiFn },
 *   twoWay: ["whoami"],
 *   connectionTable: { ttl: Duration.hours(2), indexes: ["room"] },
 * });
 * ws.url; // wss://<api>.execute-api.<region>.amazonaws.com/dev
 * ```
 */
export class SwitchboardWebSocket extends Construct {
  readonly api: CfnApi;
  readonly stage: CfnStage;
  readonly stageName: string;
  /** Route key → its CfnRoute. */
  readonly routes: Record<string, CfnRoute> = {};
  readonly table?: Table;
  readonly authorizer?: CfnAuthorizer;
  readonly domainName?: CfnDomainName;
  readonly certificate?: ICertificate;
  /** `wss://<api>.execute-api.<region>.<suffix>/<stage>` */
  readonly url: string;
  /** `https://<api>.execute-api.<region>.<suffix>/<stage>`: the ApiGatewayManagementApi endpoint. */
  readonly managementEndpoint: string;
  /** Every distinct function the routes invoke. */
  readonly functions: IFunction[];

  constructor(scope: Construct, id: string, props: SwitchboardWebSocketProps) {
    super(scope, id);
    const stage = props.stage ?? "dev";
    this.stageName = stage;
    const routes = routeTable(props);
    if (routes.length === 0) {
      throw new Error(
        `SwitchboardWebSocket ${this.node.path}: no routes (give connect, disconnect, default, routes or handler)`,
      );
    }
    for (const key of props.twoWay ?? []) {
      if (!routes.some(([k]) => k === key)) {
        throw new Error(
          `SwitchboardWebSocket ${this.node.path}: twoWay names ${JSON.stringify(key)}, which is not a route`,
        );
      }
    }
    const names = new Map<string, string>();
    for (const [key] of routes) {
      const name = logicalName(key);
      const clash = names.get(name);
      if (clash !== undefined) {
        throw new Error(
          `SwitchboardWebSocket ${this.node.path}: routes ${JSON.stringify(clash)} and ${JSON.stringify(key)} give the same id ${name}`,
        );
      }
      names.set(name, key);
    }
    const timeoutMs = Math.min(
      INTEGRATION_TIMEOUT_MS.max,
      Math.max(
        INTEGRATION_TIMEOUT_MS.min,
        props.timeout?.toMilliseconds() ?? INTEGRATION_TIMEOUT_MS.max,
      ),
    );

    this.api = new CfnApi(this, "Api", {
      name: props.name ?? this.node.path.replace(/\//g, "-"),
      protocolType: "WEBSOCKET",
      routeSelectionExpression: props.routeSelectionExpression ?? "$request.body.action",
    });
    const apiId = this.api.ref;
    const host = `${apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`;
    this.url = `wss://${host}/${stage}`;
    this.managementEndpoint = `https://${host}/${stage}`;
    const executeApiArn = (suffix: string) =>
      `arn:${Aws.PARTITION}:execute-api:${Aws.REGION}:${Aws.ACCOUNT_ID}:${apiId}/${suffix}`;
    const invocationUri = (fn: IFunction) =>
      `arn:${Aws.PARTITION}:apigateway:${Aws.REGION}:lambda:path/2015-03-31/functions/${fn.functionArn}/invocations`;

    // Connection table (the runtime's DynamoDbConnectionStore layout).
    const tableOptions: SwitchboardConnectionTableOptions | undefined =
      props.connectionTable === true ? {} : props.connectionTable || undefined;
    if (tableOptions) {
      const table = new Table(this, "ConnectionTable", {
        partitionKey: { name: "connectionId", type: AttributeType.STRING },
        billingMode: BillingMode.PAY_PER_REQUEST,
        timeToLiveAttribute: "expiresAt",
      });
      for (const field of tableOptions.indexes ?? []) {
        table.addGlobalSecondaryIndex({
          indexName: `${field}-index`,
          partitionKey: { name: field, type: AttributeType.STRING },
        });
      }
      this.table = table;
    }

    // Authorizer on $connect.
    if (props.authorizer) {
      const authorizer = new CfnAuthorizer(this, "Authorizer", {
        apiId,
        authorizerType: "REQUEST",
        name: props.authorizer.name ?? "authorizer",
        authorizerUri: invocationUri(props.authorizer.handler),
        identitySource: props.authorizer.identitySource ?? ["route.request.header.Authorization"],
      });
      new CfnPermission(this, "AuthorizerPermission", {
        action: "lambda:InvokeFunction",
        functionName: props.authorizer.handler.functionArn,
        principal: "apigateway.amazonaws.com",
        sourceArn: executeApiArn(`authorizers/${authorizer.ref}`),
      });
      this.authorizer = authorizer;
    }

    // Routes, integrations, permissions, route responses.
    const twoWay = new Set(props.twoWay ?? []);
    const routeResources: CfnRoute[] = [];
    const responses: CfnRouteResponse[] = [];
    // Everything the deployed routes depend on, the authorizer included (present or not, its
    // name, identity sources and function): a change there must redeploy the API too.
    const fingerprint: unknown[] = [
      props.routeSelectionExpression,
      this.authorizer
        ? [
            this.authorizer.name,
            this.authorizer.identitySource,
            props.authorizer?.handler.node.path,
          ]
        : null,
      timeoutMs,
    ];
    for (const [key, fn] of routes) {
      const name = logicalName(key);
      const integration = new CfnIntegration(this, `${name}Integration`, {
        apiId,
        integrationType: "AWS_PROXY",
        integrationMethod: "POST",
        integrationUri: invocationUri(fn),
        timeoutInMillis: timeoutMs,
      });
      const withAuthorizer = key === "$connect" && this.authorizer !== undefined;
      const route = new CfnRoute(this, `${name}Route`, {
        apiId,
        routeKey: key,
        target: `integrations/${integration.ref}`,
        authorizationType: withAuthorizer ? "CUSTOM" : "NONE",
        ...(withAuthorizer ? { authorizerId: this.authorizer?.ref } : {}),
        ...(twoWay.has(key) ? { routeResponseSelectionExpression: "$default" } : {}),
      });
      this.routes[key] = route;
      routeResources.push(route);
      if (twoWay.has(key)) {
        responses.push(
          new CfnRouteResponse(this, `${name}RouteResponse`, {
            apiId,
            routeId: route.ref,
            routeResponseKey: "$default",
          }),
        );
      }
      new CfnPermission(this, `${name}Permission`, {
        action: "lambda:InvokeFunction",
        functionName: fn.functionArn,
        principal: "apigateway.amazonaws.com",
        sourceArn: executeApiArn(`${stage}/${key}`),
      });
      fingerprint.push(key, fn.node.path, twoWay.has(key));
    }

    // Deployment: its id changes with the routes, so CloudFormation deploys the API again.
    const hash = createHash("sha256")
      .update(JSON.stringify(fingerprint))
      .digest("hex")
      .slice(0, 10)
      .toUpperCase();
    const deployment = new CfnDeployment(this, `Deployment${hash}`, {
      apiId,
      description: `${props.name ?? this.node.path} ${stage}`,
    });
    deployment.node.addDependency(...routeResources, ...responses);
    this.stage = new CfnStage(this, "Stage", {
      apiId,
      stageName: stage,
      deploymentId: deployment.ref,
    });

    // What each route function may do, and the variables the Switchboard runtime reads.
    this.functions = [...new Set(routes.map(([, fn]) => fn))];
    const apiName = props.name ?? this.node.path;
    const secrets = (props.secrets ?? []).map((s) =>
      typeof s === "string"
        ? { name: s, id: `${apiName}/${stage}/${s}`, arn: undefined }
        : { name: s.name, id: s.arn, arn: s.arn },
    );
    for (const fn of this.functions) {
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ["execute-api:ManageConnections"],
          resources: [executeApiArn(`${stage}/*/@connections/*`)],
        }),
      );
      if (this.table) {
        this.table.grant(fn, ...CONNECTION_TABLE_ACTIONS);
      }
      for (const table of Object.values(props.tables ?? {})) table.grantReadWriteData(fn);
      if (secrets.length > 0) {
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ["secretsmanager:GetSecretValue"],
            resources: secrets.map((s) =>
              s.arn
                ? s.arn
                : `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:${s.id}-??????`,
            ),
          }),
        );
      }
      const addEnvironment = (fn as { addEnvironment?: (key: string, value: string) => unknown })
        .addEnvironment;
      if (typeof addEnvironment === "function") {
        for (const [name, table] of Object.entries(props.tables ?? {})) {
          addEnvironment.call(fn, tableEnvName(name), table.tableName);
        }
        if (secrets.length > 0) {
          addEnvironment.call(
            fn,
            "SWITCHBOARD_SECRETS",
            JSON.stringify(Object.fromEntries(secrets.map((s) => [s.name, s.arn ?? s.id]))),
          );
        }
        addEnvironment.call(fn, "SWITCHBOARD_MANAGEMENT_ENDPOINT", this.managementEndpoint);
        if (this.table) {
          addEnvironment.call(fn, "SWITCHBOARD_CONNECTION_TABLE", this.table.tableName);
          addEnvironment.call(
            fn,
            "SWITCHBOARD_CONNECTION_TTL",
            String(tableOptions?.ttl?.toSeconds() ?? 0),
          );
          addEnvironment.call(
            fn,
            "SWITCHBOARD_CONNECTION_INDEXES",
            (tableOptions?.indexes ?? []).join(","),
          );
        }
      }
    }

    // Custom domain.
    if (props.host !== undefined) {
      const domain: SwitchboardHost =
        typeof props.host === "string" ? { name: props.host } : props.host;
      if (props.certificate === false) {
        throw new Error(
          `SwitchboardWebSocket ${this.node.path}: host ${domain.name} needs a certificate (certificate: false)`,
        );
      }
      const certificate =
        props.certificate && props.certificate !== true
          ? props.certificate
          : new Certificate(this, "Certificate", {
              domainName: domain.name,
              validation: CertificateValidation.fromDns(domain.hostedZone),
            });
      this.certificate = certificate;
      const domainName = new CfnDomainName(this, "DomainName", {
        domainName: domain.name,
        domainNameConfigurations: [
          {
            certificateArn: certificate.certificateArn,
            endpointType: "REGIONAL",
            securityPolicy: "TLS_1_2",
          },
        ],
      });
      this.domainName = domainName;
      const mapping = new CfnApiMapping(this, "ApiMapping", {
        apiId,
        domainName: domainName.ref,
        stage: this.stage.ref,
        ...(domain.basePath ? { apiMappingKey: domain.basePath } : {}),
      });
      mapping.node.addDependency(this.stage);
      if (domain.hostedZone) {
        new CfnRecordSet(this, "DomainRecord", {
          hostedZoneId: domain.hostedZone.hostedZoneId,
          name: domain.name,
          type: "A",
          aliasTarget: {
            dnsName: domainName.attrRegionalDomainName,
            hostedZoneId: domainName.attrRegionalHostedZoneId,
          },
        });
      }
    }

    if (props.outputs !== false) {
      new CfnOutput(this, "WebSocketUrl", { description: "Connect here (wss)", value: this.url });
      new CfnOutput(this, "ManagementEndpoint", {
        description: "@connections endpoint (ApiGatewayManagementApi client endpoint)",
        value: this.managementEndpoint,
      });
      if (this.table) {
        new CfnOutput(this, "ConnectionTableName", { value: this.table.tableName });
      }
      if (this.domainName && props.host !== undefined) {
        const domain = typeof props.host === "string" ? { name: props.host } : props.host;
        new CfnOutput(this, "CustomDomainUrl", {
          value: `wss://${domain.name}${domain.basePath ? `/${domain.basePath}` : ""}`,
        });
      }
    }
  }
}

/** Route key → function: the named routes, then `$connect`/`$disconnect`/`$default` (own, else `handler`). */
function routeTable(props: SwitchboardWebSocketProps): [string, IFunction][] {
  const out: [string, IFunction][] = [];
  const lifecycle: [string, IFunction | undefined][] = [
    ["$connect", props.connect],
    ["$disconnect", props.disconnect],
  ];
  for (const [key, fn] of lifecycle) {
    const chosen = fn ?? props.handler;
    if (chosen) out.push([key, chosen]);
  }
  for (const [key, fn] of Object.entries(props.routes ?? {})) {
    if (key === "$connect" || key === "$disconnect" || key === "$default") {
      throw new Error(`routes: ${key} is given by the ${key.slice(1)} prop`);
    }
    out.push([key, fn]);
  }
  const fallback = props.default ?? props.handler;
  if (fallback) out.push(["$default", fallback]);
  return out;
}
