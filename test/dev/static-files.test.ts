import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { request } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { type RunningApp, startApp, tmpdir } from "../helpers/server.js";

/** One HTTP request with the path sent byte for byte (fetch would normalise `/.` and `..`). */
function rawRequest(
  port: number,
  pathname: string,
  method = "GET",
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: pathname, method }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.setTimeout(3000, () => req.destroy(new Error(`no answer for ${method} ${pathname}`)));
    req.on("error", reject);
    req.end();
  });
}

describe("static files: every request answers, nothing outside the folder is served", () => {
  let app: RunningApp;
  let base: string;
  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), "switchboard-static-"));
    const pub = path.join(base, "public");
    await mkdir(path.join(pub, "sub"), { recursive: true });
    await mkdir(path.join(pub, "withindex"), { recursive: true });
    await writeFile(path.join(pub, "index.html"), "<h1>page</h1>");
    await writeFile(path.join(pub, "hello.txt"), "hello");
    await writeFile(path.join(pub, ".env"), "SECRET=1");
    await writeFile(path.join(pub, "withindex", "index.html"), "inner");
    await writeFile(path.join(base, "outside.txt"), "SECRET");
    await symlink("../outside.txt", path.join(pub, "leak"));
    await symlink(path.join(base, "outside.txt"), path.join(pub, "leak-absolute"));
    await symlink("hello.txt", path.join(pub, "alias.txt"));
    await symlink("/dev/zero", path.join(pub, "zero"));
    execFileSync("mkfifo", [path.join(pub, "fifo")]);
    app = await startApp("basic", { staticDir: pub });
  });
  afterAll(async () => {
    await app?.close();
    await rm(base, { recursive: true, force: true });
  });

  it.each([
    ["/%2e", "/%2e"],
    ["/.", "/."],
    ["/sub", "/sub"],
    ["/sub/", "/sub/"],
    ["/sub/.", "/sub/."],
    ["/index.html/..", "/index.html/.."],
    ["/%2e%2e/outside.txt", "/%2e%2e/outside.txt"],
    ["/%2e%2e%2foutside.txt", "/%2e%2e%2foutside.txt"],
    ["/..%5coutside.txt", "/..%5coutside.txt"],
    ["/sub/..%2F..%2Foutside.txt", "/sub/..%2F..%2Foutside.txt"],
    ["/hello.txt%00.html", "/hello.txt%00.html"],
    ["//hello.txt", "//hello.txt"],
    ["/aaa… (5000 characters)", `/${"a".repeat(5000)}`],
    ["/%E0%A4%A", "/%E0%A4%A"],
    ["/leak", "/leak"],
    ["/leak-absolute", "/leak-absolute"],
    ["/zero", "/zero"],
    ["/fifo", "/fifo"],
    ["/missing", "/missing"],
    ["/.env", "/.env"],
    ["/%2eenv", "/%2eenv"],
  ])("GET %s answers 4xx and the server keeps serving", async (_label, pathname) => {
    const answer = await rawRequest(app.port, pathname);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.body).not.toContain("SECRET");
    const head = await rawRequest(app.port, pathname, "HEAD");
    expect(head.status).toBeGreaterThanOrEqual(400);
    expect((await rawRequest(app.port, "/hello.txt")).body).toBe("hello");
  });

  it("POST to a file path is not served (the gateway answers 403)", async () => {
    expect((await rawRequest(app.port, "/hello.txt", "POST")).status).toBe(403);
  });

  it("serves files, symlinks that stay inside, and a folder's index page", async () => {
    expect(await rawRequest(app.port, "/alias.txt")).toEqual({ status: 200, body: "hello" });
    expect(await rawRequest(app.port, "/withindex")).toEqual({ status: 200, body: "inner" });
    expect(await rawRequest(app.port, "/withindex/")).toEqual({ status: 200, body: "inner" });
    expect((await rawRequest(app.port, "/hello.txt", "HEAD")).status).toBe(200);
  });

  it("GET / serves index.html when the folder has one; the WebSocket URL still upgrades", async () => {
    expect(await rawRequest(app.port, "/")).toEqual({ status: 200, body: "<h1>page</h1>" });
    // The stage URL keeps AWS's answer to a plain GET.
    expect((await rawRequest(app.port, "/test")).status).toBe(426);
    const client = await TestClient.connect(app.url);
    expect(await client.ask({ action: "echo", n: 1 })).toEqual({ action: "echo", n: 1 });
    await client.close();
  });

  it("a file removed after it was opened still answers (no crash)", async () => {
    const pub = path.join(base, "public");
    await writeFile(path.join(pub, "big.bin"), Buffer.alloc(4 * 1024 * 1024, 1));
    const pending = rawRequest(app.port, "/big.bin");
    await rm(path.join(pub, "big.bin"));
    const answer = await pending.catch(() => ({ status: 0, body: "" }));
    expect([0, 200, 404]).toContain(answer.status);
    expect((await rawRequest(app.port, "/hello.txt")).body).toBe("hello");
  });
});

describe("static files: GET / without an index.html", () => {
  let app: RunningApp;
  let base: string;
  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), "switchboard-static-"));
    await writeFile(path.join(base, "hello.txt"), "hello");
    app = await startApp("basic", { staticDir: base });
  });
  afterAll(async () => {
    await app?.close();
    await rm(base, { recursive: true, force: true });
  });

  it("keeps the gateway's 426 for the WebSocket URL", async () => {
    expect((await rawRequest(app.port, "/")).status).toBe(426);
  });
});
