import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveHandler, resolveSchemaRef } from "../../src/app/handler-target.js";
import { lambdaHandlerRef } from "../../src/app/loaders/app-draft.js";
import type { App, HandlerTarget, Route } from "../../src/app/model.js";
import { ModuleLoader } from "../../src/app/module-loader.js";
import { bundleFunction } from "../../src/aws/bundle.js";
import type { FunctionPlan } from "../../src/aws/function-plan.js";
import { InProcessInvoker } from "../../src/invoker/in-process.js";
import { repoScratchDir } from "../helpers/repo-paths.js";

// Each handler module shape, with the handler string a Lambda function would name it by. The
// Lambda Node.js runtime `require`s CommonJS (the export path is read on `module.exports`) and
// `import()`s ES modules (read on the namespace), then follows the path one dot at a time.
const FILES: Record<string, string> = {
  "cjs/package.json": "{}",
  "cjs/exports-default.js": 'module.exports.default = async () => "cjs default";',
  "cjs/named.js": 'exports.handler = async () => "cjs named";',
  "cjs/function.js": 'module.exports = async function main() { return "cjs function"; };',
  "cjs/function-prop.js":
    'const main = async () => "cjs function.handler"; module.exports = main; module.exports.handler = main;',
  "cjs/ts-output.js":
    'Object.defineProperty(exports, "__esModule", { value: true });\nexports.default = async () => "tsc default";',
  "cjs/babel-default-object.js":
    'Object.defineProperty(exports, "__esModule", { value: true });\nexports.default = { handler: async () => "babel" };',
  "cjs/nested.js": 'module.exports = { handlers: { send: async () => "cjs nested" } };',
  "cjs/esm-syntax.js": 'export const handler = async () => "esm syntax in a .js file";',
  "cjs/schema.js":
    'const { z } = require("zod");\nmodule.exports = z.object({ text: z.string() });',
  "cjs/schemas.js": 'const { z } = require("zod");\nexports.Send = z.object({ text: z.string() });',
  "esm/package.json": '{ "type": "module" }',
  "esm/schema.js": 'import { z } from "zod";\nexport default z.object({ text: z.string() });',
  "esm/named.js": 'export const handler = async () => "esm named";',
  "esm/default.js": 'export default async () => "esm default";',
  "esm/default-object.js": 'export default { handler: async () => "esm default.handler" };',
  "esm/explicit.cjs": 'module.exports = { handler: async () => "cjs in an ESM package" };',
  "esm/explicit-default.cjs": 'module.exports.default = async () => "cjs default in .cjs";',
  "esm/module.mjs": 'export async function handler() { return "mjs"; }',
  "esm/module-default.mjs": 'export default async function () { return "mjs default"; }',
};

/** Handler string (as in serverless.yml / template.yaml) → what the function returns. */
const WORKING: Array<[string, string]> = [
  ["cjs/exports-default.default", "cjs default"],
  ["cjs/named.handler", "cjs named"],
  ["cjs/function-prop.handler", "cjs function.handler"],
  ["cjs/ts-output.default", "tsc default"],
  ["cjs/nested.handlers.send", "cjs nested"],
  ["cjs/esm-syntax.handler", "esm syntax in a .js file"],
  ["esm/named.handler", "esm named"],
  ["esm/default.default", "esm default"],
  ["esm/default-object.default.handler", "esm default.handler"],
  ["esm/explicit.handler", "cjs in an ESM package"],
  ["esm/explicit-default.default", "cjs default in .cjs"],
  ["esm/module.handler", "mjs"],
  ["esm/module-default.default", "mjs default"],
];

/** Handler strings Lambda refuses (the export path finds nothing), and what we say instead. */
const REFUSED: Array<[string, RegExp]> = [
  ["cjs/function.handler", /module\.exports is a function \(main\) itself/],
  ["cjs/exports-default.handler", /no export "handler" \(module\.exports has: default\)/],
  ["esm/default-object.handler", /default export has it: name it default\.handler/],
  ["esm/named.default", /no export "default" \(has: handler\)/],
  ["cjs/babel-default-object.handler", /module\.exports\.default has it: name it default\.handler/],
];

const ROOT = repoScratchDir("handler-exports");
let loader: ModuleLoader;

beforeAll(async () => {
  for (const [name, text] of Object.entries(FILES)) {
    await mkdir(path.dirname(path.join(ROOT, name)), { recursive: true });
    await writeFile(path.join(ROOT, name), text);
  }
  loader = new ModuleLoader({ cacheDir: path.join(ROOT, ".switchboard", "modules") });
});
afterAll(() => rm(ROOT, { recursive: true, force: true }));

