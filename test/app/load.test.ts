import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_FILE_NAMES, findConfigFile, loadApp } from "../../src/app/load.js";
import { FOREIGN_CONFIG_FILES } from "../../src/app/loaders/index.js";
import { DEFAULT_LIMITS } from "../../src/app/model.js";
import { ModuleLoader } from "../../src/app/module-loader.js";
import { ConfigError, formatConfigIssue } from "../../src/errors.js";

let tmp: string;
let loader: ModuleLoader;
let count = 0;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "switchboard-load-"));
  loader = new ModuleLoader({ cacheDir: path.join(tmp, ".cache") });
});

afterAll(async () => {
  await loader.dispose();
  await rm(tmp, { recursive: true, force: true });
});

const SCHEMA = `{
  "~standard": { version: 1, vendor: "test", validate: (value) => ({ value }) },
}`;

/** Handler modules every fixture app gets. */
const HANDLERS: Record<string, string> = {
  "src/connect.ts": "export async function handler() { return { statusCode: 200 }; }\n",
  "src/chat.ts": [
    "export async function send() {}",
    "export const notAFunction = 42;",
    "class Base { initialize() {} }",
    "export class ChatFunction extends Base { join() {} send() {} }",
    "export const chat = { send() {}, leave() {} };",
    "",
  ].join("\n"),
  "src/legacy.cjs": "module.exports.handler = async () => ({ statusCode: 200 });\n",
  "src/auth.ts": "export const authorize = async () => ({ principalId: 'me' });\n",
  "src/schemas.ts": `export const SendBody = ${SCHEMA};\nexport const notASchema = {};\n`,
  "src/broken.ts": "export const handler = (;\n",
};

