import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type {
  CloudFormationClient,
  Parameter,
  Stack,
  StackEvent,
} from "@aws-sdk/client-cloudformation";
import type { S3Client } from "@aws-sdk/client-s3";
import { isSwitchboardBuild } from "../app/loaders/switchboard-build.js";
import { SwitchboardError } from "../errors.js";
import { type BuildOptions, type BuiltFunction, buildAwsApp } from "./build.js";

/** CloudFormation takes a template of up to 51,200 bytes inline; larger ones go through S3. */
const INLINE_TEMPLATE_BYTES = 51_200;

export interface DeployOptions extends Omit<BuildOptions, "target"> {
  /**
   * App folder or config file (built into `outDir` first), or the output folder of an earlier
   * `switchboard build` (deployed as it is).
   */
  target: string;
  /** S3 bucket for the function zips (and a template too large to send inline); same region. */
  bucket: string;
  /** Default `<app>-<stage>`. */
  stackName?: string;
  /** Default: the SDK's (AWS_REGION, the profile's region). */
  region?: string;
  /** Clients to use (tests, custom credentials); default: new ones for `region`. */
  clients?: { cloudFormation?: CloudFormationClient; s3?: S3Client };
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Between two polls of a change set or the stack. Default 5000 ms. */
  pollIntervalMs?: number;
  /** Give up waiting for the stack after this long. Default 1 hour. */
  timeoutMs?: number;
}

export interface DeployResult {
  stackName: string;
  /** What ran: a new stack, an update, or nothing (the change set held no changes). */
  action: "create" | "update" | "none";
  /** Keys uploaded, and those already in the bucket (content-addressed: same key, same bytes). */
  uploaded: string[];
  skipped: string[];
  /** The stack's outputs: WebSocketUrl, ManagementEndpoint, WebSocketApiId, ConnectionTableName, ... */
  outputs: Record<string, string>;
}

/** A deployment that CloudFormation refused or rolled back; `reasons` are the failed events. */
export class DeployError extends SwitchboardError {
  readonly reasons: string[];
  constructor(message: string, reasons: string[] = []) {
    super(
      "SB_ERR_DEPLOY",
      reasons.length > 0 ? `${message}\n${reasons.map((r) => `  ${r}`).join("\n")}` : message,
    );
    this.name = "DeployError";
    this.reasons = reasons;
  }
}

interface Manifest {
  app: string;
  stage: string;
  template: string;
  functions: BuiltFunction[];
}

/**
 * `switchboard deploy`: build the app (or take an earlier build output), upload the function
 * zips to `bucket` (keys are content-addressed, so a zip already there is skipped after a
 * `HeadObject`), then create a CloudFormation change set — `CREATE` for a new stack, `UPDATE`
 * for an existing one — wait for it, execute it and wait for the stack to settle. A change set
 * without changes is deleted and reported as `action: "none"`. Returns the stack's outputs.
 *
 * @example
 * ```ts
 * const result = await deployAwsApp({ target: "examples/chat", bucket: "my-artifacts", region: "eu-west-1" });
 * result.outputs.WebSocketUrl; // "wss://abc123.execute-api.eu-west-1.amazonaws.com/dev"
 * ```
 */
