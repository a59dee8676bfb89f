import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  ApiGatewayManagementApiClient,
  GetConnectionCommand,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { accessKeysFrom, readAccessKeysFile } from "../../src/gateway/access-keys.js";
import { TestClient } from "../helpers/client.js";
import { eventually } from "../helpers/eventually.js";
import { repoScratchDir } from "../helpers/repo-paths.js";
import { FIXTURES, type RunningApp, startApp } from "../helpers/server.js";

const KEY = {
  accessKeyId: "SBTESTKEY00000000001",
  secretAccessKey: randomBytes(20).toString("hex"),
};
const ROTATED = { accessKeyId: "SBTESTKEY00000000002", secretAccessKey: "second-secret" };
const REGION = "us-east-1";

/** Headers for a request signed as the SDK signs it, at `date`, with optional changes. */
async function sign(
  url: string,
  options: { method?: string; body?: string; date?: Date; key?: typeof KEY; headers?: object },
) {
  const u = new URL(url);
  const signer = new SignatureV4({
    credentials: options.key ?? KEY,
    region: REGION,
    service: "execute-api",
    sha256: Hash.bind(null, "sha256"),
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: options.method ?? "POST",
      protocol: "http:",
      hostname: u.hostname,
      path: u.pathname,
      query: {},
      headers: { host: u.host, ...options.headers },
      body: options.body ?? "",
    },
    { signingDate: options.date ?? new Date() },
  );
  const { host: _host, ...headers } = signed.headers;
  return headers;
}

async function call(url: string, headers: Record<string, string>, body = "hi", method = "POST") {
  const res = await fetch(url, { method, headers, ...(method === "POST" ? { body } : {}) });
  return { status: res.status, type: res.headers.get("x-amzn-errortype"), body: await res.text() };
}

describe("@connections signed with SigV4 (managementAuth: sigv4)", () => {
  let server: RunningApp;
  let client: TestClient;
  let url: string;

  beforeAll(async () => {
    server = await startApp("basic", {
      managementAuth: { mode: "sigv4", keys: [KEY, ROTATED], region: REGION },
    });
    client = await TestClient.connect(`${server.url}/test`);
    const id = await eventually(async () => server.gateway.connectionIds()[0]);
    url = `${server.http}/test/@connections/${encodeURIComponent(id)}`;
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });

  it("accepts a signature 4 minutes old, and one made with the second (rotation) key", async () => {
    const date = new Date(Date.now() - 4 * 60_000);
    expect((await call(url, await sign(url, { body: "old", date }), "old")).status).toBe(200);
    expect(await client.next()).toBe("old");
    const rotated = await sign(url, { body: "rotated", key: ROTATED });
    expect((await call(url, rotated, "rotated")).status).toBe(200);
    expect(await client.next()).toBe("rotated");
  });

  it("refuses a signature more than 5 minutes old or ahead, as API Gateway words it", async () => {
    const old = await call(url, await sign(url, { date: new Date(Date.now() - 6 * 60_000) }));
    expect(old.status).toBe(403);
    expect(old.type).toBe("InvalidSignatureException");
    expect(JSON.parse(old.body).message).toMatch(
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
    );
    const ahead = await call(url, await sign(url, { date: new Date(Date.now() + 6 * 60_000) }));
    expect(ahead.type).toBe("InvalidSignatureException");
    expect(JSON.parse(ahead.body).message).toMatch(
      /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 5 min\.\)$/,
    );
  });

  it("answers an incomplete Authorization header with IncompleteSignatureException", async () => {
    const headers = await sign(url, {});
    const partial = (headers.authorization as string).replace(/, SignedHeaders=[^,]+/, "");
    const res = await call(url, { ...headers, authorization: partial });
    expect(res.status).toBe(403);
    expect(res.type).toBe("IncompleteSignatureException");
    expect(JSON.parse(res.body).message).toMatch(
      /^Authorization header requires 'SignedHeaders' parameter\. Authorization=/,
    );
  });

  it("refuses a session token (temporary credentials are no configured pair)", async () => {
    const headers = await sign(url, { headers: { "x-amz-security-token": "token" } });
    const res = await call(url, headers);
    expect(res).toMatchObject({ status: 403, type: "UnrecognizedClientException" });
  });

  it("refuses a changed path, method or signed header", async () => {
    const headers = await sign(url, { body: "x" });
    const other = url.replace(/@connections\/.*/, "@connections/AAAAAAAAAAAAAAA%3D");
    expect((await call(other, headers, "x")).type).toBe("InvalidSignatureException");
    expect((await call(url, headers, "x", "DELETE")).type).toBe("InvalidSignatureException");
    // One second later than signed: a signed header's value changed.
    const dated = {
      ...headers,
      "x-amz-date": (headers["x-amz-date"] as string).replace(/\d(?=Z$)/, (d) =>
        String((Number(d) + 1) % 10),
      ),
    };
    expect((await call(url, dated, "x")).type).toBe("InvalidSignatureException");
  });

  it("works for an SDK client whose endpoint ends in a slash (repeated slashes)", async () => {
    const sdk = new ApiGatewayManagementApiClient({
      endpoint: `${server.http}/test/`,
      region: REGION,
      // A copy: the SDK marks the credentials object it is given.
      credentials: { ...KEY },
      maxAttempts: 1,
    });
    const id = server.gateway.connectionIds()[0] as string;
    await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: "slash" }));
    expect(await client.next()).toBe("slash");
    const info = await sdk.send(new GetConnectionCommand({ ConnectionId: id }));
    expect(info.Identity?.SourceIp).toBe("127.0.0.1");
  });
});

