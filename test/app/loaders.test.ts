// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Serverless and CloudFormation variables, written as users write them
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findConfigFile, loadApp } from "../../src/app/load.js";
import { formatLoadWarning } from "../../src/app/load-warning.js";
import { ModuleLoader } from "../../src/app/module-loader.js";
import {
  resolveServedEnvironment,
  SERVED_HOST,
  SERVED_PORT,
} from "../../src/app/served-environment.js";
import { ConfigError, formatConfigIssue } from "../../src/errors.js";

let tmp: string;
let loader: ModuleLoader;
let count = 0;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "switchboard-loaders-"));
  loader = new ModuleLoader({ cacheDir: path.join(tmp, ".cache") });
});

afterAll(async () => {
  await loader.dispose();
  await rm(tmp, { recursive: true, force: true });
});

const HANDLERS =
  "export const connect = async () => ({ statusCode: 200 });\nexport const send = async () => {};\nexport const auth = async () => ({ principalId: 'me' });\n";

/** A fresh app folder with the given files. */
async function appDir(files: Record<string, string>): Promise<string> {
  const dir = path.join(tmp, `app-${++count}`);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

/** The formatted issues of the ConfigError loading throws, with the folder written as `<dir>`. */
async function problems(dir: string, stage?: string): Promise<string[]> {
  const error = await loadApp(dir, { loader, ...(stage ? { stage } : {}) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConfigError))
    throw new Error(`expected a ConfigError, got ${String(error)}`);
  return error.issues.map((issue) => formatConfigIssue(issue).split(dir).join("<dir>"));
}

describe("finding the config file", () => {
  it("prefers Switchboard's own, then serverless, Architect, CloudFormation, LambdaSharp", async () => {
    const dir = await appDir({
      "Module.yml": "Module: A.B\nItems: []\n",
      "template.yaml": "Resources: {}\n",
      "package.json": '{ "name": "x" }',
    });
    expect(findConfigFile(dir)).toBe(path.join(dir, "template.yaml"));
    await writeFile(
      path.join(dir, "package.json"),
      '{ "name": "x", "arc": { "app": "x", "ws": [] } }',
    );
    expect(findConfigFile(dir)).toBe(path.join(dir, "package.json"));
    await writeFile(path.join(dir, "app.arc"), "@app\nx\n@ws\n");
    expect(findConfigFile(dir)).toBe(path.join(dir, "app.arc"));
    await writeFile(path.join(dir, "serverless.yml"), "service: x\n");
    expect(findConfigFile(dir)).toBe(path.join(dir, "serverless.yml"));
    await writeFile(path.join(dir, "switchboard.yaml"), "name: x\n");
    expect(findConfigFile(dir)).toBe(path.join(dir, "switchboard.yaml"));
  });

  it("recognizes a foreign file given by path from its content", async () => {
    const dir = await appDir({
      "handler.ts": HANDLERS,
      "chat-service.yml": [
        "service: named-differently",
        "provider: { name: aws }",
        "functions:",
        "  connect: { handler: handler.connect, events: [{ websocket: $connect }] }",
        "",
      ].join("\n"),
    });
    const app = await loadApp(path.join(dir, "chat-service.yml"), { loader });
    expect(app.source.format).toBe("serverless");
    expect(app.name).toBe("named-differently");
  });
});

describe("serverless.yml", () => {
  it("reports every problem with its line: conflicts, authorizers, handlers, variables", async () => {
    const dir = await appDir({
      "src/handler.ts": HANDLERS,
      "serverless.yml": [
        "service: chat",
        "provider:",
        "  name: aws",
        "  runtime: python3.12",
        "  environment:",
        "    TOKEN: ${ssm:/chat/token}",
        "functions:",
        "  connect:",
        "    handler: src/handler.connect",
        "    events:",
        "      - websocket:",
        "          route: $connect",
        "          authorizer: missingAuth",
        "  send:",
        "    handler: src/handler.send",
        "    events:",
        "      - websocket: send",
        "  sendAgain:",
        "    handler: src/handler.sendTwice",
        "    timeout: 1000",
        "    events:",
        "      - websocket:",
        "          route: send",
        "          routeResponseSelectionExpression: $request.body.x",
        "",
      ].join("\n"),
    });
    expect(await problems(dir)).toEqual([
      '<dir>/serverless.yml:4:3 provider.runtime — expected a Node.js runtime (nodejs18.x, nodejs20.x, ...), found a string ("python3.12")',
      '<dir>/serverless.yml:6:5 provider.environment.TOKEN — expected a variable source Switchboard resolves locally (self:, opt:stage, opt:region, env:, sls:stage, aws:region or aws:accountId) or a fallback, found "${ssm:/chat/token}"',
      '<dir>/serverless.yml:13:11 functions.connect.events[0].websocket.authorizer — expected the name of a function in this service (connect, send, sendAgain), found "missingAuth"',
      '<dir>/serverless.yml:19:5 functions.sendAgain.handler — expected an export named "sendTwice" in <dir>/src/handler.ts, found no export "sendTwice" (has: auth, connect, send)',
      "<dir>/serverless.yml:20:5 functions.sendAgain.timeout — expected a number of seconds from 1 to 900, found a number (1000)",
      '<dir>/serverless.yml:24:11 functions.sendAgain.events[0].websocket.routeResponseSelectionExpression — expected $default (the only route response key API Gateway supports), found a string ("$request.body.x")',
    ]);
  });

  it("gives a route that two functions claim to the later one, with a warning naming both (as serverless deploy does)", async () => {
    const dir = await appDir({
      "handler.js": "exports.a = async () => {}; exports.b = async () => {};\n",
      "package.json": "{}",
      "serverless.yml": [
        "service: chat",
        "functions:",
        "  a:",
        "    handler: handler.a",
        "    events: [{ websocket: chat }, { websocket: $default }]",
        "  b:",
        "    handler: handler.b",
        "    events:",
        "      - websocket:",
        "          route: chat",
        "",
      ].join("\n"),
    });
    const app = await loadApp(dir, { loader });
    expect(app.routes.map((r) => [r.key, r.target?.export, r.functionName])).toEqual([
      ["$default", "a", "chat-dev-a"],
      ["chat", "b", "chat-dev-b"],
    ]);
    expect(app.warnings?.map(formatLoadWarning)).toEqual([
      `${path.join(dir, "serverless.yml")}:10:11 functions.b.events[0].websocket.route — warning: route "chat" is declared by function a and again by function b; function b gets it (the later declaration wins, as in serverless deploy)`,
    ]);
  });

  it("asks for a stage when ${opt:stage} has no fallback", async () => {
    const dir = await appDir({
      "handler.ts": HANDLERS,
      "serverless.yml":
        "service: chat\nprovider:\n  stage: ${opt:stage}\nfunctions:\n  c: { handler: handler.connect, events: [{ websocket: $connect }] }\n",
    });
    expect(await problems(dir)).toEqual([
      "<dir>/serverless.yml:3:3 provider.stage — expected a value for ${opt:stage} (pass --stage, or give a fallback: ${opt:stage, 'dev'}), found none",
    ]);
    const app = await loadApp(dir, { loader, stage: "qa" });
    expect(app.stage).toBe("qa");
  });

  it("leaves alone what a local WebSocket run does not read", async () => {
    const dir = await appDir({
      "handler.ts": HANDLERS,
      "serverless.yml": [
        "service: chat",
        "custom: { secret: '${ssm:/prod/secret}' }",
        "provider: { name: aws, iam: { role: '${cf:other.RoleArn}' } }",
        "functions:",
        "  api: { handler: handler.send, environment: { KEY: '${ssm:/prod/key}' }, events: [{ http: GET / }] }",
        "  c: { handler: handler.connect, events: [{ websocket: $connect }] }",
        "resources:",
        "  Resources:",
        "    Bucket: { Type: AWS::S3::Bucket, Properties: { BucketName: '${ssm:/prod/bucket}' } }",
        "",
      ].join("\n"),
    });
    const app = await loadApp(dir, { loader });
    expect(app.routes.map((r) => r.key)).toEqual(["$connect"]);
  });

  it("resolves the common variables", async () => {
    process.env.SB_TEST_REGION_NAME = "eu";
    const dir = await appDir({
      "handler.ts": HANDLERS,
      "serverless.yml": [
        "service: ${self:custom.base}-svc",
        "custom: { base: chat, timeouts: { dev: 7 }, answer: 42 }",
        "provider:",
        "  stage: ${opt:stage, 'dev'}",
        "  environment:",
        "    STAGE: ${sls:stage}",
        "    WHERE: ${env:SB_TEST_REGION_NAME}-${env:SB_TEST_UNSET, 'none'}",
        "    ANSWER: ${self:custom.answer}",
        "functions:",
        "  c:",
        "    handler: handler.connect",
        "    timeout: ${self:custom.timeouts.${sls:stage}}",
        "    events: [{ websocket: $connect }]",
        "",
      ].join("\n"),
    });
    const app = await loadApp(dir, { loader });
    expect(app.name).toBe("chat-svc");
    expect(app.environment).toEqual({ STAGE: "dev", WHERE: "eu-none", ANSWER: "42" });
    expect(app.routes[0]).toMatchObject({ timeoutMs: 7000, functionName: "chat-svc-dev-c" });
    delete process.env.SB_TEST_REGION_NAME;
  });
});

describe("serverless.yml: provider.region", () => {
  const service = (region: string) => ({
    "handler.ts": HANDLERS,
    "serverless.yml": [
      "service: where",
      "provider:",
      `  region: ${region}`,
      "  environment:",
      "    SEEN: ${aws:region}",
      "functions:",
      "  c:",
      "    handler: handler.connect",
      "    events: [{ websocket: $connect }]",
      "",
    ].join("\n"),
  });

  it("is read through its variables: the fallback, or the region chosen for the run", async () => {
    const dir = await appDir(service("${opt:region, 'eu-north-1'}"));
    expect(await loadApp(dir, { loader })).toMatchObject({
      region: "eu-north-1",
      environment: { SEEN: "eu-north-1" },
    });
    expect(await loadApp(dir, { loader, region: "ap-south-2" })).toMatchObject({
      region: "ap-south-2",
      environment: { SEEN: "ap-south-2" },
    });
  });

  it("${opt:region} alone is the region of the local run (AWS_REGION, else us-east-1)", async () => {
    const saved = process.env.AWS_REGION;
    process.env.AWS_REGION = "sa-east-1";
    try {
      const app = await loadApp(await appDir(service("${opt:region}")), { loader });
      expect(app).toMatchObject({ region: "sa-east-1", environment: { SEEN: "sa-east-1" } });
    } finally {
      if (saved === undefined) delete process.env.AWS_REGION;
      else process.env.AWS_REGION = saved;
    }
  });

  it("refuses a value that is no region", async () => {
    expect(await problems(await appDir(service("Europe")))).toEqual([
      '<dir>/serverless.yml:3:3 provider.region — expected an AWS region such as eu-north-1, found a string ("Europe")',
    ]);
  });
});

describe("serverless.ts", () => {
  it("reads the service from the module's default export", async () => {
    const dir = await appDir({
      "src/handler.ts": HANDLERS,
      "serverless.ts": [
        "const handlerPath = (dir: string) => dir.split('/').slice(-1)[0];",
        "const service = {",
        "  service: 'typed-sls',",
        "  provider: { name: 'aws', runtime: 'nodejs20.x', stage: '${opt:stage, \"beta\"}' },",
        "  functions: {",
        "    connect: { handler: `${handlerPath(__dirname)}/../src/handler.connect`, events: [{ websocket: { route: '$connect' } }] },",
        "  },",
        "};",
        "export default service;",
        "",
      ].join("\n"),
    });
    const app = await loadApp(dir, { loader });
    expect(app).toMatchObject({
      name: "typed-sls",
      stage: "beta",
      source: { format: "serverless" },
    });
    expect(app.routes[0]?.target?.file).toBe(path.join(dir, "src/handler.ts"));
  });
});

describe("Architect", () => {
  it("reports a @ws route without a handler folder, at its line in app.arc", async () => {
    const dir = await appDir({
      "app.arc": "@app\nchat\n\n@ws\nsend\n$default\n",
      "src/ws/connect/index.mjs": "export const handler = async () => ({ statusCode: 200 });\n",
      "src/ws/disconnect/index.mjs": "export const handler = async () => ({ statusCode: 200 });\n",
      "src/ws/default/index.mjs": "export async function notHandler() {}\n",
    });
    expect(await problems(dir)).toEqual([
      '<dir>/app.arc:4:1 ws.default — expected an export named "handler" in <dir>/src/ws/default/index.mjs, found no export "handler" (has: notHandler)',
      "<dir>/app.arc:5:1 ws.send — expected a handler module src/ws/send/index.{mjs,js,cjs,ts} for @ws route send, found no folder src/ws/send",
      '<dir>/app.arc:6:1 ws.$default — expected a route name without "$" (connect, default and disconnect are added for you), found "$default"',
    ]);
  });

  it("reads arc.json, arc.yaml and package.json the same way", async () => {
    const handlers = {
      "src/ws/connect/index.js": "exports.handler = async () => ({ statusCode: 200 });\n",
      "src/ws/disconnect/index.js": "exports.handler = async () => ({ statusCode: 200 });\n",
      "src/ws/default/index.js": "exports.handler = async () => ({ statusCode: 200 });\n",
      "lib/chat/index.mjs": "export const handler = async () => ({ statusCode: 200 });\n",
    };
    const forms = {
      "arc.json": '{ "app": "chat", "ws": [{ "chat": { "src": "lib/chat" } }] }',
      "arc.yaml": "app: chat\nws:\n  - chat:\n      src: lib/chat\n",
      "package.json":
        '{ "name": "chat", "arc": { "app": ["chat"], "ws": [{ "chat": { "src": "lib/chat" } }] } }',
    };
    for (const [name, text] of Object.entries(forms)) {
      const dir = await appDir({ ...handlers, [name]: text });
      const app = await loadApp(dir, { loader });
      expect(app.source.file).toBe(path.join(dir, name));
      expect(app.routes.map((r) => r.key)).toEqual(["$connect", "$disconnect", "$default", "chat"]);
      expect(app.routes[3]?.target?.file).toBe(path.join(dir, "lib/chat/index.mjs"));
    }
    const bad = await appDir({
      ...handlers,
      "package.json": '{ "arc": { "app": "chat", "ws": [{ "chat": { "src": "lib/nope" } }] } }',
    });
    expect(await problems(bad)).toEqual([
      "<dir>/package.json:1:46 arc.ws[0].chat.src — expected a handler module lib/nope/index.{mjs,js,cjs,ts} for @ws route chat, found no folder lib/nope",
    ]);
  });

  it("keeps @ws route names with /, . and _ as route keys and names their functions as Architect does", async () => {
    const handler = "export const handler = async () => ({ statusCode: 200 });\n";
    const names = ["chat/join", "chat.send", "chat_leave", "room-list"];
    const dir = await appDir({
      "app.arc": `@app\nnamed\n\n@ws\n${names.join("\n")}\n`,
      ...Object.fromEntries(
        ["connect", "disconnect", "default", ...names].map((n) => [
          `src/ws/${n}/index.mjs`,
          handler,
        ]),
      ),
    });
    const app = await loadApp(dir, { loader });
    const custom = app.routes.slice(3);
    expect(custom.map((r) => r.key)).toEqual(names);
    // @architect/utils getLambdaName: "-" and "." → "_", "/" → "-" (Sandbox's context shows the same encoding).
    expect(custom.map((r) => r.functionName)).toEqual([
      "named-testing-ws-chat-join",
      "named-testing-ws-chat_send",
      "named-testing-ws-chat_leave",
      "named-testing-ws-room_list",
    ]);
    expect(custom[0]?.target?.file).toBe(path.join(dir, "src/ws/chat/join/index.mjs"));
  });
});

describe("SAM / CloudFormation", () => {
  it("reports integrations that cannot be read and unresolvable references, with lines", async () => {
    const dir = await appDir({
      "src/app.mjs": HANDLERS,
      "template.yaml": [
        "Transform: AWS::Serverless-2016-10-31",
        "Resources:",
        "  Api:",
        "    Type: AWS::ApiGatewayV2::Api",
        "    Properties: { Name: chat, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action }",
        "  SendRoute:",
        "    Type: AWS::ApiGatewayV2::Route",
        "    Properties:",
        "      ApiId: !Ref Api",
        "      RouteKey: send",
        "      Target: !Sub integrations/${SendInteg}",
        "  SendInteg:",
        "    Type: AWS::ApiGatewayV2::Integration",
        "    Properties:",
        "      ApiId: !Ref Api",
        "      IntegrationType: HTTP_PROXY",
        "      IntegrationUri: ftp://example.com",
        "  ConnectRoute:",
        "    Type: AWS::ApiGatewayV2::Route",
        "    Properties:",
        "      ApiId: !Ref Api",
        "      RouteKey: $connect",
        "      Target: !Join ['/', [integrations, !Ref ConnectInteg]]",
        "  ConnectInteg:",
        "    Type: AWS::ApiGatewayV2::Integration",
        "    Properties:",
        "      ApiId: !Ref Api",
        "      IntegrationType: AWS_PROXY",
        "      IntegrationUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${ConnectFn.Arn}/invocations",
        "  ConnectFn:",
        "    Type: AWS::Serverless::Function",
        "    Properties:",
        "      CodeUri: src/",
        "      Handler: app.connect",
        "      Runtime: nodejs20.x",
        "      Environment:",
        "        Variables:",
        "          TABLE: !Ref MissingTable",
        "",
      ].join("\n"),
    });
    expect(await problems(dir)).toEqual([
      '<dir>/template.yaml:17:7 Resources.SendInteg.Properties.IntegrationUri — expected an http:// or https:// URL, found a string ("ftp://example.com")',
      '<dir>/template.yaml:38:11 Resources.ConnectFn.Properties.Environment.Variables.TABLE.Ref — expected the name of a parameter, pseudo parameter or resource in this template, found "MissingTable"',
    ]);
  });

  it("names the missing resource of a !GetAtt (short and long form), where it is written", async () => {
    const dir = await appDir({
      "src/app.mjs": HANDLERS,
      "template.yaml": [
        "Transform: AWS::Serverless-2016-10-31",
        "Resources:",
        "  Api:",
        "    Type: AWS::ApiGatewayV2::Api",
        "    Properties: { Name: chat, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action }",
        "  ConnectRoute:",
        "    Type: AWS::ApiGatewayV2::Route",
        "    Properties:",
        "      ApiId: !Ref Api",
        "      RouteKey: $connect",
        "      Target: !Sub integrations/${ConnectInteg}",
        "  ConnectInteg:",
        "    Type: AWS::ApiGatewayV2::Integration",
        "    Properties:",
        "      ApiId: !Ref Api",
        "      IntegrationType: AWS_PROXY",
        "      IntegrationUri: !GetAtt NoSuchFunction.Arn",
        "  DefaultRoute:",
        "    Type: AWS::ApiGatewayV2::Route",
        "    Properties:",
        "      ApiId: !Ref Api",
        "      RouteKey: $default",
        "      Target: !Sub integrations/${DefaultInteg}",
        "  DefaultInteg:",
        "    Type: AWS::ApiGatewayV2::Integration",
        "    Properties:",
        "      ApiId: !Ref Api",
        "      IntegrationType: AWS_PROXY",
        "      IntegrationUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${ConnectFn.Arn}/invocations",
        "  ConnectFn:",
        "    Type: AWS::Serverless::Function",
        "    Properties:",
        "      CodeUri: src/",
        "      Handler: app.connect",
        "      Environment:",
        "        Variables:",
        "          QUEUE: !GetAtt MissingQueue.Arn",
        "          TOPIC:",
        "            Fn::GetAtt: [MissingTopic, TopicName]",
        "",
      ].join("\n"),
    });
    expect(await problems(dir)).toEqual([
      '<dir>/template.yaml:17:7 Resources.ConnectInteg.Properties.IntegrationUri["Fn::GetAtt"] — expected the name of a resource in this template, found "NoSuchFunction"',
      '<dir>/template.yaml:37:11 Resources.ConnectFn.Properties.Environment.Variables.QUEUE["Fn::GetAtt"] — expected the name of a resource in this template, found "MissingQueue"',
      '<dir>/template.yaml:39:13 Resources.ConnectFn.Properties.Environment.Variables.TOPIC["Fn::GetAtt"] — expected the name of a resource in this template, found "MissingTopic"',
    ]);
  });

  it("reads JSON templates with the long forms", async () => {
    const dir = await appDir({
      "fn/index.js": "exports.handler = async () => ({ statusCode: 200 });\n",
      "package.json": "{}",
      "template.json": JSON.stringify({
        AWSTemplateFormatVersion: "2010-09-09",
        Parameters: { Stage: { Type: "String", Default: "beta" } },
        Resources: {
          Api: {
            Type: "AWS::ApiGatewayV2::Api",
            Properties: {
              Name: "json-chat",
              ProtocolType: "WEBSOCKET",
              RouteSelectionExpression: "$request.body.type",
            },
          },
          Stage: {
            Type: "AWS::ApiGatewayV2::Stage",
            Properties: { ApiId: { Ref: "Api" }, StageName: { Ref: "Stage" } },
          },
          Route: {
            Type: "AWS::ApiGatewayV2::Route",
            Properties: {
              ApiId: { Ref: "Api" },
              RouteKey: "$default",
              Target: { "Fn::Join": ["/", ["integrations", { Ref: "Integ" }]] },
            },
          },
          Integ: {
            Type: "AWS::ApiGatewayV2::Integration",
            Properties: {
              ApiId: { Ref: "Api" },
              IntegrationType: "AWS_PROXY",
              IntegrationUri: { "Fn::GetAtt": ["Fn", "Arn"] },
            },
          },
          Fn: {
            Type: "AWS::Lambda::Function",
            Properties: {
              Code: "fn",
              Handler: "index.handler",
              Runtime: "nodejs20.x",
              Timeout: 60,
            },
          },
        },
      }),
    });
    const app = await loadApp(dir, { loader });
    expect(app).toMatchObject({
      name: "json-chat",
      stage: "beta",
      routeSelectionExpression: "$request.body.type",
    });
    expect(app.routes).toMatchObject([
      { key: "$default", timeoutMs: 29_000, memoryMb: 128, functionName: `app-${count}-Fn` },
    ]);
  });
});

describe("LambdaSharp module", () => {
  it("reports a missing method and a missing function folder", async () => {
    const dir = await appDir({
      "ChatFunction/Function.ts": "export class Function { async OpenAsync() {} }\n",
      "Module.yml": [
        "Module: Sample.Chat",
        "Items:",
        "  - Function: ChatFunction",
        "    Sources:",
        "      - WebSocket: $connect",
        "        Invoke: OpenConnectionAsync",
        "  - Function: MissingFunction",
        "    Memory: 64",
        "    Sources:",
        "      - WebSocket: send",
        "",
      ].join("\n"),
    });
    expect(await problems(dir)).toEqual([
      '<dir>/Module.yml:6:9 Items[0].Sources[0].Invoke — expected a method of class Function, found no method "OpenConnectionAsync" on class Function (has: OpenAsync)',
      "<dir>/Module.yml:7:5 Items[1].Function — expected the function's code in MissingFunction/Function.{ts,js,mjs} or MissingFunction/index.* (one folder per function), found no such file",
    ]);
  });
});

describe("served environment placeholders", () => {
  it("fills in host and port once the app is served", () => {
    const env = { URL: `ws://${SERVED_HOST}:${SERVED_PORT}/dev`, OTHER: "x" };
    expect(resolveServedEnvironment(env, { host: "0.0.0.0", port: 4000 })).toEqual({
      URL: "ws://127.0.0.1:4000/dev",
      OTHER: "x",
    });
    expect(resolveServedEnvironment(env, { host: "::1", port: 4000 }).URL).toBe(
      "ws://[::1]:4000/dev",
    );
  });
});
