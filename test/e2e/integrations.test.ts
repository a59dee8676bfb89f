import { readFile, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refusedStatus, TestClient } from "../helpers/client.js";
import { FAKE_AWS } from "../helpers/dynalite.js";
import { copyFixture, type RunningApp, startApp } from "../helpers/server.js";

/** What the local HTTP backend received, for the HTTP and HTTP_PROXY routes. */
interface Received {
  url: string;
  method: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** Start the test's HTTP backend, then the fixture (a copy) with `BackendUrl` pointing at it. */
async function startWithBackend(
  fixture: string,
  handle: (req: IncomingMessage, body: string, res: ServerResponse) => void,
): Promise<{ app: RunningApp; backend: Server; cleanup: () => Promise<void> }> {
  const backend = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => handle(req, body, res));
  });
  await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", resolve));
  const { port } = backend.address() as AddressInfo;
  const copy = await copyFixture(fixture);
  const file = path.join(copy.dir, "template.yaml");
  const text = await readFile(file, "utf8");
  await writeFile(file, text.replace("http://127.0.0.1:9", `http://127.0.0.1:${port}`));
  try {
    return { app: await startApp(copy.dir), backend, cleanup: copy.cleanup };
  } catch (error) {
    backend.close();
    await copy.cleanup();
    throw error;
  }
}

// Every integration type of a WebSocket API from one SAM template, against a real HTTP backend
// this test starts and the local DynamoDB `switchboard dev` runs for the template's table.
describe("integrations: AWS (VTL), MOCK, HTTP, HTTP_PROXY, DynamoDB, VPC link (sam-integrations)", () => {
  let app: RunningApp;
  let backend: Server;
  let cleanup: () => Promise<void>;
  const received: Received[] = [];

  beforeAll(async () => {
    ({ app, backend, cleanup } = await startWithBackend("sam-integrations", (req, body, res) => {
      received.push({ url: req.url ?? "", method: req.method ?? "", headers: req.headers, body });
      if (req.url?.startsWith("/forward")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ got: body, connection: req.headers["x-connection-id"] }));
        return;
      }
      const message = (JSON.parse(body) as { message?: string }).message;
      if (message === "reject me") {
        res.writeHead(422, { "content-type": "application/json" });
        res.end(JSON.stringify({ reason: "not today" }));
        return;
      }
      res.writeHead(201, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: `n-${received.length}` }));
    }));
  });
  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => backend?.close(resolve));
    await cleanup?.();
  });

  it("serves the app with the unemulated route, and warns about it at its line", () => {
    const kinds = Object.fromEntries(
      app.app.routes.map((r) => [r.key, r.integration?.kind ?? "lambda-proxy"]),
    );
    expect(kinds).toEqual({
      $connect: "lambda-proxy",
      echo: "aws-lambda",
      ping: "mock",
      forward: "http-proxy",
      notify: "http",
      store: "aws-service",
      private: "unemulated",
    });
    const warning = app.app.warnings?.find((w) => w.path.includes("PrivateInteg"));
    expect(warning?.message).toMatch(/HTTP_PROXY integration not emulated \(a VPC link/);
    expect(warning?.line).toBeGreaterThan(1);
  });

  it("AWS (Lambda, non-proxy): request template by TemplateSelectionExpression, response template", async () => {
    const client = await TestClient.connect(app.url);
    const answer = await client.ask({ action: "echo", text: 'say "hi"/now' });
    const id = answer.from as string;
    expect(id).toMatch(/\S/);
    expect(answer).toEqual({
      echo: 'SAY "HI"/NOW',
      from: id,
      // Escaped into the JSON payload by $util.escapeJavaScript, so it arrives intact.
      escaped: 'say "hi"/now',
      keys: ["connectionId", "escaped", "text"],
    });
    // `${request.body.format}` selects the `short` template.
    expect(await client.ask({ action: "echo", format: "short", text: "x" })).toMatchObject({
      echo: "SHORT: X",
      keys: ["connectionId", "text"],
    });
    // The function's errorMessage selects the `/bad input.*/` integration response.
    expect(await client.ask({ action: "echo", text: "fail" })).toEqual({
      error: "bad input: fail",
    });
    await client.close();
  });

  it("MOCK: the request template's statusCode selects the integration response", async () => {
    const client = await TestClient.connect(app.url);
    const pong = await client.ask({ action: "ping" });
    expect(pong).toMatchObject({ pong: true, route: "ping" });
    expect(pong.connectionId).toMatch(/\S/);
    expect(await client.ask({ action: "ping", teapot: true })).toEqual({ teapot: 418 });
    await client.close();
  });

  it("HTTP_PROXY: the frame goes to the backend as is, with mapped parameters; its body comes back", async () => {
    const client = await TestClient.connect(app.url);
    const frame = JSON.stringify({ action: "forward", room: "lobby", n: 1 });
    const answer = await client.ask(frame);
    expect(answer.got).toBe(frame);
    const request = received.find((r) => r.url.startsWith("/forward"));
    expect(request?.method).toBe("POST");
    expect(request?.url).toBe("/forward?room=lobby");
    expect(request?.headers["x-static"]).toBe("from-gateway");
    expect(answer.connection).toBe(request?.headers["x-connection-id"]);
    expect(answer.connection).toMatch(/\S/);
    await client.close();
  });

  it("HTTP: mapped request, response selected by the backend's status", async () => {
    const client = await TestClient.connect(app.url);
    const delivered = await client.ask({ action: "notify", message: "hello" });
    expect(delivered.delivered).toMatch(/^n-\d+$/);
    const request = received.find((r) => r.url === "/notify");
    expect(JSON.parse(request?.body ?? "{}")).toMatchObject({ message: "hello" });
    expect(await client.ask({ action: "notify", message: "reject me" })).toEqual({
      rejected: "not today",
    });
    await client.close();
  });

  it("AWS service: DynamoDB PutItem through a mapping template into the local table", async () => {
    const client = await TestClient.connect(app.url);
    const answer = await client.ask({ action: "store", text: "kept" });
    const key = answer.stored as string;
    expect(key).toMatch(/\S/);
    const db = new DynamoDBClient({ endpoint: app.tables?.endpoint, ...FAKE_AWS });
    try {
      const item = await db.send(
        new GetItemCommand({ TableName: "integration_messages", Key: { id: { S: key } } }),
      );
      expect(item.Item?.text).toEqual({ S: "kept" });
    } finally {
      db.destroy();
    }
    await client.close();
  });

  it("a route whose integration cannot run answers as a failing integration; the rest goes on", async () => {
    const client = await TestClient.connect(app.url);
    const failed = await client.ask({ action: "private" });
    expect(failed).toMatchObject({ message: "Internal server error" });
    expect(await client.ask({ action: "ping" })).toMatchObject({ pong: true });
    await client.close();
  });
});