describe("dev on a non-loopback host gets the same rule", () => {
  const saved = { ...process.env };
  let server: RunningApp | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    process.env = { ...saved };
  });

  it("without keys: callers on this machine only, and none through a proxy", async () => {
    delete process.env.SWITCHBOARD_ACCESS_KEY_ID;
    delete process.env.SWITCHBOARD_SECRET_ACCESS_KEY;
    server = await startApp("basic", { host: "0.0.0.0" });
    const port = server.port;
    const client = await TestClient.connect(`ws://127.0.0.1:${port}/test`);
    const id = await eventually(async () => server?.gateway.connectionIds()[0]);
    const url = `http://127.0.0.1:${port}/test/@connections/${encodeURIComponent(id)}`;
    expect((await call(url, {}, "local")).status).toBe(200);
    expect(await client.next()).toBe("local");
    const proxied = await call(url, { "x-forwarded-for": "203.0.113.7" });
    expect(proxied).toMatchObject({ status: 403, type: "ForbiddenException" });
    await client.close();
  });

  it("with keys from the environment: unsigned calls get Missing Authentication Token", async () => {
    process.env.SWITCHBOARD_ACCESS_KEY_ID = KEY.accessKeyId;
    process.env.SWITCHBOARD_SECRET_ACCESS_KEY = KEY.secretAccessKey;
    server = await startApp("basic", { host: "0.0.0.0" });
    const res = await call(`http://127.0.0.1:${server.port}/test/@connections/abc%3D`, {});
    expect(res).toEqual({
      status: 403,
      type: "MissingAuthenticationTokenException",
      body: '{"message":"Missing Authentication Token"}',
    });
  });

  it("with keys: plain handlers' SDK calls are signed with the first pair and go through", async () => {
    for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"]) {
      delete process.env[name];
    }
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(FIXTURES, "no-such-credentials");
    process.env.AWS_CONFIG_FILE = path.join(FIXTURES, "no-such-config");
    process.env.SWITCHBOARD_ACCESS_KEY_ID = KEY.accessKeyId;
    process.env.SWITCHBOARD_SECRET_ACCESS_KEY = KEY.secretAccessKey;
    server = await startApp(path.join(FIXTURES, "start"), { host: "0.0.0.0" });
    const url = `ws://127.0.0.1:${server.port}/prod`;
    const [from, to] = await Promise.all([TestClient.connect(url), TestClient.connect(url)]);
    const { connectionId } = await to.ask<{ connectionId: string }>({ action: "whoami" });
    from.send({ action: "relay", to: connectionId, data: "signed by the handler" });
    expect(await to.next()).toBe("signed by the handler");
    await Promise.all([from.close(), to.close()]);
  });

  it("on a loopback host, any caller (the emulator as before)", async () => {
    process.env.SWITCHBOARD_ACCESS_KEY_ID = KEY.accessKeyId;
    process.env.SWITCHBOARD_SECRET_ACCESS_KEY = KEY.secretAccessKey;
    server = await startApp("basic");
    const res = await call(`${server.http}/test/@connections/abc%3D`, {});
    expect(res).toMatchObject({ status: 410, type: "GoneException" });
  });
});

describe("access keys", () => {
  const dir = repoScratchDir("access-keys");
  beforeAll(() => mkdirSync(dir, { recursive: true }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a keys file (pairs, comments, IAM's CSV) after the variables' pair", () => {
    const file = path.join(dir, "keys");
    writeFileSync(
      file,
      `# rotation\nAccess key ID,Secret access key\n${ROTATED.accessKeyId},${ROTATED.secretAccessKey}\n\nSBTESTKEY00000000003 third\n`,
    );
    expect(
      accessKeysFrom({
        env: {
          SWITCHBOARD_ACCESS_KEY_ID: KEY.accessKeyId,
          SWITCHBOARD_SECRET_ACCESS_KEY: KEY.secretAccessKey,
          SWITCHBOARD_ACCESS_KEYS_FILE: file,
        },
      }),
    ).toEqual([KEY, ROTATED, { accessKeyId: "SBTESTKEY00000000003", secretAccessKey: "third" }]);
  });

  it("says where a bad line is, what was expected and what was found", () => {
    const file = path.join(dir, "bad");
    writeFileSync(file, `${KEY.accessKeyId} ${KEY.secretAccessKey}\nshort secret\n`);
    expect(() => readAccessKeysFile(file)).toThrow(
      `${file}:2 — expected an access key id (16-128 letters, digits or _) then its secret, found "short"`,
    );
    expect(() => accessKeysFrom({ env: { SWITCHBOARD_ACCESS_KEY_ID: KEY.accessKeyId } })).toThrow(
      "environment — expected both SWITCHBOARD_ACCESS_KEY_ID and SWITCHBOARD_SECRET_ACCESS_KEY, found only SWITCHBOARD_ACCESS_KEY_ID",
    );
  });
});
