import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAwsApp } from "../../src/aws/build.js";
import { ConfigError } from "../../src/errors.js";
import { TestClient } from "../helpers/client.js";
import { FAKE_AWS } from "../helpers/dynalite.js";
import { FIXTURES, type RunningApp, startApp } from "../helpers/server.js";

/**
 * A folder outside the repository (whose node_modules has the AWS SDK): what an app that
 * installs nothing sees. Removed by the returned function.
 */
async function outsideRepo(files: Record<string, string>, fixture?: string) {
  const dir = await mkdtemp(path.join(tmpdir(), "switchboard-runtime-sdk-"));
  if (fixture) await cp(path.join(FIXTURES, fixture), dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The message of the ConfigError `switchboard dev` stops with on the app in `dir`. */
async function startFailure(dir: string): Promise<string> {
  const failure = await startApp(dir).then(
    (app) => app.close().then(() => undefined),
    (error: unknown) => error,
  );
  if (!(failure instanceof ConfigError))
    throw new Error(`expected a ConfigError, got ${String(failure)}`);
  return failure.message;
}

// The functions import the SDK their runtime carries and the app installs none of it.
describe("the AWS SDK the Lambda runtime carries (SAM app with no dependencies) under switchboard dev", () => {
  let app: RunningApp;
  let db: DynamoDBClient;
  let cleanup: () => Promise<void>;
  const rows = async () =>
    (await db.send(new ScanCommand({ TableName: "rooms_connections" }))).Items ?? [];

  beforeAll(async () => {
    const copy = await outsideRepo({}, "sam-runtime-sdk");
    cleanup = copy.cleanup;
    app = await startApp(copy.dir);
    db = new DynamoDBClient({ endpoint: app.tables?.endpoint, ...FAKE_AWS });
  });
  afterAll(async () => {
    db?.destroy();
    await app?.close();
    await cleanup?.();
  });

  it("reads each function's runtime (Globals, and the function's own)", () => {
    const runtimes = Object.fromEntries(app.app.routes.map((r) => [r.key, r.target?.runtime]));
    expect(runtimes).toEqual({
      $connect: "nodejs20.x",
      $disconnect: "nodejs20.x",
      join: "nodejs20.x",
      say: "nodejs20.x",
      whoami: "nodejs16.x",
    });
  });

  it("DocumentClient (@aws-sdk/lib-dynamodb) and @connections (client-apigatewaymanagementapi) work", async () => {
    const [ann, bob, cat] = (await Promise.all(
      ["ann", "bob", "cat"].map((name) => TestClient.connect(`${app.url}/prod?name=${name}`)),
    )) as [TestClient, TestClient, TestClient];
    expect((await rows()).map((row) => row.name?.S).sort()).toEqual(["ann", "bob", "cat"]);
    ann.send({ action: "join", room: "lobby" });
    bob.send({ action: "join", room: "lobby" });
    cat.send({ action: "join", room: "attic" });
    await expect
      .poll(async () => (await rows()).filter((row) => row.room?.S === "lobby").length)
      .toBe(2);
    ann.send({ action: "say", text: "hi lobby" });
    const heard = { room: "lobby", from: "ann", text: "hi lobby" };
    expect(await ann.nextJson()).toEqual(heard);
    expect(await bob.nextJson()).toEqual(heard);
    expect(await cat.silentFor(100)).toBe(true);
    await bob.close();
    await expect.poll(async () => (await rows()).length).toBe(2);
    await Promise.all([ann.close(), cat.close()]);
  });

  it("isolated (worker thread) functions see the same SDK", async () => {
    const isolated = await startApp(app.app.root, { isolate: true });
    const tables = new DynamoDBClient({ endpoint: isolated.tables?.endpoint, ...FAKE_AWS });
    try {
      const client = await TestClient.connect(`${isolated.url}/prod?name=eve`);
      client.send({ action: "join", room: "lab" });
      // Messages run concurrently (as on AWS): see the join stored before speaking. Each
      // function's first call starts its worker thread: allow for that on a busy machine.
      await expect
        .poll(
          async () =>
            (await tables.send(new ScanCommand({ TableName: "rooms_connections" }))).Items?.some(
              (row) => row.room?.S === "lab",
            ),
          { timeout: 15_000 },
        )
        .toBe(true);
      client.send({ action: "say", text: "from a worker" });
      expect(await client.nextJson(15_000)).toEqual({
        room: "lab",
        from: "eve",
        text: "from a worker",
      });
      await client.close();
    } finally {
      tables.destroy();
      await isolated.close();
    }
  });

  it("a nodejs16.x function gets the AWS SDK v2 (aws-sdk) its runtime carries", async () => {
    const client = await TestClient.connect(`${app.url}/prod?name=dan`);
    client.send({ action: "join", room: "den" });
    await expect.poll(async () => (await rows()).some((row) => row.room?.S === "den")).toBe(true);
    // The first call loads the whole v2 SDK: give it time on a busy machine.
    expect(await client.ask({ action: "whoami" }, 15_000)).toEqual({
      name: "dan",
      room: "den",
      sdk: "v2",
    });
    await client.close();
  });
});

describe("the runtime's SDK never shadows the app's, and what it lacks is named", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it("uses the app's own installed copy, from import and require alike", async () => {
    const copy = await outsideRepo({
      "node_modules/@aws-sdk/client-dynamodb/package.json":
        '{ "name": "@aws-sdk/client-dynamodb", "version": "3.0.0-app", "main": "index.js" }',
      "node_modules/@aws-sdk/client-dynamodb/index.js": 'exports.whose = "the app\'s own";',
      // A function folder with node_modules of its own (a SAM CodeUri with its package.json).
      "fn/node_modules/@aws-sdk/client-dynamodb/package.json":
        '{ "name": "@aws-sdk/client-dynamodb", "version": "3.0.0-fn", "main": "index.js" }',
      "fn/node_modules/@aws-sdk/client-dynamodb/index.js":
        'exports.whose = "the function folder\'s own";',
      "fn/index.mjs":
        'import { whose } from "@aws-sdk/client-dynamodb";\nexport const handler = async () => ({ statusCode: 200, body: whose });\n',
      "switchboard.yaml": [
        "name: own-sdk",
        "routes:",
        "  esm: { handler: esm.mjs#handler, routeResponse: true }",
        "  cjs: { handler: cjs.cjs#handler, routeResponse: true }",
        "  nested: { handler: fn/index.mjs#handler, routeResponse: true }",
        "",
      ].join("\n"),
      "esm.mjs":
        'import { whose } from "@aws-sdk/client-dynamodb";\nexport const handler = async () => ({ statusCode: 200, body: whose });\n',
      "cjs.cjs":
        'const { whose } = require("@aws-sdk/client-dynamodb");\nexports.handler = async () => ({ statusCode: 200, body: whose });\n',
    });
    cleanups.push(copy.cleanup);
    const app = await startApp(copy.dir);
    try {
      const client = await TestClient.connect(app.url);
      client.send({ action: "esm" });
      expect(await client.next()).toBe("the app's own");
      client.send({ action: "cjs" });
      expect(await client.next()).toBe("the app's own");
      client.send({ action: "nested" });
      expect(await client.next()).toBe("the function folder's own");
      await client.close();
    } finally {
      await app.close();
    }
  });

  it("names the package to add when the runtime carries it but Switchboard has no copy", async () => {
    const copy = await outsideRepo({
      "switchboard.yaml": "name: sqs\nroutes:\n  $default: queue.mjs#handler\n",
      "queue.mjs":
        'import { SQSClient } from "@aws-sdk/client-sqs";\nexport const handler = async () => { new SQSClient({}); };\n',
    });
    cleanups.push(copy.cleanup);
    expect(await startFailure(copy.dir)).toMatch(
      /queue\.mjs:1:\d+ Cannot find package "@aws-sdk\/client-sqs": the nodejs22\.x Lambda runtime carries it .*npm install --save-dev @aws-sdk\/client-sqs/,
    );
  });

  it("says a nodejs16.x function's runtime does not carry SDK v3", async () => {
    const copy = await outsideRepo({
      "serverless.yml": [
        "service: old",
        "provider: { name: aws, runtime: nodejs16.x }",
        "functions:",
        "  main:",
        "    handler: main.handler",
        "    events: [{ websocket: $default }]",
        "",
      ].join("\n"),
      "main.mjs":
        'import { DynamoDBClient } from "@aws-sdk/client-dynamodb";\nexport const handler = async () => { new DynamoDBClient({}); };\n',
    });
    cleanups.push(copy.cleanup);
    expect(await startFailure(copy.dir)).toMatch(
      /Cannot find package "@aws-sdk\/client-dynamodb": the app does not install it and the nodejs16\.x Lambda runtime does not carry it \(it carries AWS SDK for JavaScript v2, aws-sdk\); add it to the app's dependencies: npm install @aws-sdk\/client-dynamodb/,
    );
  });
});

describe("switchboard build and the runtime's SDK", () => {
  it("leaves @aws-sdk/* out of the bundle for the runtime to provide, as Lambda expects", async () => {
    const copy = await outsideRepo({
      "switchboard.yaml": "name: built\nroutes:\n  $default: main.mjs#handler\n",
      "main.mjs": [
        'import { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";',
        'import { DynamoDBClient } from "@aws-sdk/client-dynamodb";',
        'import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";',
        "const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));",
        "export const handler = async () => { new ApiGatewayManagementApiClient({}); return db; };",
        "",
      ].join("\n"),
    });
    try {
      const built = await buildAwsApp({ target: copy.dir, outDir: path.join(copy.dir, "out") });
      const [fn] = built.functions;
      const zip = unzipSync(new Uint8Array(await readFile(path.join(built.outDir, fn?.zip ?? ""))));
      const code = new TextDecoder().decode(zip["index.mjs"]);
      for (const name of ["client-apigatewaymanagementapi", "client-dynamodb", "lib-dynamodb"]) {
        expect(code).toMatch(new RegExp(`from "@aws-sdk/${name}"`));
      }
      // Neither the SDK's code nor a path to Switchboard's copy of it is in the bundle.
      expect(code).not.toContain("node_modules");
      expect(code).not.toMatch(/class DynamoDBDocumentClient/);
    } finally {
      await copy.cleanup();
    }
  });
});
