import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildResult, buildAwsApp } from "../../src/aws/build.js";
import { ConfigError, SwitchboardError } from "../../src/errors.js";
import { FAKE_AWS, type RunningDynalite, startDynalite } from "../helpers/dynalite.js";
import { CHAT_EXAMPLE, repoScratchDir } from "../helpers/repo-paths.js";

const TMP = repoScratchDir("aws-build");

let first: BuildResult;

beforeAll(async () => {
  await mkdir(TMP, { recursive: true });
  first = await buildAwsApp({ target: CHAT_EXAMPLE, outDir: path.join(TMP, "chat-1") });
});

afterAll(async () => {
  await rm(TMP, { recursive: true, force: true });
});

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** A throwaway app folder in TMP. */
async function appDir(files: Record<string, string>): Promise<string> {
  const dir = path.join(TMP, `app-${randomBytes(3).toString("hex")}`);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

describe("switchboard build: the chat example", () => {
  it("writes template.json, manifest.json and one zip per function", async () => {
    expect(await listTree(first.outDir)).toEqual([
      "functions/Connect.zip",
      "functions/Default.zip",
      "functions/Disconnect.zip",
      "functions/Send.zip",
      "functions/Whoami.zip",
      "manifest.json",
      "template.json",
    ]);
    const template = JSON.parse(await readFile(first.templateFile, "utf8"));
    expect(template).toEqual(first.template);
    const manifest = JSON.parse(await readFile(first.manifestFile, "utf8"));
    for (const fn of manifest.functions) {
      const bytes = await readFile(path.join(first.outDir, fn.zip));
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(fn.sha256);
      expect(fn.s3Key).toBe(`${fn.name}-${fn.sha256}.zip`);
      expect(template.Parameters[`${fn.name}ArtifactKey`].Default).toBe(fn.s3Key);
    }
    // Nothing left beside the output folder.
    expect(
      (await readdir(TMP)).filter((n) => n.includes(".staging-") || n.includes(".previous-")),
    ).toEqual([]);
  });

  it("zips deterministically: a second build gives byte-identical zips and template", async () => {
    const second = await buildAwsApp({ target: CHAT_EXAMPLE, outDir: path.join(TMP, "chat-2") });
    for (const fn of first.functions) {
      const a = await readFile(path.join(first.outDir, fn.zip));
      const b = await readFile(path.join(second.outDir, fn.zip));
      expect(Buffer.compare(a, b), fn.zip).toBe(0);
    }
    expect(await readFile(second.templateFile, "utf8")).toBe(
      await readFile(first.templateFile, "utf8"),
    );
  });

  it("ships an ESM entry, its source map, the user's deps and Switchboard's runtime; @aws-sdk stays external", async () => {
    const files = unzipSync(
      new Uint8Array(await readFile(path.join(first.outDir, "functions/Send.zip"))),
    );
    expect(Object.keys(files)).toEqual(["index.mjs", "index.mjs.map"]);
    const code = new TextDecoder().decode(files["index.mjs"]);
    expect(code).toMatch(/export\s*\{[^}]*handler/);
    expect(code).toContain("Bad request body"); // the runtime's validation, bundled
    expect(code).toMatch(/from "@aws-sdk\/client-apigatewaymanagementapi"/);
    expect(code).not.toMatch(/from "(zod|switchboard)/);
  });
});

describe("switchboard build: bad input fails, naming file and route, and leaves --out as it was", () => {
  const handlers = [
    "export async function connect() { return { statusCode: 200 }; }",
    "export class Chat { join() {} }",
    "",
  ].join("\n");

  async function expectUntouched(
    target: string,
    pattern: RegExp,
    kind: abstract new (...args: never[]) => Error = ConfigError,
  ) {
    const outDir = path.join(TMP, `out-${randomBytes(3).toString("hex")}`);
    await buildAwsApp({ target: CHAT_EXAMPLE, outDir }); // an earlier good build
    const before = await listTree(outDir);
    const manifest = await readFile(path.join(outDir, "manifest.json"), "utf8");
    const error = await buildAwsApp({ target, outDir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(kind);
    expect((error as Error).message).toMatch(pattern);
    expect(await listTree(outDir)).toEqual(before);
    expect(await readFile(path.join(outDir, "manifest.json"), "utf8")).toBe(manifest);
    expect((await readdir(TMP)).filter((n) => n.includes(".staging-"))).toEqual([]);
    return (error as Error).message;
  }

  it("a handler that does not compile", async () => {
    const dir = await appDir({
      "switchboard.yaml":
        "name: broken\nroutes:\n  $connect: handlers.mjs#connect\n  send: broken.ts#send\n",
      "handlers.mjs": handlers,
      "broken.ts": "export const send = (;\n",
    });
    const message = await expectUntouched(dir, /switchboard\.yaml:\d+:\d+ routes\.send/);
    expect(message).toContain("broken.ts");
  });

  it("a method that does not exist", async () => {
    const dir = await appDir({
      "switchboard.yaml":
        "name: nomethod\nroutes:\n  $connect: handlers.mjs#connect\n  join:\n    handler: handlers.mjs#Chat\n    method: leave\n",
      "handlers.mjs": handlers,
    });
    const message = await expectUntouched(dir, /routes\.join\.method/);
    expect(message).toContain('no method "leave"');
  });

  it("route keys whose CloudFormation names clash", async () => {
    const dir = await appDir({
      "switchboard.yaml":
        "name: clash\nroutes:\n  $connect: handlers.mjs#connect\n  sendMessage: handlers.mjs#connect\n  send-message: handlers.mjs#connect\n",
      "handlers.mjs": handlers,
    });
    const message = await expectUntouched(dir, /switchboard\.yaml routes\.send-message/);
    expect(message).toContain('also produced by route "sendMessage"');
  });

  it("an authorizer with no $connect route", async () => {
    const dir = await appDir({
      "switchboard.yaml":
        "name: noconnect\nauthorizer:\n  handler: handlers.mjs#connect\nroutes:\n  $default: handlers.mjs#connect\n",
      "handlers.mjs": handlers,
    });
    // Refused by the loader now (as validate does), so the issue has its line.
    await expectUntouched(dir, /switchboard\.yaml:2:1 authorizer — expected a \$connect route/);
  });

  it("refuses to replace a folder that holds something other than an earlier build", async () => {
    const outDir = path.join(TMP, "not-ours");
    await mkdir(outDir, { recursive: true });
    await writeFile(path.join(outDir, "keep.txt"), "mine");
    await expect(buildAwsApp({ target: CHAT_EXAMPLE, outDir })).rejects.toBeInstanceOf(
      SwitchboardError,
    );
    expect(await listTree(outDir)).toEqual(["keep.txt"]);
  });
});

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/** Native `import()` (not the test runner's), so the bundle and this test share node_modules' SDK. */
const nativeImport = async (specifier: string): Promise<Record<string, unknown>> => {
  const helper = path.join(TMP, "native-import.cjs");
  await writeFile(helper, "module.exports = (specifier) => import(specifier);\n");
  return (
    createRequire(import.meta.url)(helper) as (s: string) => Promise<Record<string, unknown>>
  )(specifier);
};

function event(routeKey: string, connectionId: string, extra: Record<string, unknown> = {}) {
  const eventType =
    routeKey === "$connect" ? "CONNECT" : routeKey === "$disconnect" ? "DISCONNECT" : "MESSAGE";
  return {
    requestContext: {
      routeKey,
      eventType,
      extendedRequestId: "req=",
      requestId: "req=",
      requestTime: "11/Nov/2024:11:35:24 +0000",
      requestTimeEpoch: 1731324924561,
      messageDirection: "IN",
      stage: "dev",
      connectedAt: 1731324924553,
      domainName: "abc123.execute-api.us-east-1.amazonaws.com",
      connectionId,
      apiId: "abc123",
      identity: { sourceIp: "127.0.0.1" },
      ...(eventType === "MESSAGE" ? { messageId: "msg=" } : {}),
    },
    isBase64Encoded: false,
    ...extra,
  };
}

const lambdaContext = {
  functionName: "test",
  awsRequestId: "r",
  getRemainingTimeInMillis: () => 29_000,
};

describe("a built bundle runs as Lambda would run it (mocked management API, DynamoDB on dynalite)", () => {
  let dynamo: RunningDynalite;
  const saved = { ...process.env };
  const posted: Array<{ ConnectionId: string; Data: string }> = [];
  let restore: () => void = () => {};

  beforeAll(async () => {
    dynamo = await startDynalite();
    const tableName = "chat-connections";
    await dynamo.createTable(tableName, first.template.Resources.ConnectionTable?.Properties ?? {});
    // What the template gives each function, with the Refs resolved.
    Object.assign(process.env, {
      SWITCHBOARD_CONNECTION_TABLE: tableName,
      SWITCHBOARD_CONNECTION_TTL: "7200",
      SWITCHBOARD_CONNECTION_INDEXES: "room,user",
      SWITCHBOARD_MANAGEMENT_ENDPOINT: "https://abc123.execute-api.us-east-1.amazonaws.com/dev",
      CHAT_USERS: "alice,bob",
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_REGION: FAKE_AWS.region,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
    });
    // The management API is mocked at the SDK client the bundle imports (the same module instance).
    const sdk = await nativeImport("@aws-sdk/client-apigatewaymanagementapi");
    const Client = sdk.ApiGatewayManagementApiClient as {
      prototype: { send: (command: unknown) => Promise<unknown> };
    };
    const original = Client.prototype.send;
    Client.prototype.send = async function send(command: unknown) {
      const input = (command as { input: { ConnectionId: string; Data?: Uint8Array } }).input;
      if (input.ConnectionId === "gone=") {
        throw Object.assign(new Error("gone"), {
          name: "GoneException",
          $metadata: { httpStatusCode: 410 },
        });
      }
      posted.push({ ConnectionId: input.ConnectionId, Data: new TextDecoder().decode(input.Data) });
      return {};
    };
    restore = () => {
      Client.prototype.send = original;
    };
  });

  afterAll(async () => {
    restore();
    process.env = saved;
    await dynamo?.close();
  });

  async function load(name: string): Promise<Handler> {
    const dir = path.join(TMP, "unzipped", name);
    await mkdir(dir, { recursive: true });
    const files = unzipSync(
      new Uint8Array(await readFile(path.join(first.outDir, `functions/${name}.zip`))),
    );
    for (const [file, bytes] of Object.entries(files)) await writeFile(path.join(dir, file), bytes);
    const mod = await nativeImport(pathToFileURL(path.join(dir, "index.mjs")).href);
    return mod.handler as Handler;
  }

  it("connects (row in DynamoDB), broadcasts to the room by its index, answers a two-way route, drops gone connections", async () => {
    const connect = await load("Connect");
    const send = await load("Send");
    const whoami = await load("Whoami");

    expect(
      await connect(
        event("$connect", "alice=", { queryStringParameters: { user: "alice", room: "lobby" } }),
        lambdaContext,
      ),
    ).toEqual({ statusCode: 200 });
    expect(
      await connect(
        event("$connect", "mallory=", { queryStringParameters: { user: "mallory" } }),
        lambdaContext,
      ),
    ).toEqual({ statusCode: 403 });
    posted.length = 0;
    expect(
      await connect(
        event("$connect", "bob=", { queryStringParameters: { user: "bob", room: "lobby" } }),
        lambdaContext,
      ),
    ).toEqual({ statusCode: 200 });
    // alice heard bob join (through the room-index query).
    expect(posted).toEqual([
      {
        ConnectionId: "alice=",
        Data: JSON.stringify({ type: "joined", user: "bob", room: "lobby" }),
      },
    ]);

    // A connection that is gone: the broadcast reports it and it leaves the table.
    const { DynamoDbConnectionStore } = await import(
      "../../src/runtime/connection-store-dynamodb.js"
    );
    const table = new DynamoDbConnectionStore({
      tableName: "chat-connections",
      client: dynamo.client,
      ttlSeconds: 7200,
      indexes: ["room", "user"],
    });
    await table.put({ connectionId: "gone=", user: "carol", room: "lobby" });

    posted.length = 0;
    await send(
      event("send", "alice=", { body: JSON.stringify({ action: "send", text: "hi" }) }),
      lambdaContext,
    );
    expect(posted.map((p) => p.ConnectionId).sort()).toEqual(["alice=", "bob="]);
    expect(JSON.parse(posted[0]!.Data)).toMatchObject({
      type: "message",
      from: "alice",
      text: "hi",
    });
    expect(await table.get("gone=")).toBeUndefined();

    // The body schema runs in Lambda too: AWS's Bad request body frame, handler not called.
    posted.length = 0;
    expect(
      await send(
        event("send", "alice=", { body: JSON.stringify({ action: "send", text: "" }) }),
        lambdaContext,
      ),
    ).toEqual({ statusCode: 400 });
    expect(posted).toEqual([
      {
        ConnectionId: "alice=",
        Data: '{"message" : "Bad request body", "connectionId": "alice=", "messageId": "msg="}',
      },
    ]);

    const answer = (await whoami(
      event("whoami", "bob=", { body: '{"action":"whoami"}' }),
      lambdaContext,
    )) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({
      type: "whoami",
      connectionId: "bob=",
      user: "bob",
      room: "lobby",
    });

    const row = await table.get("bob=");
    expect(row?.expiresAt).toBeGreaterThan(Date.now() / 1000 + 7000);
  });

  it("runs method routes and config-declared body schemas through the generated entry", async () => {
    const dir = await appDir({
      "switchboard.yaml": [
        "name: methods",
        "stage: dev",
        "routes:",
        "  $default:",
        "    handler: chat.ts#Chat",
        "    method: echo",
        "    routeResponse: true",
        "  shout:",
        "    handler: chat.ts#Chat",
        "    method: shout",
        "    body: schema.ts#Shout",
        "    routeResponse: true",
        "  legacy:",
        "    handler: legacy.cjs#handler",
        "    routeResponse: true",
        "",
      ].join("\n"),
      "chat.ts": [
        'import { WebSocketFunction, type WebSocketContext } from "switchboard/runtime";',
        "export class Chat extends WebSocketFunction {",
        "  greeting = '';",
        "  override async initialize() { this.greeting = 'hello'; }",
        "  async echo(body: unknown, ctx: WebSocketContext) { return { greeting: this.greeting, body, route: ctx.routeKey }; }",
        "  async shout(body: { text: string }) { return body.text.toUpperCase(); }",
        "}",
        "",
      ].join("\n"),
      "schema.ts": [
        "export const Shout = {",
        "  '~standard': {",
        "    version: 1, vendor: 'test',",
        "    validate: (v: any) => typeof v?.text === 'string' ? { value: { text: v.text + '!' } } : { issues: [{ message: 'text' }] },",
        "  },",
        "};",
        "",
      ].join("\n"),
      "legacy.cjs":
        "exports.handler = (event, context, callback) => callback(null, { statusCode: 200, body: 'cb:' + event.body });\n",
    });
    const built = await buildAwsApp({ target: dir, outDir: path.join(dir, "dist") });
    expect(built.functions.map((f) => f.name)).toEqual(["Default", "Shout", "Legacy"]);
    const loadFrom = async (name: string) => {
      const out = path.join(dir, "unzipped", name);
      await mkdir(out, { recursive: true });
      const files = unzipSync(
        new Uint8Array(await readFile(path.join(built.outDir, `functions/${name}.zip`))),
      );
      for (const [file, bytes] of Object.entries(files))
        await writeFile(path.join(out, file), bytes);
      return (await nativeImport(pathToFileURL(path.join(out, "index.mjs")).href))
        .handler as Handler;
    };
    const echo = await loadFrom("Default");
    expect(await echo(event("$default", "c1=", { body: '{"a":1}' }), lambdaContext)).toEqual({
      statusCode: 200,
      body: JSON.stringify({ greeting: "hello", body: { a: 1 }, route: "$default" }),
    });
    const shout = await loadFrom("Shout");
    expect(await shout(event("shout", "c1=", { body: '{"text":"hey"}' }), lambdaContext)).toEqual({
      statusCode: 200,
      body: "HEY!",
    });
    posted.length = 0;
    expect(await shout(event("shout", "c1=", { body: '{"nope":1}' }), lambdaContext)).toEqual({
      statusCode: 400,
    });
    expect(posted[0]?.Data).toContain("Bad request body");
    const legacy = await loadFrom("Legacy");
    expect(await legacy(event("legacy", "c1=", { body: "x" }), lambdaContext)).toEqual({
      statusCode: 200,
      body: "cb:x",
    });
  });
});