describe("integrations on $connect: HTTP_PROXY with RequestParameters (sam-connect-backend)", () => {
  let app: RunningApp;
  let backend: Server;
  let cleanup: () => Promise<void>;
  const seen: Received[] = [];

  beforeAll(async () => {
    ({ app, backend, cleanup } = await startWithBackend(
      "sam-connect-backend",
      (req, _body, res) => {
        seen.push({ url: req.url ?? "", method: req.method ?? "", headers: req.headers, body: "" });
        const ok = req.headers["x-token"] === "letmein";
        res.writeHead(ok ? 200 : 403);
        res.end(ok ? "" : "no entry");
      },
    ));
  });
  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => backend?.close(resolve));
    await cleanup?.();
  });

  it("the backend's status decides the handshake, from headers RequestParameters mapped", async () => {
    const refused = await refusedStatus(`${app.url}/?token=wrong`);
    expect(refused.status).toBe(403);
    expect(refused.body).toBe("no entry");

    const client = await TestClient.connect(`${app.url}/?token=letmein`, {
      headers: { "User-Agent": "integration-test" },
    });
    const request = seen.at(-1);
    expect(request?.url).toBe("/connect?agent=integration-test");
    const answer = await client.ask({ hello: "world" });
    expect(answer).toEqual({ me: request?.headers["x-connection-id"], route: "$default" });
    await client.close();
  });
});
