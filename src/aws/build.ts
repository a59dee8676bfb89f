import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { loadApp } from "../app/load.js";
import type { App } from "../app/model.js";
import { ModuleLoader } from "../app/module-loader.js";
import { SwitchboardError } from "../errors.js";
import type { AwsOptions } from "./aws-options.js";
import { bundleFunction } from "./bundle.js";
import { type CfnTemplate, compileTemplate, defaultArtifactKey } from "./compile-template.js";
import { planApp } from "./function-plan.js";
import { validateTemplate } from "./validate-template.js";

/** Marks an output folder as ours: only such a folder (or an empty one) is replaced. */
const MANIFEST_GENERATOR = "switchboard build";

/** The output folder is replaced as a whole: never one holding files a build did not write. */
async function assertReplaceable(outDir: string): Promise<void> {
  const entries = await readdir(outDir).catch(() => []);
  if (entries.length === 0) return;
  const manifest = await readFile(path.join(outDir, "manifest.json"), "utf8").then(
    (text) => JSON.parse(text) as { generator?: unknown },
    () => undefined,
  );
  if (manifest?.generator !== MANIFEST_GENERATOR) {
    throw new SwitchboardError(
      "SB_ERR_BUILD",
      `${outDir} is not empty and holds no earlier build (no manifest.json from switchboard build); choose another --out or empty it`,
    );
  }
}

export interface BuildOptions extends AwsOptions {
  /** App folder or config file. */
  target: string;
  /** Overrides the config's stage. */
  stage?: string;
  /** Output folder (replaced as a whole on success, untouched on failure). Default `dist`. */
  outDir?: string;
  /** Emit source maps next to each bundle (and NODE_OPTIONS=--enable-source-maps). Default true. */
  sourcemap?: boolean;
}

/** One function's artifact, as listed in `manifest.json`. */
export interface BuiltFunction {
  name: string;
  logicalId: string;
  kind: "route" | "authorizer" | "seed";
  routes: string[];
  /** Relative to the output folder: `functions/<name>.zip`. */
  zip: string;
  sha256: string;
  bytes: number;
  /** The default of the template's `<name>ArtifactKey` parameter: where to upload the zip in the bucket. */
  s3Key: string;
}

export interface BuildResult {
  app: App;
  outDir: string;
  /** Absolute path of `template.json`. */
  templateFile: string;
  /** Absolute path of `manifest.json`. */
  manifestFile: string;
  template: CfnTemplate;
  functions: BuiltFunction[];
}

/**
 * `switchboard build`: load the app, bundle one zip per function, compile and validate the
 * CloudFormation template, and write `template.json`, `manifest.json` and `functions/*.zip` to
 * the output folder. Everything is written to a temporary sibling folder first and moved into
 * place only when all of it succeeded, so a failed build leaves the output folder as it was.
 *
 * @example
 * ```ts
 * const result = await buildAwsApp({ target: "examples/chat", outDir: "dist/aws" });
 * result.functions.map((f) => f.zip); // ["functions/Connect.zip", ...]
 * ```
 */
export async function buildAwsApp(options: BuildOptions): Promise<BuildResult> {
  const target = path.resolve(options.target);
  const outDir = path.resolve(options.outDir ?? "dist");
  await assertReplaceable(outDir);
  const appDir = (await stat(target).then(
    (s) => s.isDirectory(),
    () => false,
  ))
    ? target
    : path.dirname(target);
  const loader = new ModuleLoader({ cacheDir: path.join(appDir, ".switchboard", "modules") });
  let app: App;
  try {
    app = await loadApp(target, { loader, ...(options.stage ? { stage: options.stage } : {}) });
  } finally {
    await loader.dispose();
  }
  const plan = planApp(app);
  const bundles = await Promise.all(
    plan.functions.map((fn) =>
      bundleFunction(app, fn, {
        ...(options.runtime ? { runtime: options.runtime } : {}),
        ...(options.sourcemap !== undefined ? { sourcemap: options.sourcemap } : {}),
      }),
    ),
  );
  const functions: BuiltFunction[] = plan.functions.map((fn, index) => {
    const bundle = bundles[index] as (typeof bundles)[number];
    return {
      name: fn.name,
      logicalId: `${fn.name}Function`,
      kind: fn.kind,
      routes: [...fn.routeKeys],
      zip: `functions/${fn.name}.zip`,
      sha256: bundle.zip.sha256,
      bytes: bundle.zip.bytes.byteLength,
      s3Key: defaultArtifactKey(fn.name, bundle.zip.sha256),
    };
  });
  const template = compileTemplate(
    app,
    Object.fromEntries(functions.map((f) => [f.name, f.s3Key])),
    options,
    plan,
  );
  validateTemplate(template);

  const manifest = {
    generator: MANIFEST_GENERATOR,
    app: app.name,
    stage: app.stage,
    template: "template.json",
    parameters: {
      ArtifactBucket: "(required) the S3 bucket the zips are uploaded to",
      ...Object.fromEntries(functions.map((f) => [`${f.name}ArtifactKey`, f.s3Key])),
    },
    functions,
  };

  // Same parent folder: the final rename stays on one file system, so it is atomic.
  await mkdir(path.dirname(outDir), { recursive: true });
  const staging = `${outDir}.staging-${randomBytes(4).toString("hex")}`;
  try {
    await mkdir(path.join(staging, "functions"), { recursive: true });
    await writeFile(path.join(staging, "template.json"), `${JSON.stringify(template, null, 2)}\n`);
    await writeFile(path.join(staging, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const [index, fn] of functions.entries()) {
      await writeFile(
        path.join(staging, fn.zip),
        (bundles[index] as (typeof bundles)[number]).zip.bytes,
      );
    }
    const previous = `${outDir}.previous-${randomBytes(4).toString("hex")}`;
    const hadPrevious = await stat(outDir).then(
      () => true,
      () => false,
    );
    if (hadPrevious) await rename(outDir, previous);
    try {
      await rename(staging, outDir);
    } catch (error) {
      if (hadPrevious) await rename(previous, outDir);
      throw error;
    }
    if (hadPrevious) await rm(previous, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return {
    app,
    outDir,
    templateFile: path.join(outDir, "template.json"),
    manifestFile: path.join(outDir, "manifest.json"),
    template,
    functions,
  };
}
