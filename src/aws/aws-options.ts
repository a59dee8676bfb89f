/**
 * What the App model does not say but an AWS deployment needs: Lambda runtime and
 * architecture, log retention, stage throttling, a custom domain. Given to `switchboard build`
 * as flags (see docs/aws.md); every field has a default.
 */
export interface AwsOptions {
  /** Lambda runtime. Default `nodejs22.x` (the newest LTS Lambda runs; Node 20 is supported too). */
  runtime?: LambdaRuntime;
  /** Lambda architecture. Default `arm64` (Graviton: cheaper per ms; bundles are plain JS). */
  architecture?: LambdaArchitecture;
  /** CloudWatch Logs retention of each function's log group, in days. Default 30. */
  logRetentionDays?: number;
  /** Stage throttling: `default` for every route, `routes` per route key (wins over `default`). */
  throttling?: {
    default?: Throttle;
    routes?: Record<string, Throttle>;
  };
  /** Serve the API on a custom domain (Jaypie's `host` / `certificate`). */
  domain?: CustomDomainOptions;
}

export type LambdaRuntime = "nodejs20.x" | "nodejs22.x";
export type LambdaArchitecture = "arm64" | "x86_64";

export interface Throttle {
  /** Requests per second (steady state). */
  rateLimit?: number;
  /** Burst bucket size. */
  burstLimit?: number;
}

export interface CustomDomainOptions {
  /** e.g. `ws.example.com`. */
  name: string;
  /**
   * An existing ACM certificate (same region as the API). Without one, a DNS-validated
   * `AWS::CertificateManager::Certificate` is created (validated automatically when
   * `hostedZoneId` is given, else by the records you add).
   */
  certificateArn?: string;
  /** Route 53 hosted zone of the domain: DNS validation records and an alias A record are created in it. */
  hostedZoneId?: string;
  /** API mapping key (a path under the domain); default none (the API at the domain root). */
  basePath?: string;
}

export const DEFAULT_RUNTIME: LambdaRuntime = "nodejs22.x";
export const DEFAULT_ARCHITECTURE: LambdaArchitecture = "arm64";
export const DEFAULT_LOG_RETENTION_DAYS = 30;
export const LAMBDA_RUNTIMES: readonly LambdaRuntime[] = ["nodejs20.x", "nodejs22.x"];
export const LAMBDA_ARCHITECTURES: readonly LambdaArchitecture[] = ["arm64", "x86_64"];

/** The esbuild target matching a Lambda runtime (`nodejs20.x` → `node20`; a declared one too). */
export function esbuildTarget(runtime: LambdaRuntime | string): string {
  const major = /^nodejs(\d+)\.x$/.exec(runtime)?.[1];
  return major ? `node${major}` : "node22";
}