export async function deployAwsApp(options: DeployOptions): Promise<DeployResult> {
  const log = options.log ?? (() => undefined);
  const clients = await createClients(options);
  const outDir = isSwitchboardBuild(path.resolve(options.target))
    ? path.resolve(options.target)
    : (await buildAwsApp({ ...options, target: options.target })).outDir;
  const manifest = JSON.parse(
    await readFile(path.join(outDir, "manifest.json"), "utf8"),
  ) as Manifest;
  const templateText = await readFile(path.join(outDir, manifest.template), "utf8");
  const stackName = options.stackName ?? `${manifest.app}-${manifest.stage}`;
  const poll = options.pollIntervalMs ?? 5000;
  const deadline = Date.now() + (options.timeoutMs ?? 60 * 60 * 1000);

  // 1. Artifacts.
  const { HeadObjectCommand, PutObjectCommand } = await import("@aws-sdk/client-s3");
  const uploaded: string[] = [];
  const skipped: string[] = [];
  for (const fn of manifest.functions) {
    if (await objectExists(clients.s3, HeadObjectCommand, options.bucket, fn.s3Key)) {
      skipped.push(fn.s3Key);
      log(`unchanged  s3://${options.bucket}/${fn.s3Key}`);
      continue;
    }
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: options.bucket,
        Key: fn.s3Key,
        Body: await readFile(path.join(outDir, fn.zip)),
        ContentType: "application/zip",
        ChecksumAlgorithm: "SHA256",
      }),
    );
    uploaded.push(fn.s3Key);
    log(`uploaded   s3://${options.bucket}/${fn.s3Key}`);
  }

  // 2. The template: inline, or through the bucket when too large.
  const cfn = await import("@aws-sdk/client-cloudformation");
  let templateSource: { TemplateBody: string } | { TemplateURL: string };
  if (Buffer.byteLength(templateText) <= INLINE_TEMPLATE_BYTES) {
    templateSource = { TemplateBody: templateText };
  } else {
    const key = `${stackName}/template-${createHash("sha256").update(templateText).digest("hex")}.json`;
    if (!(await objectExists(clients.s3, HeadObjectCommand, options.bucket, key))) {
      await clients.s3.send(
        new PutObjectCommand({
          Bucket: options.bucket,
          Key: key,
          Body: templateText,
          ContentType: "application/json",
        }),
      );
    }
    const region = await clients.s3.config.region();
    templateSource = {
      TemplateURL: `https://${options.bucket}.s3.${region}.amazonaws.com/${key}`,
    };
  }

  // 3. Change set: CREATE or UPDATE.
  const existing = await describeStack(clients.cloudFormation, cfn, stackName);
  const status = existing?.StackStatus ?? "";
  if (status.endsWith("_IN_PROGRESS") && status !== "REVIEW_IN_PROGRESS") {
    throw new DeployError(`stack ${stackName} is busy (${status}); try again when it settles`);
  }
  if (status === "ROLLBACK_COMPLETE" || status === "ROLLBACK_FAILED") {
    throw new DeployError(
      `stack ${stackName} is ${status} (its creation failed): delete it (aws cloudformation delete-stack --stack-name ${stackName}) and deploy again`,
    );
  }
  // REVIEW_IN_PROGRESS: a CREATE change set was made but never executed; the stack has no resources.
  const changeSetType = existing && status !== "REVIEW_IN_PROGRESS" ? "UPDATE" : "CREATE";
  const parameters: Parameter[] = [
    { ParameterKey: "ArtifactBucket", ParameterValue: options.bucket },
    ...manifest.functions.map((fn) => ({
      ParameterKey: `${fn.name}ArtifactKey`,
      ParameterValue: fn.s3Key,
    })),
  ];
  const changeSetName = `switchboard-${new Date()
    .toISOString()
    .replace(/[^0-9]/g, "")
    .slice(0, 14)}`;
  const started = new Date();
  const created = await clients.cloudFormation.send(
    new cfn.CreateChangeSetCommand({
      StackName: stackName,
      ChangeSetName: changeSetName,
      ChangeSetType: changeSetType,
      ...templateSource,
      Parameters: parameters,
      Capabilities: ["CAPABILITY_IAM"],
      Description: `switchboard deploy ${manifest.app} (stage ${manifest.stage})`,
    }),
  );
  const changeSetId = created.Id ?? changeSetName;
  log(`change set ${changeSetName} (${changeSetType}) for stack ${stackName}`);

  // 4. Wait for it; a change set without changes is not an error.
  for (;;) {
    const described = await clients.cloudFormation.send(
      new cfn.DescribeChangeSetCommand({ ChangeSetName: changeSetId, StackName: stackName }),
    );
    if (described.Status === "CREATE_COMPLETE") {
      log(`${described.Changes?.length ?? 0} change(s)`);
      break;
    }
    if (described.Status === "FAILED") {
      const reason = described.StatusReason ?? "";
      if (/didn't contain changes|No updates are to be performed/i.test(reason)) {
        try {
          await clients.cloudFormation.send(
            new cfn.DeleteChangeSetCommand({ ChangeSetName: changeSetId, StackName: stackName }),
          );
        } catch {
          // Only tidying up: an empty change set left behind does no harm.
        }
        log("no changes");
        const stack = await describeStack(clients.cloudFormation, cfn, stackName);
        return { stackName, action: "none", uploaded, skipped, outputs: outputsOf(stack) };
      }
      throw new DeployError(`change set ${changeSetName} failed: ${reason || "no reason given"}`);
    }
    if (Date.now() > deadline) throw new DeployError(`change set ${changeSetName} still not ready`);
    await sleep(poll);
  }

  // 5. Execute and wait for the stack to settle.
  await clients.cloudFormation.send(
    new cfn.ExecuteChangeSetCommand({ ChangeSetName: changeSetId, StackName: stackName }),
  );
  log(`executing ${changeSetName}`);
  const success = changeSetType === "CREATE" ? "CREATE_COMPLETE" : "UPDATE_COMPLETE";
  for (;;) {
    const stack = await describeStack(clients.cloudFormation, cfn, stackName);
    const now = stack?.StackStatus ?? "DELETE_COMPLETE";
    if (now === success) {
      log(`${stackName}: ${now}`);
      return {
        stackName,
        action: changeSetType === "CREATE" ? "create" : "update",
        uploaded,
        skipped,
        outputs: outputsOf(stack),
      };
    }
    if (!now.endsWith("_IN_PROGRESS")) {
      const reasons = await failureReasons(clients.cloudFormation, cfn, stackName, started);
      throw new DeployError(`stack ${stackName} ended ${now}`, reasons);
    }
    if (Date.now() > deadline) throw new DeployError(`stack ${stackName} still ${now}`);
    await sleep(poll);
  }
}

