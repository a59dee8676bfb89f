import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadApp } from "../../src/app/load.js";
import { type App, DEFAULT_LIMITS } from "../../src/app/model.js";
import { ModuleLoader } from "../../src/app/module-loader.js";
import { buildAwsApp } from "../../src/aws/build.js";
import { planApp } from "../../src/aws/function-plan.js";
import { ConfigError } from "../../src/errors.js";
import { repoScratchDir } from "../helpers/repo-paths.js";

// One set of app rules (src/app/rules.ts): the native format's validation, every foreign loader
// and the build must give the same answer for the same broken app.

const TMP = repoScratchDir("app-rules");
let loader: ModuleLoader;
let count = 0;

beforeAll(async () => {
  await mkdir(TMP, { recursive: true });
  loader = new ModuleLoader({ cacheDir: path.join(TMP, ".cache") });
});

afterAll(async () => {
  await loader.dispose();
  await rm(TMP, { recursive: true, force: true });
});

const HANDLER = "export const handler = async () => ({ statusCode: 200 });\n";

async function appDir(files: Record<string, string>): Promise<string> {
  const dir = path.join(TMP, `app-${++count}`);
  for (const [name, text] of Object.entries({ "src/h.mjs": HANDLER, ...files })) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

/** "path — expected X" of each issue the promise rejects with (found texts vary by format). */
async function expectations(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).issues.map((issue) => issue.expected);
}

function plan(app: App): Promise<unknown> {
  return Promise.resolve().then(() => planApp(app));
}

function appLiteral(keys: string[], extra: Partial<App> = {}): App {
  return {
    name: "demo",
    stage: "dev",
    root: TMP,
    source: { file: path.join(TMP, "switchboard.yaml"), format: "object" },
    routeSelectionExpression: "$request.body.action",
    routes: keys.map((key) => ({
      key,
      target: { file: path.join(TMP, "src/h.mjs"), export: "handler" },
      routeResponse: false,
      timeoutMs: 29_000,
      memoryMb: 1024,
      environment: {},
    })),
    connections: { ttlSeconds: 0, indexes: [] },
    environment: {},
    limits: { ...DEFAULT_LIMITS },
    ...extra,
  };
}

/** A native switchboard.yaml and a serverless.yml breaking the same rule. */
function native(routes: string, extra = ""): Record<string, string> {
  return { "switchboard.yaml": `name: demo\n${extra}routes:\n${routes}` };
}
function serverless(functions: string, provider = ""): Record<string, string> {
  return {
    "serverless.yml": `service: demo\nprovider:\n  name: aws\n${provider}functions:\n${functions}`,
  };
}
const slsFn = (name: string, route: string, extra = "") =>
  `  ${name}:\n    handler: src/h.handler\n${extra}    events:\n      - websocket:\n          route: "${route}"\n`;

const AUTHORIZER_NEEDS_CONNECT =
  "a $connect route for the authorizer (AWS runs REQUEST authorizers on $connect only)";

describe("app rules: the same answer from validation, every loader and the build", () => {
  it("an authorizer without $connect: validate (loadApp) and build (buildAwsApp, planApp) both refuse it", async () => {
    const dir = await appDir(
      native("  $default: src/h.mjs\n", "authorizer:\n  handler: src/h.mjs\n"),
    );
    const validated = await expectations(loadApp(dir, { loader }));
    const built = await expectations(buildAwsApp({ target: dir, outDir: path.join(dir, "out") }));
    expect(validated).toEqual([AUTHORIZER_NEEDS_CONNECT]);
    expect(built).toEqual(validated);
    // An App made in code reaches the build without a loader: the same rule stops it there.
    const authorizer = {
      name: "auth",
      target: { file: path.join(TMP, "src/h.mjs"), export: "handler" },
      identitySource: ["route.request.header.Auth"],
    };
    expect(await expectations(plan(appLiteral(["$default"], { authorizer })))).toEqual(validated);
    // With $connect, all three accept it.
    const ok = await appDir(
      native("  $connect: src/h.mjs\n", "authorizer:\n  handler: src/h.mjs\n"),
    );
    await expect(loadApp(ok, { loader })).resolves.toMatchObject({
      authorizer: { name: "authorizer" },
    });
  });

  const cases: Array<{
    rule: string;
    expected: string;
    native: Record<string, string>;
    foreign: Record<string, string>;
    app?: App;
  }> = [
    {
      rule: "route keys starting with $",
      expected: '$connect, $disconnect, $default or a custom route key not starting with "$"',
      native: native("  $conect: src/h.mjs\n"),
      foreign: serverless(slsFn("c", "$conect")),
      app: appLiteral(["$conect"]),
    },
    {
      rule: "route keys longer than 128 characters",
      expected: "a route key of at most 128 characters",
      native: native(`  ${"k".repeat(129)}: src/h.mjs\n`),
      foreign: serverless(slsFn("c", "k".repeat(129))),
      app: appLiteral(["k".repeat(129)]),
    },
    {
      rule: "empty route keys",
      expected: "a non-empty route key",
      native: native('  "": src/h.mjs\n'),
      foreign: serverless(slsFn("c", "")),
      app: appLiteral([""]),
    },
    {
      rule: "stage names",
      expected: "a stage name of letters, digits, _ and -",
      native: native("  $default: src/h.mjs\n", "stage: my stage\n"),
      foreign: serverless(slsFn("c", "$default"), "  stage: my stage\n"),
    },
    {
      rule: "route selection expressions",
      expected: "a route selection expression such as $request.body.action",
      native: native(
        "  $default: src/h.mjs\n",
        'routeSelectionExpression: "${request.body.action"\n',
      ),
      foreign: serverless(
        slsFn("c", "$default"),
        '  websocketsApiRouteSelectionExpression: "${request.body.action"\n',
      ),
    },
    {
      rule: "at least one route",
      expected: "at least one route",
      native: native("  {}\n"),
      foreign: serverless("  c:\n    handler: src/h.handler\n"),
    },
    {
      rule: "memory sizes",
      expected: "a whole number of MB from 128 to 10240",
      native: native("  $default:\n    handler: src/h.mjs\n    memory: 64\n"),
      foreign: serverless(slsFn("c", "$default", "    memorySize: 64\n")),
    },
    {
      rule: "identity sources",
      expected:
        "route.request.header.<name>, route.request.querystring.<name>, stageVariables.<name> or context.<name>",
      native: native(
        "  $connect: src/h.mjs\n",
        "authorizer:\n  handler: src/h.mjs\n  identitySource: [header.Auth]\n",
      ),
      foreign: serverless(
        `${slsFn("c", "$connect").replace(
          '          route: "$connect"\n',
          '          route: "$connect"\n          authorizer:\n            name: a\n            identitySource: header.Auth\n',
        )}  a:\n    handler: src/h.handler\n`,
      ),
      app: appLiteral(["$connect"], {
        authorizer: {
          name: "a",
          target: { file: path.join(TMP, "src/h.mjs"), export: "handler" },
          identitySource: ["header.Auth"],
        },
      }),
    },
  ];

  for (const { rule, expected, native: nativeFiles, foreign, app } of cases) {
    it(`${rule}: the native format, serverless.yml${app ? " and the build" : ""} say the same`, async () => {
      const fromNative = await expectations(loadApp(await appDir(nativeFiles), { loader }));
      const fromForeign = await expectations(loadApp(await appDir(foreign), { loader }));
      expect(fromNative).toEqual([expected]);
      expect(fromForeign).toEqual([expected]);
      if (app) expect(await expectations(plan(app))).toEqual([expected]);
    });
  }
});