async function target(handler: string): Promise<HandlerTarget> {
  const ref = lambdaHandlerRef(handler);
  if (!ref) throw new Error(`not a handler string: ${handler}`);
  const resolved = await resolveHandler(ref, undefined, { root: ROOT, loader });
  if (!resolved.ok)
    throw new Error(`${resolved.problem.expected}, found ${resolved.problem.found}`);
  return resolved.value;
}

describe("handler exports, resolved as the Lambda Node.js runtime resolves them", () => {
  it.each(WORKING)("switchboard dev runs %s", async (handler, expected) => {
    const fn = await new InProcessInvoker(loader).resolve(await target(handler));
    expect(await fn({}, {})).toBe(expected);
  });

  it.each(REFUSED)("refuses %s, saying what the module has", async (handler, message) => {
    await expect(target(handler)).rejects.toThrow(message);
  });

  it.each(WORKING)("switchboard build runs %s", async (handler, expected) => {
    const resolved = await target(handler);
    const app = { root: ROOT, source: { file: path.join(ROOT, "template.yaml") } } as App;
    const plan: FunctionPlan = {
      name: "Fn",
      kind: "route",
      routeKeys: ["$default"],
      target: resolved,
      memoryMb: 128,
      timeoutSeconds: 3,
      environment: {},
    };
    const bundle = await bundleFunction(app, plan, { sourcemap: false });
    const out = path.join(ROOT, "built", handler.replace(/[^a-z]/gi, "-"));
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, "index.mjs"), bundle.files["index.mjs"] as Uint8Array);
    const built = (await import(pathToFileURL(path.join(out, "index.mjs")).href)) as {
      handler: (event: unknown, context: unknown) => Promise<unknown>;
    };
    const event = { requestContext: { eventType: "MESSAGE", routeKey: "$default" }, body: "{}" };
    expect(await built.handler(event, { awsRequestId: "r" })).toBe(expected);
  });
});

// Body schema references are Switchboard's own: `file` alone is the default export, as an
// `import schema from "./file"` gives it (module.exports itself for CommonJS).
describe("body schema references, resolved as an import gets them", () => {
  it.each([
    ["cjs/schema.js", "default"],
    ["cjs/schemas.js#Send", "Send"],
    ["esm/schema.js", "default"],
  ])("%s is a schema in validation and in the invoker", async (ref, name) => {
    const resolved = await resolveSchemaRef(ref, { root: ROOT, loader });
    if (!resolved.ok)
      throw new Error(`${resolved.problem.expected}, found ${resolved.problem.found}`);
    expect(resolved.value.export).toBe(name);
    const route = { body: { kind: "ref", ...resolved.value } } as unknown as Route;
    const schema = await new InProcessInvoker(loader).bodySchema(route);
    expect(await schema?.["~standard"].validate({ text: "hi" })).toEqual({ value: { text: "hi" } });
  });
});

describe("a CommonJS body schema in switchboard build's entry", () => {
  it("validates with module.exports as the schema", async () => {
    const handler = await target("cjs/named.handler");
    const app = { root: ROOT, source: { file: path.join(ROOT, "template.yaml") } } as App;
    const plan: FunctionPlan = {
      name: "Schema",
      kind: "route",
      routeKeys: ["send"],
      target: handler,
      body: { kind: "ref", file: path.join(ROOT, "cjs/schema.js"), export: "default" },
      memoryMb: 128,
      timeoutSeconds: 3,
      environment: {},
    };
    const bundle = await bundleFunction(app, plan, { sourcemap: false });
    const out = path.join(ROOT, "built", "schema");
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, "index.mjs"), bundle.files["index.mjs"] as Uint8Array);
    const built = (await import(pathToFileURL(path.join(out, "index.mjs")).href)) as {
      handler: (event: unknown, context: unknown) => Promise<unknown>;
    };
    // The Bad request frame goes to a closed local port: no traffic leaves this machine.
    const event = (body: string) => ({
      requestContext: {
        eventType: "MESSAGE",
        routeKey: "send",
        connectionId: "c1",
        domainName: "127.0.0.1:9",
        stage: "dev",
      },
      body,
    });
    expect(await built.handler(event('{"text":"hi"}'), { awsRequestId: "r" })).toBe("cjs named");
    expect(await built.handler(event('{"text":1}'), { awsRequestId: "r" })).toEqual({
      statusCode: 400,
    });
  });
});