type CfnModule = typeof import("@aws-sdk/client-cloudformation");

async function createClients(
  options: DeployOptions,
): Promise<{ cloudFormation: CloudFormationClient; s3: S3Client }> {
  const region = options.region ? { region: options.region } : {};
  const cloudFormation =
    options.clients?.cloudFormation ??
    new (await import("@aws-sdk/client-cloudformation")).CloudFormationClient(region);
  const s3 = options.clients?.s3 ?? new (await import("@aws-sdk/client-s3")).S3Client(region);
  return { cloudFormation, s3 };
}

async function objectExists(
  s3: S3Client,
  HeadObjectCommand: typeof import("@aws-sdk/client-s3").HeadObjectCommand,
  bucket: string,
  key: string,
): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === "NotFound" || e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404) {
      return false;
    }
    throw (
      accessProblem(error) ??
      new DeployError(
        `cannot read s3://${bucket}/${key}: ${(error as Error).message ?? e.name} (does the bucket exist in this region, and may you s3:GetObject/s3:ListBucket on it?)`,
      )
    );
  }
}

const CREDENTIALS_HELP =
  "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), or AWS_PROFILE for a profile in ~/.aws/credentials or ~/.aws/config (`aws configure`, `aws sso login --profile <name>`), or run where an IAM role provides them";

/**
 * A failure that is about who is calling rather than what is deployed (no credentials, expired
 * or unknown keys, no region), said as such with how to fix it; undefined for any other error.
 */
export function accessProblem(error: unknown): DeployError | undefined {
  const e = error as { name?: string; Code?: string; message?: string };
  const name = e?.name ?? e?.Code ?? "";
  const message = e?.message ?? "";
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message)) {
    return new DeployError(`no AWS credentials found: ${CREDENTIALS_HELP}`);
  }
  if (/^(ExpiredToken|ExpiredTokenException|TokenRefreshRequired)$/.test(name)) {
    return new DeployError(
      `the AWS credentials have expired (${name}): renew them (e.g. \`aws sso login\`) or ${CREDENTIALS_HELP}`,
    );
  }
  if (
    /^(InvalidClientTokenId|UnrecognizedClientException|InvalidAccessKeyId|SignatureDoesNotMatch)$/.test(
      name,
    )
  ) {
    return new DeployError(
      `AWS does not accept these credentials (${name}): check the access key and secret, or ${CREDENTIALS_HELP}`,
    );
  }
  if (/Region is missing|Region not accepted/i.test(message)) {
    return new DeployError(
      "no AWS region: pass --region (e.g. --region eu-west-1), or set AWS_REGION, or a region in the AWS profile",
    );
  }
  return undefined;
}

/** The stack, or undefined when there is none of that name. */
async function describeStack(
  client: CloudFormationClient,
  cfn: CfnModule,
  stackName: string,
): Promise<Stack | undefined> {
  try {
    const out = await client.send(new cfn.DescribeStacksCommand({ StackName: stackName }));
    return out.Stacks?.[0];
  } catch (error) {
    if (/does not exist/.test((error as Error).message ?? "")) return undefined;
    throw error;
  }
}

function outputsOf(stack: Stack | undefined): Record<string, string> {
  return Object.fromEntries(
    (stack?.Outputs ?? [])
      .filter((o) => o.OutputKey !== undefined)
      .map((o) => [o.OutputKey as string, o.OutputValue ?? ""]),
  );
}

/** `Resource (Type): STATUS: reason` for each failed event of this deployment, oldest first. */
async function failureReasons(
  client: CloudFormationClient,
  cfn: CfnModule,
  stackName: string,
  since: Date,
): Promise<string[]> {
  try {
    const out = await client.send(new cfn.DescribeStackEventsCommand({ StackName: stackName }));
    return (out.StackEvents ?? [])
      .filter(
        (e: StackEvent) =>
          (e.ResourceStatus ?? "").endsWith("_FAILED") &&
          (!e.Timestamp || e.Timestamp.getTime() >= since.getTime() - 1000),
      )
      .reverse()
      .map(
        (e) =>
          `${e.LogicalResourceId} (${e.ResourceType}): ${e.ResourceStatus}: ${e.ResourceStatusReason ?? ""}`,
      );
  } catch {
    return [];
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