/** A fresh app folder with the handler modules and the given files. */
async function appDir(files: Record<string, string>): Promise<string> {
  const dir = path.join(tmp, `app-${++count}`);
  for (const [name, text] of Object.entries({ ...HANDLERS, ...files })) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

/** The formatted issues of the ConfigError that loading throws. */
async function problems(target: string, stage?: string): Promise<string[]> {
  const error = await loadApp(target, { loader, ...(stage ? { stage } : {}) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).issues.map(formatConfigIssue);
}

describe("findConfigFile", () => {
  it("prefers TypeScript, then YAML, then JSON", async () => {
    const dir = await appDir({ "switchboard.json": "{}", "switchboard.yml": "" });
    expect(findConfigFile(dir)).toBe(path.join(dir, "switchboard.yml"));
    await writeFile(path.join(dir, "switchboard.config.mjs"), "");
    expect(findConfigFile(dir)).toBe(path.join(dir, "switchboard.config.mjs"));
    expect(findConfigFile(path.join(dir, "src"))).toBeUndefined();
    expect(CONFIG_FILE_NAMES[0]).toBe("switchboard.config.ts");
  });
});

describe("loadApp: valid configs", () => {
  it("normalizes a YAML config", async () => {
    const dir = await appDir({
      "switchboard.yaml": `name: chat
stage: prod
routeSelectionExpression: \${request.body.service}/\${request.body.action}
routes:
  $connect: src/connect.ts
  send:
    handler: src/chat.ts#send
    routeResponse: true
    body: src/schemas.ts#SendBody
    timeout: 10
    memory: 256
    environment:
      ROOM: lobby
  chat/join:
    handler: src/chat.ts#ChatFunction
    method: join
  $default: src/legacy.cjs
authorizer:
  handler: src/auth.js#authorize
  identitySource: [route.request.querystring.token, stageVariables.key]
connections:
  ttl: 3600
  indexes: [userId, room]
environment:
  TABLE: connections
limits:
  messageBytes: 65536
  idleTimeout: 300
  maxConnectionDuration: 3600
  timeout: 5
`,
    });
    const app = await loadApp(dir, { loader });
    const src = (file: string) => path.join(dir, "src", file);
    expect(app).toEqual({
      name: "chat",
      stage: "prod",
      root: dir,
      source: { file: path.join(dir, "switchboard.yaml"), format: "switchboard-yaml" },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an AWS expression, not a template
      routeSelectionExpression: "${request.body.service}/${request.body.action}",
      routes: [
        {
          key: "$connect",
          target: { file: src("connect.ts"), export: "handler" },
          routeResponse: false,
          timeoutMs: 5000,
          memoryMb: 1024,
          environment: {},
        },
        {
          key: "send",
          target: { file: src("chat.ts"), export: "send" },
          routeResponse: true,
          body: { kind: "ref", file: src("schemas.ts"), export: "SendBody" },
          timeoutMs: 10_000,
          memoryMb: 256,
          environment: { ROOM: "lobby" },
        },
        {
          key: "chat/join",
          target: { file: src("chat.ts"), export: "ChatFunction", method: "join" },
          routeResponse: false,
          timeoutMs: 5000,
          memoryMb: 1024,
          environment: {},
        },
        {
          key: "$default",
          target: { file: src("legacy.cjs"), export: "handler" },
          routeResponse: false,
          timeoutMs: 5000,
          memoryMb: 1024,
          environment: {},
        },
      ],
      authorizer: {
        name: "authorizer",
        target: { file: src("auth.ts"), export: "authorize" },
        identitySource: ["route.request.querystring.token", "stageVariables.key"],
      },
      connections: { ttlSeconds: 3600, indexes: ["userId", "room"] },
      environment: { TABLE: "connections" },
      limits: {
        messageBytes: 65536,
        frameBytes: DEFAULT_LIMITS.frameBytes,
        idleTimeoutMs: 300_000,
        maxConnectionMs: 3_600_000,
        timeoutMs: 5000,
      },
    });
  });

  it("fills AWS defaults for a minimal JSON config, and the stage option wins", async () => {
    const dir = await appDir({
      "switchboard.json": JSON.stringify({
        name: "echo",
        stage: "prod",
        routes: { $default: "src/chat#send", $connect: "src/connect" },
        authorizer: { handler: "src/auth.ts#authorize", name: "auth" },
      }),
    });
    const app = await loadApp(path.join(dir, "switchboard.json"), { loader, stage: "local" });
    expect(app.stage).toBe("local");
    expect(app.source).toEqual({
      file: path.join(dir, "switchboard.json"),
      format: "switchboard-json",
    });
    expect(app.routeSelectionExpression).toBe("$request.body.action");
    expect(app.routes.map((r) => [r.key, r.target?.export, r.timeoutMs])).toEqual([
      ["$default", "send", 29_000],
      ["$connect", "handler", 29_000],
    ]);
    expect(app.authorizer).toEqual({
      name: "auth",
      target: { file: path.join(dir, "src/auth.ts"), export: "authorize" },
      identitySource: ["route.request.header.Authorization"],
    });
    expect(app.connections).toEqual({ ttlSeconds: 0, indexes: [] });
    expect(app.environment).toEqual({});
    expect(app.limits).toEqual(DEFAULT_LIMITS);
  });

  it("loads a TypeScript config written with defineApp from 'switchboard'", async () => {
    const dir = await appDir({
      "switchboard.config.ts": `import { defineApp } from "switchboard";
const SendBody = ${SCHEMA};
export default defineApp({
  name: "chat",
  routes: {
    send: { handler: "src/chat.ts#chat", method: "send", body: SendBody },
    join: { handler: "./src/chat.ts#ChatFunction", method: "send", body: "src/schemas.ts#SendBody" },
    $default: "src/legacy.cjs#handler",
  },
});
`,
    });
    const app = await loadApp(dir, { loader });
    expect(app.source.format).toBe("switchboard-ts");
    expect(app.stage).toBe("dev");
    const [send, join, fallback] = app.routes;
    expect(send?.target).toEqual({
      file: path.join(dir, "src/chat.ts"),
      export: "chat",
      method: "send",
    });
    expect(send?.body?.kind).toBe("schema");
    expect(join?.body).toEqual({
      kind: "ref",
      file: path.join(dir, "src/schemas.ts"),
      export: "SendBody",
    });
    expect(fallback?.target?.export).toBe("handler");
  });

  it("takes an export named app when there is no default export", async () => {
    const dir = await appDir({
      "switchboard.config.mjs": `export const app = { name: "x", routes: { $default: "src/connect.ts" } };\n`,
    });
    const app = await loadApp(dir, { loader });
    expect(app.name).toBe("x");
  });
});

describe("loadApp: problems", () => {
  it("names the folder and the files looked for when there is no config", async () => {
    const dir = await appDir({});
    expect(await problems(dir)).toEqual([
      `${dir} (root) — expected a config file (${[...CONFIG_FILE_NAMES, ...FOREIGN_CONFIG_FILES].join(", ")}), found none in ${dir}`,
    ]);
    const missing = path.join(dir, "nope");
    expect(await problems(missing)).toEqual([
      `${missing} (root) — expected a config file (${[...CONFIG_FILE_NAMES, ...FOREIGN_CONFIG_FILES].join(", ")}) or a folder with one, found nothing`,
    ]);
  });

  it("reports unknown and missing keys with positions, all at once", async () => {
    const dir = await appDir({
      "switchboard.yaml": "name: chat\nstage: my stage\nrotues:\n  send: src/chat.ts#send\n",
    });
    const file = path.join(dir, "switchboard.yaml");
    expect(await problems(dir)).toEqual([
      `${file}:1:1 routes — expected an object of routes, found nothing`,
      `${file}:2:1 stage — expected a stage name of letters, digits, _ and -, found a string ("my stage")`,
      `${file}:3:1 rotues — expected one of name, stage, routeSelectionExpression, routes, authorizer, connections, environment, limits, handler, secrets, tables, seed, stages, found unknown key "rotues" (did you mean routes?)`,
    ]);
  });

  it("reports wrong values, bad route keys and bad limits", async () => {
    const dir = await appDir({
      "switchboard.yaml": `name: ""
routeSelectionExpression: \${request.body.action
routes:
  $conect: src/connect.ts
  send:
    handler: src/chat.ts#send
    timeout: 100
    memory: 64
    routeResponse: "yes"
    body: 42
    enviroment: {}
  leave: 42
  ${"k".repeat(129)}: src/connect.ts
authorizer:
  handler: src/auth.ts#authorize
  identitySource:
    - route.request.headers.Auth
limits:
  messageBytes: 1.5
  frameBytes: -1
  idleTimeout: 601
  maxConnectionDuration: 0
connections:
  ttl: -1
environment:
  PORT: 8080
`,
    });
    const file = path.join(dir, "switchboard.yaml");
    expect(await problems(dir)).toEqual([
      `${file}:1:1 name — expected a non-empty string, found an empty string`,
      `${file}:2:1 routeSelectionExpression — expected a route selection expression such as $request.body.action, found unclosed '\${' at character 1 of "\${request.body.action"`,
      `${file}:4:3 routes.$conect — expected $connect, $disconnect, $default or a custom route key not starting with "$", found "$conect" (did you mean $connect?)`,
      `${file}:7:5 routes.send.timeout — expected a number of seconds from 0.05 to 29, found a number (100)`,
      `${file}:8:5 routes.send.memory — expected a whole number of MB from 128 to 10240, found a number (64)`,
      `${file}:9:5 routes.send.routeResponse — expected a boolean (true or false), found a string ("yes")`,
      `${file}:10:5 routes.send.body — expected a Standard Schema or a "file#export" reference to one, found a number (42)`,
      `${file}:11:5 routes.send.enviroment — expected one of handler, method, routeResponse, body, timeout, memory, environment, secrets, tables, found unknown key "enviroment" (did you mean environment?)`,
      `${file}:12:3 routes.leave — expected a handler reference ("file#export") or a route object, found a number (42)`,
      `${file}:13:3 routes.${"k".repeat(129)} — expected a route key of at most 128 characters, found 129 characters`,
      `${file}:14:1 authorizer — expected a $connect route for the authorizer (AWS runs REQUEST authorizers on $connect only), found no $connect route (routes: $conect, send, leave, ${"k".repeat(129)})`,
      `${file}:17:7 authorizer.identitySource[0] — expected route.request.header.<name>, route.request.querystring.<name>, stageVariables.<name> or context.<name>, found a string ("route.request.headers.Auth")`,
      `${file}:19:3 limits.messageBytes — expected a positive whole number of bytes, found a number (1.5)`,
      `${file}:20:3 limits.frameBytes — expected a positive whole number of bytes, found a number (-1)`,
      `${file}:21:3 limits.idleTimeout — expected a number of seconds above 0, at most 600, found a number (601)`,
      `${file}:22:3 limits.maxConnectionDuration — expected a number of seconds above 0, at most 7200, found a number (0)`,
      `${file}:24:3 connections.ttl — expected a whole number of seconds, 0 or more, found a number (-1)`,
      `${file}:26:3 environment.PORT — expected a string, found a number (8080)`,
    ]);
  });

  it("writes keys that are not identifiers in brackets in issue paths, in every format", async () => {
    const dir = await appDir({
      "switchboard.yaml": `name: keys
routes:
  $default: src/connect.ts
  "chat.send":
    handler: src/chat.ts#send
    timeout: 100
  "chat/join":
    handler: src/chat.ts#send
    memory: 1
  "\${request.body.k}": src/connect.ts
  "say \${name}": src/connect.ts
`,
    });
    const file = path.join(dir, "switchboard.yaml");
    expect(await problems(dir)).toEqual([
      `${file}:6:5 routes["chat.send"].timeout — expected a number of seconds from 0.05 to 29, found a number (100)`,
      `${file}:9:5 routes["chat/join"].memory — expected a whole number of MB from 128 to 10240, found a number (1)`,
      // "\${" at the start is a "$" key API Gateway reserves; anywhere else it is plain text.
      `${file}:10:3 routes["\${request.body.k}"] — expected $connect, $disconnect, $default or a custom route key not starting with "$", found "\${request.body.k}"`,
    ]);
    const sls = await appDir({
      "serverless.yml": `service: keys
provider:
  name: aws
functions:
  "chat.fn":
    handler: src/legacy.handler
    timeout: 1000
    events:
      - websocket: $default
`,
    });
    expect(await problems(sls)).toEqual([
      `${path.join(sls, "serverless.yml")}:7:5 functions["chat.fn"].timeout — expected a number of seconds from 1 to 900, found a number (1000)`,
    ]);
  });

  it("refuses connection indexes the connection table cannot have (each one is a GSI <field>-index)", async () => {
    const dir = await appDir({
      "switchboard.yaml": `name: chat
routes:
  $default: src/connect.ts
connections:
  indexes:
    - room
    - connectionId
    - room
    - user name
`,
    });
    const file = path.join(dir, "switchboard.yaml");
    expect(await problems(dir)).toEqual([
      `${file}:7:7 connections.indexes[1] — expected a field other than connectionId (the table's key), found "connectionId"`,
      `${file}:8:7 connections.indexes[2] — expected each field once, found "room" again`,
      `${file}:9:7 connections.indexes[3] — expected a field name of letters, digits, _, . and - (the index is named <field>-index), found "user name"`,
    ]);
  });

  it("checks handler files, builds, exports and methods", async () => {
    const dir = await appDir({
      "switchboard.yml": `name: chat
routes:
  $connect: src/missing.ts
  broken: src/broken.ts
  noExport: src/chat.ts#sned
  notFunction: src/chat.ts#notAFunction
  classNoMethod: src/chat.ts#ChatFunction
  badMethod:
    handler: src/chat.ts#ChatFunction
    method: sned
  badObjectMethod:
    handler: src/chat.ts#chat
    method: join
  functionWithMethod:
    handler: src/chat.ts#send
    method: send
  badBody:
    handler: src/chat.ts#send
    body: src/schemas.ts#notASchema
  emptyExport: "src/chat.ts#"
authorizer:
  handler: src/auth.ts#nope
`,
    });
    const file = path.join(dir, "switchboard.yml");
    const src = (name: string) => path.join(dir, "src", name);
    const issues = await problems(dir);
    expect(issues).toEqual([
      `${file}:3:3 routes.$connect — expected an existing module file, found no file ${src("missing.ts")} (also tried .ts, .mts, .js, .mjs, .cjs and index.*)`,
      expect.stringMatching(
        new RegExp(
          `^${escapeRegExp(file)}:4:3 routes.broken — expected ${escapeRegExp(src("broken.ts"))} to build, found .*broken\\.ts:1:\\d+ Unexpected ";"$`,
        ),
      ),
      `${file}:5:3 routes.noExport — expected an export named "sned" in ${src("chat.ts")}, found no export "sned" (has: ChatFunction, chat, notAFunction, send)`,
      `${file}:6:3 routes.notFunction — expected a function, found a number (42)`,
      `${file}:7:3 routes.classNoMethod — expected a function (or a "method" to call on class ChatFunction), found class ChatFunction`,
      `${file}:10:5 routes.badMethod.method — expected a method of class ChatFunction, found no method "sned" on class ChatFunction (has: join, send, initialize)`,
      `${file}:13:5 routes.badObjectMethod.method — expected a method of object chat, found no method "join" on object chat (has: send, leave)`,
      `${file}:15:5 routes.functionWithMethod.handler — expected a class or an object with method "send", found a function (send)`,
      `${file}:19:5 routes.badBody.body — expected a Standard Schema (zod, valibot, arktype, ...), found an empty object`,
      `${file}:20:3 routes.emptyExport — expected a handler reference ("file#export"), found "src/chat.ts#"`,
      `${file}:22:3 authorizer.handler — expected an export named "nope" in ${src("auth.ts")}, found no export "nope" (has: authorize)`,
    ]);
  });

  it("reports YAML syntax errors with their position", async () => {
    const dir = await appDir({ "switchboard.yaml": "name: chat\nroutes: [a\nlimits: {}\n" });
    const [issue, ...rest] = await problems(dir);
    expect(rest).toEqual([]);
    expect(issue).toMatch(
      new RegExp(
        `^${escapeRegExp(path.join(dir, "switchboard.yaml"))}:3:1 \\(root\\) — expected valid YAML, found .+`,
      ),
    );
  });

  it("reports duplicate keys in YAML and JSON with both positions", async () => {
    const dir = await appDir({
      "switchboard.yaml":
        "name: chat\nroutes:\n  send: src/chat.ts#send\n  send: src/chat.ts#send\n",
      "other.json":
        '{\n  "name": "chat",\n  "routes": {\n    "send": "src/chat.ts#send",\n    "send": "src/chat.ts#nope"\n  }\n}\n',
    });
    expect(await problems(dir)).toEqual([
      `${path.join(dir, "switchboard.yaml")}:4:3 routes.send — expected each key once, found "send" again (first on line 3)`,
    ]);
    const json = path.join(dir, "other.json");
    expect(await problems(json)).toEqual([
      `${json}:5:5 routes.send — expected each key once, found "send" again (first on line 4)`,
      `${json}:5:5 routes.send — expected an export named "nope" in ${path.join(dir, "src/chat.ts")}, found no export "nope" (has: ChatFunction, chat, notAFunction, send)`,
    ]);
  });

  it("reports JSON that YAML would accept but JSON does not", async () => {
    const dir = await appDir({ "switchboard.json": '{\n  "name": "chat",\n}\n' });
    const [issue, ...rest] = await problems(dir);
    expect(rest).toEqual([]);
    expect(issue).toMatch(
      new RegExp(
        `^${escapeRegExp(path.join(dir, "switchboard.json"))}:3:1 \\(root\\) — expected valid JSON, found .+`,
      ),
    );
  });

  it("reports TypeScript config problems without positions", async () => {
    const dir = await appDir({
      "switchboard.config.ts": `export default { name: "chat", routes: { send: { handler: 42 } }, extra: 1 };\n`,
    });
    const file = path.join(dir, "switchboard.config.ts");
    expect(await problems(dir, "bad stage")).toEqual([
      `${file} stage — expected a stage name of letters, digits, _ and -, found a string ("bad stage") from the stage option`,
      `${file} routes.send.handler — expected a handler reference ("file#export"), found a number (42)`,
      `${file} extra — expected one of name, stage, routeSelectionExpression, routes, authorizer, connections, environment, limits, handler, secrets, tables, seed, stages, found unknown key "extra"`,
    ]);
  });

  it("reports a TypeScript config without a usable export", async () => {
    const dir = await appDir({ "switchboard.config.ts": "export const config = {};\n" });
    expect(await problems(dir)).toEqual([
      `${path.join(dir, "switchboard.config.ts")} (root) — expected a default export (or an export named app) with the app config, found no such export (has: config)`,
    ]);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
