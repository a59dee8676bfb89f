import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type * as esbuild from "esbuild";
import { carriedBy, isAwsSdkPackage, packageName, type RuntimeSdk } from "./lambda-runtime.js";

/** Switchboard's own install: its `@aws-sdk/*` dependencies stand in for the runtime's copy. */
const ownRequire = createRequire(import.meta.url);

/** The folder of `name` as Node finds it from `dir` (`node_modules` of `dir` and above). */
function packageDir(dir: string, name: string): string | undefined {
  for (let current = dir; ; current = path.dirname(current)) {
    const candidate = path.join(current, "node_modules", name);
    if (existsSync(path.join(candidate, "package.json"))) return candidate;
    if (path.dirname(current) === current) return undefined;
  }
}

function resolveWith(require: NodeJS.Require, specifier: string): string | undefined {
  try {
    return require.resolve(specifier);
  } catch {
    return undefined;
  }
}

/**
 * The AWS SDK as a Lambda function sees it: the app's own copy when it has one (never shadowed),
 * else the copy its runtime carries, else a build error naming the package to add.
 *
 * Handler modules are built with packages left external, into `outDir`, so a bare import is
 * resolved by Node from there. This plugin looks at `@aws-sdk/*` and `aws-sdk` imports only:
 * - the app has the package (a `node_modules` at or above the importing file): the app's copy,
 *   by absolute path when Node would not find that same copy from `outDir` (a function folder
 *   with its own `node_modules`);
 * - the runtime carries it (v3 on `nodejs18.x`+, v2 on `nodejs16.x` and earlier) and Switchboard
 *   has a copy: Switchboard's, by absolute path;
 * - otherwise a static `import` fails the build with what to install; a `require()` or
 *   `import()` is left as written, so code that catches the failure (to support both SDK
 *   generations) behaves as on Lambda.
 */
export function runtimeSdkPlugin(sdk: RuntimeSdk, outDir: string): esbuild.Plugin {
  return {
    name: "switchboard-runtime-sdk",
    setup(build) {
      build.onResolve({ filter: /^(@aws-sdk\/|aws-sdk(\/|$))/ }, (args) => {
        const name = packageName(args.path);
        if (!isAwsSdkPackage(name)) return undefined;
        const from = args.resolveDir || path.dirname(args.importer);
        const own = packageDir(from, name);
        if (own) {
          if (packageDir(outDir, name) === own) return { path: args.path, external: true };
          const file = resolveWith(createRequire(path.join(from, "noop.js")), args.path);
          return { path: file ?? args.path, external: true };
        }
        const carried = carriedBy(sdk, name);
        if (carried) {
          const provided = resolveWith(ownRequire, args.path);
          if (provided) return { path: provided, external: true };
        }
        if (args.kind !== "import-statement") return { path: args.path, external: true };
        return {
          errors: [
            {
              text: carried
                ? `Cannot find package "${name}": the ${sdk.runtime} Lambda runtime carries it (${sdk.description}), but Switchboard has no copy of it to stand in offline; add it to the app: npm install --save-dev ${name}`
                : `Cannot find package "${name}": the app does not install it and the ${sdk.runtime} Lambda runtime does not carry it (it carries ${sdk.description}); add it to the app's dependencies: npm install ${name}`,
            },
          ],
        };
      });
    },
  };
}
