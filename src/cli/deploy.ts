import { type Command, Option } from "commander";
import {
  LAMBDA_ARCHITECTURES,
  LAMBDA_RUNTIMES,
  type LambdaArchitecture,
  type LambdaRuntime,
} from "../aws/aws-options.js";
import { accessProblem, deployAwsApp } from "../aws/deploy.js";
import { reportCommandFailure } from "./command-failure.js";
import {
  awsRegion,
  bucketName,
  existingPath,
  nonEmpty,
  stackName,
  stageName,
} from "./option-values.js";

/**
 * Register `switchboard deploy`: build (or take a build output folder), upload the zips,
 * create or update the CloudFormation stack through a change set, print its outputs.
 *
 * @example
 * ```ts
 * const program = new Command("switchboard");
 * registerDeployCommand(program);
 * await program.parseAsync(["node", "switchboard", "deploy", "examples/chat", "--bucket", "my-artifacts"]);
 * ```
 */
export function registerDeployCommand(program: Command): Command {
  return program
    .command("deploy")
    .description(
      "Deploy to AWS: build, upload the zips to --bucket, create or update the stack (change set), print its outputs",
    )
    .argument(
      "[app]",
      "app folder or config file, or a `switchboard build` output folder",
      existingPath,
      ".",
    )
    .requiredOption(
      "-b, --bucket <name>",
      "S3 bucket for the function zips (same region as the stack)",
      bucketName,
    )
    .option("-s, --stage <stage>", "stage (overrides the config)", stageName)
    .option("--stack-name <name>", "CloudFormation stack (default <app>-<stage>)", stackName)
    .option("--region <region>", "AWS region (default: AWS_REGION / the profile's)", awsRegion)
    .option("-o, --out <dir>", "build output folder", nonEmpty, "dist")
    .addOption(new Option("--runtime <runtime>", "Lambda runtime").choices(LAMBDA_RUNTIMES))
    .addOption(new Option("--arch <arch>", "Lambda architecture").choices(LAMBDA_ARCHITECTURES))
    .action(async (target: string, opts) => {
      try {
        const result = await deployAwsApp({
          target,
          bucket: opts.bucket,
          outDir: opts.out,
          ...(opts.stage ? { stage: opts.stage } : {}),
          ...(opts.stackName ? { stackName: opts.stackName } : {}),
          ...(opts.region ? { region: opts.region } : {}),
          ...(opts.runtime ? { runtime: opts.runtime as LambdaRuntime } : {}),
          ...(opts.arch ? { architecture: opts.arch as LambdaArchitecture } : {}),
          log: (line) => process.stdout.write(`${line}\n`),
        });
        const width = Math.max(0, ...Object.keys(result.outputs).map((k) => k.length));
        process.stdout.write(
          [
            `${result.stackName}: ${result.action === "none" ? "no changes" : `${result.action}d`} (${result.uploaded.length} uploaded, ${result.skipped.length} unchanged)`,
            ...Object.entries(result.outputs).map(
              ([key, value]) => `  ${key.padEnd(width)}  ${value}`,
            ),
            "",
          ].join("\n"),
        );
      } catch (error) {
        reportCommandFailure(accessProblem(error) ?? error, "deploy failed");
      }
    });
}
