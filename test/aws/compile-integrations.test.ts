import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadApp } from "../../src/app/load.js";
import { ModuleLoader } from "../../src/app/module-loader.js";
import { buildAwsApp } from "../../src/aws/build.js";
import { compileTemplate } from "../../src/aws/compile-template.js";
import { checkTemplate } from "../../src/aws/validate-template.js";
import { ConfigError, formatConfigIssue } from "../../src/errors.js";
import { copyFixture, FIXTURES } from "../helpers/server.js";

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

let loader: ModuleLoader;
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "switchboard-integrations-"));
  loader = new ModuleLoader({ cacheDir: path.join(tmp, ".cache") });
});
afterAll(async () => {
  await loader.dispose();
  await rm(tmp, { recursive: true, force: true });
});

describe("switchboard build: every integration type", () => {
  it("compiles AWS (templates), MOCK, HTTP, HTTP_PROXY and DynamoDB integrations; the spec validator accepts them", async () => {
    // The VPC-link route of the fixture cannot be deployed from what it carries: drop it here.
    const loaded = await loadApp(path.join(FIXTURES, "sam-integrations"), { loader });
    const app = { ...loaded, routes: loaded.routes.filter((r) => r.key !== "private") };
    const template = compileTemplate(app, {});
    expect(checkTemplate(template)).toEqual([]);
    const resources = template.Resources as Resources;
    const props = (id: string) => resources[id]?.Properties ?? {};

    expect(props("EchoIntegration")).toMatchObject({
      IntegrationType: "AWS",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a selection expression
      TemplateSelectionExpression: "${request.body.format}",
      PassthroughBehavior: "WHEN_NO_MATCH",
    });
    expect(Object.keys(props("EchoIntegration").RequestTemplates as object)).toEqual([
      "$default",
      "short",
    ]);
    expect(props("EchoIntegrationResponse")).toMatchObject({
      IntegrationId: { Ref: "EchoIntegration" },
      IntegrationResponseKey: "$default",
    });
    expect(props("EchoIntegrationResponse2")).toMatchObject({
      IntegrationResponseKey: "/bad input.*/",
    });
    expect(resources.EchoPermission?.Type).toBe("AWS::Lambda::Permission");

    expect(props("PingIntegration")).toMatchObject({ IntegrationType: "MOCK" });
    expect(props("PingIntegration")).not.toHaveProperty("IntegrationUri");
    expect(resources.PingPermission).toBeUndefined();
    expect(resources.PingFunction).toBeUndefined();

    expect(props("ForwardIntegration")).toMatchObject({
      IntegrationType: "HTTP_PROXY",
      IntegrationMethod: "POST",
      IntegrationUri: "http://127.0.0.1:9/forward",
      RequestParameters: {
        "integration.request.header.X-Connection-Id": "context.connectionId",
      },
    });
    expect(props("NotifyIntegration")).toMatchObject({ IntegrationType: "HTTP" });
    expect(props("StoreIntegration")).toMatchObject({
      IntegrationType: "AWS",
      CredentialsArn: { "Fn::GetAtt": ["StoreIntegrationRole", "Arn"] },
    });
    expect(resources.StoreIntegrationRole?.Type).toBe("AWS::IAM::Role");
  });

  it("refuses to build an integration it cannot describe (a VPC link), naming the route", async () => {
    const app = await loadApp(path.join(FIXTURES, "sam-integrations"), { loader });
    const error = (() => {
      try {
        compileTemplate(app, {});
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map(formatConfigIssue).join("\n")).toMatch(
      /routes\.private — expected an integration Switchboard can build .*found HTTP_PROXY \(a VPC link/,
    );
  });

  it("compiles a native http route (HTTP_PROXY), validated, with no function", async () => {
    const dir = path.join(tmp, "native");
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, "switchboard.yaml"),
      [
        "name: relay",
        "routes:",
        "  $default:",
        "    http: https://backend.example/messages",
        "    method: PUT",
        "    routeResponse: true",
        "    timeout: 5",
        "    requestParameters:",
        "      integration.request.header.X-Connection-Id: context.connectionId",
        "",
      ].join("\n"),
    );
    const app = await loadApp(dir, { loader });
    expect(app.routes[0]).toMatchObject({
      key: "$default",
      integration: { kind: "http-proxy", method: "PUT", url: "https://backend.example/messages" },
      routeResponse: true,
      timeoutMs: 5000,
    });
    const template = compileTemplate(app, {});
    expect(checkTemplate(template)).toEqual([]);
    const resources = template.Resources as Resources;
    expect(resources.DefaultIntegration?.Properties).toMatchObject({
      IntegrationType: "HTTP_PROXY",
      IntegrationMethod: "PUT",
      IntegrationUri: "https://backend.example/messages",
      TimeoutInMillis: 5000,
    });
    expect(Object.values(resources).some((r) => r.Type === "AWS::Lambda::Function")).toBe(false);
  });

  it("reports a native http route's mistakes at their lines", async () => {
    const dir = path.join(tmp, "native-bad");
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, "switchboard.yaml"),
      [
        "name: relay",
        "routes:",
        "  a:",
        "    http: ftp://x",
        "  b:",
        "    http: http://x",
        "    method: FETCH",
        "  c:",
        "    http: http://x",
        "    requestParameters:",
        "      nope: context.connectionId",
        "",
      ].join("\n"),
    );
    const error = await loadApp(dir, { loader }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error as ConfigError).issues.map((i) =>
      formatConfigIssue(i).split(dir).join("<dir>"),
    );
    expect(lines).toEqual([
      '<dir>/switchboard.yaml:4:5 routes.a.http — expected an http:// or https:// URL, found a string ("ftp://x")',
      '<dir>/switchboard.yaml:7:5 routes.b.method — expected an HTTP method (POST, PUT, ...), found a string ("FETCH")',
      '<dir>/switchboard.yaml:11:7 routes.c.requestParameters.nope — expected integration.request.header.{name} or integration.request.querystring.{name}, found "nope"',
    ]);
  });

  it("round trip: the build output loads back with the same integrations", async () => {
    const copy = await copyFixture("sam-integrations");
    try {
      // Without the VPC-link route (the build refuses it).
      const file = path.join(copy.dir, "template.yaml");
      const text = await readFile(file, "utf8");
      await writeFile(file, text.slice(0, text.indexOf("  # Not emulated")));
      const source = await loadApp(copy.dir, { loader });
      const out = path.join(copy.dir, "dist");
      await buildAwsApp({ target: copy.dir, outDir: out });
      const built = await loadApp(out, { loader });
      const shape = (app: typeof source) =>
        app.routes.map((r) => ({
          key: r.key,
          integration: r.integration,
          function: r.target !== undefined,
          routeResponse: r.routeResponse,
        }));
      expect(shape(built)).toEqual(shape(source));
    } finally {
      await copy.cleanup();
    }
  });
});
