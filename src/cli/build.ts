import path from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import {
  type AwsOptions,
  LAMBDA_ARCHITECTURES,
  LAMBDA_RUNTIMES,
  type LambdaArchitecture,
  type LambdaRuntime,
  type Throttle,
} from "../aws/aws-options.js";
import { buildAwsApp } from "../aws/build.js";
import { reportCommandFailure } from "./command-failure.js";
import {
  certificateArn,
  domainName,
  existingPath,
  hostedZoneId,
  logRetentionDays,
  nonEmpty,
  positiveInteger,
  positiveNumber,
  stageName,
} from "./option-values.js";
import { printWarnings } from "./print-warnings.js";

/** `--route-throttle send=100:50` (rate:burst), repeatable. */
function routeThrottle(
  value: string,
  previous: Record<string, Throttle> = {},
): Record<string, Throttle> {
  const match = /^(.+)=(\d+(?:\.\d+)?)?(?::(\d+))?$/.exec(value);
  if (!match || (match[2] === undefined && match[3] === undefined)) {
    throw new InvalidArgumentError("expected <routeKey>=<rate>[:<burst>], e.g. send=100:50");
  }
  return {
    ...previous,
    [match[1] as string]: {
      ...(match[2] !== undefined ? { rateLimit: Number(match[2]) } : {}),
      ...(match[3] !== undefined ? { burstLimit: Number(match[3]) } : {}),
    },
  };
}

/**
 * Register `switchboard build`: the app as a CloudFormation template plus one zip per function.
 *
 * @example
 * ```ts
 * const program = new Command("switchboard");
 * registerBuildCommand(program);
 * await program.parseAsync(["node", "switchboard", "build", "examples/chat", "--out", "dist/aws"]);
 * ```
 */
export function registerBuildCommand(program: Command): Command {
  return program
    .command("build")
    .description(
      "Build for AWS: a CloudFormation template (validated) and one deterministic zip per function",
    )
    .argument("[app]", "app folder or config file", existingPath, ".")
    .option("-s, --stage <stage>", "stage (overrides the config)", stageName)
    .option(
      "-o, --out <dir>",
      "output folder (replaced only when the build succeeds)",
      nonEmpty,
      "dist",
    )
    .addOption(
      new Option("--runtime <runtime>", "Lambda runtime")
        .choices(LAMBDA_RUNTIMES)
        .default("nodejs22.x"),
    )
    .addOption(
      new Option("--arch <arch>", "Lambda architecture")
        .choices(LAMBDA_ARCHITECTURES)
        .default("arm64"),
    )
    .option("--log-retention <days>", "log group retention in days", logRetentionDays)
    .option(
      "--throttle-rate <rps>",
      "stage default throttling: steady requests per second",
      positiveNumber,
    )
    .option("--throttle-burst <n>", "stage default throttling: burst", positiveInteger)
    .option(
      "--route-throttle <route=rate:burst>",
      "per-route throttling (repeatable)",
      routeThrottle,
    )
    .option("--domain <name>", "custom domain, e.g. ws.example.com", domainName)
    .option(
      "--certificate-arn <arn>",
      "existing ACM certificate for --domain (else a DNS-validated one is created)",
      certificateArn,
    )
    .option(
      "--hosted-zone-id <id>",
      "Route 53 zone of --domain: validation and alias records are created",
      hostedZoneId,
    )
    .option("--base-path <path>", "API mapping key under --domain")
    .option("--no-sourcemap", "do not ship source maps")
    .action(async (target: string, opts) => {
      const aws: AwsOptions = {
        runtime: opts.runtime as LambdaRuntime,
        architecture: opts.arch as LambdaArchitecture,
        ...(opts.logRetention ? { logRetentionDays: opts.logRetention } : {}),
      };
      if (opts.throttleRate || opts.throttleBurst || opts.routeThrottle) {
        aws.throttling = {
          ...(opts.throttleRate || opts.throttleBurst
            ? {
                default: {
                  ...(opts.throttleRate ? { rateLimit: opts.throttleRate } : {}),
                  ...(opts.throttleBurst ? { burstLimit: Math.round(opts.throttleBurst) } : {}),
                },
              }
            : {}),
          ...(opts.routeThrottle ? { routes: opts.routeThrottle } : {}),
        };
      }
      if (opts.domain) {
        aws.domain = {
          name: opts.domain,
          ...(opts.certificateArn ? { certificateArn: opts.certificateArn } : {}),
          ...(opts.hostedZoneId ? { hostedZoneId: opts.hostedZoneId } : {}),
          ...(opts.basePath ? { basePath: opts.basePath } : {}),
        };
      } else if (opts.certificateArn || opts.hostedZoneId || opts.basePath) {
        process.stderr.write("--certificate-arn, --hosted-zone-id and --base-path need --domain\n");
        process.exitCode = 1;
        return;
      }
      const started = performance.now();
      try {
        const result = await buildAwsApp({
          target,
          outDir: opts.out,
          ...(opts.stage ? { stage: opts.stage } : {}),
          sourcemap: opts.sourcemap,
          ...aws,
        });
        const rel = (file: string) => path.relative(process.cwd(), file) || file;
        printWarnings(result.app);
        const width = Math.max(...result.functions.map((f) => f.zip.length));
        process.stdout.write(
          [
            `built ${result.app.name} (stage ${result.app.stage}) in ${Math.round(performance.now() - started)}ms`,
            `  template  ${rel(result.templateFile)} (${Object.keys(result.template.Resources).length} resources, validated)`,
            `  manifest  ${rel(result.manifestFile)}`,
            ...result.functions.map(
              (f) =>
                `  ${path.join(rel(result.outDir), f.zip).padEnd(width + rel(result.outDir).length + 1)}  ${(f.bytes / 1024).toFixed(1).padStart(7)} KiB  sha256 ${f.sha256.slice(0, 12)}  ${f.kind === "authorizer" ? "authorizer" : f.routes.join(", ")}`,
            ),
            `upload each zip to s3://<bucket>/<its s3Key in the manifest>, then deploy the template with ArtifactBucket=<bucket> (docs/aws.md)`,
            "",
          ].join("\n"),
        );
      } catch (error) {
        reportCommandFailure(error, `build failed; ${opts.out} left as it was`);
      }
    });
}
