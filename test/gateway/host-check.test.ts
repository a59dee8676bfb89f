import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startDevProcess } from "../helpers/dev-process.js";
import { eventually } from "../helpers/eventually.js";
import { FIXTURES, type RunningApp, startApp } from "../helpers/server.js";

/** An HTTP request with chosen headers (fetch would not let us set Host or Sec-Fetch-Site). */
function send(
  port: number,
  method: string,
  pathname: string,
  headers: Record<string, string>,
  body = "",
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: pathname, method, headers }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Open a WebSocket with chosen headers; resolves with 101 or the refusal status. */
function handshake(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once("error", () => resolve(0));
  });
}

describe("DNS rebinding: the dev server answers only its own names (basic)", () => {
  let app: RunningApp;
  let id: string;
  let client: WebSocket;
  const received: string[] = [];
  beforeAll(async () => {
    app = await startApp("basic", {
      staticDir: `${FIXTURES}/basic`,
      allowedHosts: ["devbox.test", ".team.test"],
    });
    client = new WebSocket(app.url);
    client.on("message", (d) => received.push(d.toString()));
    await new Promise((r) => client.once("open", r));
    id = await eventually(async () => app.gateway.connectionIds()[0]);
  });
  afterAll(async () => {
    client?.close();
    await app?.close();
  });

  const mgmt = () => `/test/@connections/${encodeURIComponent(id)}`;

  it.each(["evil.example", "attacker.test:3001", "devbox.test.evil.example"])(
    "refuses Host %j on @connections, static files, the WebSocket URL and handshakes",
    async (host) => {
      const headers = { Host: host };
      const post = await send(app.port, "POST", mgmt(), headers, "rebound");
      expect(post.status).toBe(403);
      expect((await send(app.port, "GET", "/switchboard.yaml", headers)).status).toBe(403);
      expect((await send(app.port, "GET", "/", headers)).status).toBe(403);
      expect(await handshake(app.url, headers)).toBe(403);
      expect(received).not.toContain("rebound");
    },
  );

  it.each([
    "127.0.0.1:1234",
    "localhost",
    "LOCALHOST:3001",
    "app.localhost",
    "[::1]:3001",
    "192.168.1.20",
    "devbox.test",
    "a.team.test",
    "team.test",
    "abc123defg.execute-api.us-east-1.amazonaws.com",
  ])("answers Host %j", async (host) => {
    const headers = { Host: host };
    expect((await send(app.port, "GET", mgmt(), headers)).status).toBe(200);
    expect((await send(app.port, "GET", "/switchboard.yaml", headers)).status).toBe(200);
    expect(await handshake(app.url, headers)).toBe(101);
  });

  it("refuses @connections from a browser page of another origin; the SDK's requests pass", async () => {
    const host = `127.0.0.1:${app.port}`;
    const crossSite: Array<Record<string, string>> = [
      { Host: host, Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" },
      { Host: host, "Sec-Fetch-Site": "same-site" }, // localhost:5173 → localhost:3001
      { Host: host, Origin: "http://localhost:5173" },
      { Host: host, Origin: "null" },
    ];
    for (const headers of crossSite) {
      expect((await send(app.port, "POST", mgmt(), headers, "csrf")).status).toBe(403);
      expect((await send(app.port, "POST", "/_arc/ssm", headers, "{}")).status).toBe(403);
    }
    const sameOrigin = { Host: host, Origin: `http://${host}`, "Sec-Fetch-Site": "same-origin" };
    expect((await send(app.port, "POST", mgmt(), sameOrigin, "same")).status).toBe(200);
    expect((await send(app.port, "POST", mgmt(), { Host: host }, "sdk")).status).toBe(200);
    await eventually(async () => (received.includes("sdk") ? true : undefined));
    expect(received).not.toContain("csrf");
  });

  it("accepts WebSocket handshakes from pages of other origins, as AWS does", async () => {
    expect(await handshake(app.url, { Origin: "https://elsewhere.example" })).toBe(101);
  });
});

describe("allowedHosts: true answers any host", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("basic", { allowedHosts: true });
  });
  afterAll(async () => {
    await app?.close();
  });

  it("serves a foreign Host", async () => {
    expect(await handshake(app.url, { Host: "anything.example" })).toBe(101);
  });
});

describe("switchboard dev --allowed-hosts", () => {
  it("answers the names given and refuses others", async () => {
    const dev = await startDevProcess(`${FIXTURES}/basic`, [
      "--allowed-hosts",
      "devbox.test, .team.test",
    ]);
    try {
      const port = Number(new URL(dev.http).port);
      expect((await send(port, "GET", "/", { Host: "devbox.test" })).status).toBe(426);
      expect((await send(port, "GET", "/", { Host: "x.team.test:8080" })).status).toBe(426);
      const refused = await send(port, "GET", "/", { Host: "evil.example" });
      expect(refused.status).toBe(403);
      expect(refused.body).toContain("--allowed-hosts");
    } finally {
      dev.kill();
    }
  });
});
