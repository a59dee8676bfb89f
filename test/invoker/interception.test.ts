import http, { type IncomingMessage } from "node:http";
import https, { request as namedHttpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  activeInterceptions,
  addInterceptions,
  devInterceptions,
  interceptedTarget,
} from "../../src/invoker/interception.js";

interface Seen {
  method: string | undefined;
  url: string | undefined;
  host: string | undefined;
  body: string;
}

/** A plain HTTP server that records each request and answers 200 `ok <n>`. */
async function recorder() {
  const seen: Seen[] = [];
  const server = http.createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({
        method: req.method,
        url: req.url,
        host: req.headers.host,
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(req.headers["x-amz-target"] ? '{"TableNames":["local"]}' : `ok ${seen.length}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    seen,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function get(
  options: string | http.RequestOptions,
  via: typeof http.request = http.request,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = via(options as http.RequestOptions, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };

describe("interception of AWS hosts (what functions under switchboard dev call)", () => {
  let gateway: Awaited<ReturnType<typeof recorder>>;
  let dynamo: Awaited<ReturnType<typeof recorder>>;
  let other: Awaited<ReturnType<typeof recorder>>;
  let remove: () => void;
  beforeAll(async () => {
    [gateway, dynamo, other] = await Promise.all([recorder(), recorder(), recorder()]);
    remove = addInterceptions(
      devInterceptions({
        apiId: "abc123defg",
        gateway: { hostname: "127.0.0.1", port: gateway.port },
        dynamodb: { hostname: "127.0.0.1", port: dynamo.port },
      }),
    );
  });
  afterAll(async () => {
    remove();
    await Promise.all([gateway.close(), dynamo.close(), other.close()]);
  });

  it("matches the API's execute-api host and DynamoDB in any region (the one the code uses), nothing else", () => {
    const toGateway = { hostname: "127.0.0.1", port: gateway.port };
    expect(interceptedTarget("abc123defg.execute-api.eu-west-1.amazonaws.com")).toEqual(toGateway);
    expect(interceptedTarget("ABC123DEFG.execute-api.us-east-1.amazonaws.com.")).toEqual(toGateway);
    expect(interceptedTarget("dynamodb.eu-west-1.amazonaws.com")?.port).toBe(dynamo.port);
    expect(interceptedTarget("123456789012.ddb.eu-west-1.amazonaws.com")?.port).toBe(dynamo.port);
    expect(interceptedTarget("dynamodb.us-east-1.amazonaws.com")?.port).toBe(dynamo.port);
    expect(interceptedTarget("dynamodb.eu-north-1.amazonaws.com")?.port).toBe(dynamo.port);
    expect(interceptedTarget("123456789012.ddb.ap-south-2.amazonaws.com")?.port).toBe(dynamo.port);
    for (const host of [
      "zzz999zzzz.execute-api.eu-west-1.amazonaws.com",
      "xabc123defg.execute-api.eu-west-1.amazonaws.com",
      "abc123defg.execute-api.eu-west-1.amazonaws.com.evil.test",
      "s3.eu-west-1.amazonaws.com",
      "dynamodb.eu-west-1.amazonaws.com.evil.test",
      "streams.dynamodb.eu-west-1.amazonaws.com",
      "sts.amazonaws.com",
      "127.0.0.1",
      "localhost",
    ]) {
      expect(interceptedTarget(host), host).toBeUndefined();
    }
  });

  it("sends SDK v3 calls to https://{domainName}/{stage} to the local target: path, method, body, Host", async () => {
    const client = new ApiGatewayManagementApiClient({
      endpoint: "https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod",
      region: "eu-west-1",
      credentials: CREDENTIALS,
    });
    await client.send(
      new PostToConnectionCommand({ ConnectionId: "R1kmxc2VNjMCFIA=", Data: "hello" }),
    );
    client.destroy();
    expect(gateway.seen.at(-1)).toEqual({
      method: "POST",
      url: "/prod/@connections/R1kmxc2VNjMCFIA%3D",
      host: "abc123defg.execute-api.eu-west-1.amazonaws.com",
      body: "hello",
    });
  });

  it("sends DynamoDB clients without an endpoint to the local DynamoDB", async () => {
    const client = new DynamoDBClient({ region: "eu-west-1", credentials: CREDENTIALS });
    const { TableNames } = await client.send(new ListTablesCommand({}));
    client.destroy();
    expect(TableNames).toEqual(["local"]);
    expect(dynamo.seen.at(-1)).toMatchObject({ method: "POST", url: "/" });
  });

  it("covers http.get, https.get, URL objects and global fetch", async () => {
    const before = gateway.seen.length;
    await get("http://abc123defg.execute-api.eu-west-1.amazonaws.com/a?x=1", http.get);
    await get(
      new URL("https://abc123defg.execute-api.eu-west-1.amazonaws.com/b") as never,
      https.get as never,
    );
    // `import { request } from "node:https"` sees the wrapper (syncBuiltinESMExports).
    await get(
      { host: "abc123defg.execute-api.eu-west-1.amazonaws.com", path: "/c" },
      namedHttpsRequest,
    );
    const fetched = await fetch("https://abc123defg.execute-api.eu-west-1.amazonaws.com/d", {
      method: "POST",
      body: "via fetch",
    });
    expect(fetched.status).toBe(200);
    expect(gateway.seen.slice(before).map((s) => s.url)).toEqual(["/a?x=1", "/b", "/c", "/d"]);
    expect(gateway.seen.at(-1)?.body).toBe("via fetch");
  });

  it("leaves other hosts alone: a local server reached by its own URL, other amazonaws.com hosts", async () => {
    const before = { gateway: gateway.seen.length, dynamo: dynamo.seen.length };
    expect(await get(`http://127.0.0.1:${other.port}/own`)).toEqual({ status: 200, body: "ok 1" });
    expect(other.seen[0]).toMatchObject({ url: "/own", host: `127.0.0.1:${other.port}` });
    // Not redirected: the request goes to DNS for the host it names (stubbed here, no network).
    const asked: string[] = [];
    const lookup = ((hostname: string, _options: unknown, callback: (e: Error) => void) => {
      asked.push(hostname);
      callback(Object.assign(new Error(`no DNS for ${hostname}`), { code: "ENOTFOUND" }));
    }) as never;
    for (const hostname of [
      "s3.eu-west-1.amazonaws.com",
      "streams.dynamodb.us-east-1.amazonaws.com",
      "zzz999zzzz.execute-api.eu-west-1.amazonaws.com",
    ]) {
      await expect(get({ hostname, path: "/", lookup }, https.request)).rejects.toThrow(/no DNS/);
    }
    expect(asked).toEqual([
      "s3.eu-west-1.amazonaws.com",
      "streams.dynamodb.us-east-1.amazonaws.com",
      "zzz999zzzz.execute-api.eu-west-1.amazonaws.com",
    ]);
    expect(gateway.seen.length).toBe(before.gateway);
    expect(dynamo.seen.length).toBe(before.dynamo);
  });

  it("removes exactly the rules it added", () => {
    const extra = addInterceptions([
      { host: "example.execute-api.*.amazonaws.com", target: { hostname: "127.0.0.1", port: 1 } },
    ]);
    expect(activeInterceptions()).toHaveLength(4);
    extra();
    expect(activeInterceptions()).toHaveLength(3);
    expect(interceptedTarget("example.execute-api.eu-west-1.amazonaws.com")).toBeUndefined();
  });
});
