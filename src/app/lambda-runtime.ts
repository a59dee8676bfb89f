/**
 * What a Lambda Node.js runtime carries besides Node: the AWS SDK. `nodejs18.x` and later carry
 * the SDK for JavaScript v3 (`@aws-sdk/*`), `nodejs16.x` and earlier v2 (`aws-sdk`), so function
 * code may import it without declaring it.
 */

/** The runtime a function gets when its source names none: the newest Node.js LTS Lambda runs. */
export const DEFAULT_NODE_RUNTIME = "nodejs22.x";

/** The AWS SDK a runtime carries. */
export interface RuntimeSdk {
  /** The runtime as written (`nodejs20.x`), or {@link DEFAULT_NODE_RUNTIME}. */
  runtime: string;
  /** `v3` (`@aws-sdk/*`) or `v2` (`aws-sdk`). */
  version: "v3" | "v2";
  /** How the carried SDK reads in messages: `AWS SDK for JavaScript v3, @aws-sdk/*`. */
  description: string;
}

const V3 = "AWS SDK for JavaScript v3, @aws-sdk/*";
const V2 = "AWS SDK for JavaScript v2, aws-sdk";

/**
 * The SDK a runtime carries. Runtimes that are not `nodejs<major>...` (a loader refuses those)
 * are taken as the default.
 *
 * @example
 * ```ts
 * runtimeSdk("nodejs16.x").version; // "v2"
 * runtimeSdk(undefined).runtime; // "nodejs22.x"
 * ```
 */
export function runtimeSdk(runtime: string | undefined): RuntimeSdk {
  const major = Number(/^nodejs(\d+)/.exec(runtime ?? "")?.[1]);
  const name = Number.isFinite(major) && runtime ? runtime : DEFAULT_NODE_RUNTIME;
  return Number.isFinite(major) && major <= 16
    ? { runtime: name, version: "v2", description: V2 }
    : { runtime: name, version: "v3", description: V3 };
}

/** The package a specifier imports (`@aws-sdk/lib-dynamodb/x` → `@aws-sdk/lib-dynamodb`). */
export function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return (specifier.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1)).join("/");
}

/** True when the package is part of the SDK the runtime carries. */
export function carriedBy(sdk: RuntimeSdk, name: string): boolean {
  return sdk.version === "v3" ? name.startsWith("@aws-sdk/") : name === "aws-sdk";
}

/** True for a package of either SDK generation (what the runtime-SDK resolution looks at). */
export function isAwsSdkPackage(name: string): boolean {
  return name.startsWith("@aws-sdk/") || name === "aws-sdk";
}

/**
 * The esbuild `external` patterns that leave a runtime's SDK out of a bundle, for the runtime to
 * provide (what Lambda expects of a deployment package that does not ship its own SDK).
 *
 * @example
 * ```ts
 * sdkExternals(runtimeSdk("nodejs22.x")); // ["@aws-sdk/*"]
 * ```
 */
export function sdkExternals(sdk: RuntimeSdk): string[] {
  return sdk.version === "v3" ? ["@aws-sdk/*"] : ["aws-sdk", "aws-sdk/*"];
}
