import { createHash } from "node:crypto";
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
} from "@aws-sdk/client-cloudformation";
import { HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type BuildResult, buildAwsApp } from "../../src/aws/build.js";
import { DeployError, deployAwsApp } from "../../src/aws/deploy.js";
import { CHAT_EXAMPLE, repoScratchDir } from "../helpers/repo-paths.js";

// No AWS account is reachable from the tests: every SDK call below goes to aws-sdk-client-mock,
// which replaces `send` of the real CloudFormation and S3 clients.
const TMP = repoScratchDir("deploy");
const BUCKET = "artifacts-bucket";

const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
let built: BuildResult;

beforeAll(async () => {
  await mkdir(TMP, { recursive: true });
  built = await buildAwsApp({ target: CHAT_EXAMPLE, outDir: path.join(TMP, "dist") });
});
afterAll(async () => {
  cfn.restore();
  s3.restore();
  await rm(TMP, { recursive: true, force: true });
});
beforeEach(() => {
  cfn.reset();
  s3.reset();
});

const notFound = () =>
  Object.assign(new Error("NotFound"), { name: "NotFound", $metadata: { httpStatusCode: 404 } });
const noStack = (name: string) =>
  Object.assign(new Error(`Stack with id ${name} does not exist`), { name: "ValidationError" });
const OUTPUTS = [
  {
    OutputKey: "WebSocketUrl",
    OutputValue: "wss://abc123.execute-api.eu-west-1.amazonaws.com/dev",
  },
  {
    OutputKey: "ManagementEndpoint",
    OutputValue: "https://abc123.execute-api.eu-west-1.amazonaws.com/dev",
  },
];
const deploy = (extra: Partial<Parameters<typeof deployAwsApp>[0]> = {}) =>
  deployAwsApp({
    target: built.outDir,
    bucket: BUCKET,
    region: "eu-west-1",
    pollIntervalMs: 1,
    ...extra,
  });

describe("switchboard deploy (mocked AWS SDK)", () => {
  it("creates a new stack (mocked AWS SDK): uploads only missing zips, CREATE change set, executes, returns outputs", async () => {
    const [present, ...missing] = built.functions;
    s3.on(HeadObjectCommand).rejects(notFound());
    s3.on(HeadObjectCommand, { Bucket: BUCKET, Key: present?.s3Key }).resolves({
      ContentLength: present?.bytes,
    });
    s3.on(PutObjectCommand).resolves({});
    cfn
      .on(DescribeStacksCommand)
      .rejectsOnce(noStack("chat-dev"))
      .resolvesOnce({
        Stacks: [
          { StackName: "chat-dev", StackStatus: "CREATE_IN_PROGRESS", CreationTime: new Date() },
        ],
      })
      .resolves({
        Stacks: [
          {
            StackName: "chat-dev",
            StackStatus: "CREATE_COMPLETE",
            CreationTime: new Date(),
            Outputs: OUTPUTS,
          },
        ],
      });
    cfn.on(CreateChangeSetCommand).resolves({ Id: "arn:cs/1", StackId: "arn:stack/chat-dev" });
    cfn
      .on(DescribeChangeSetCommand)
      .resolvesOnce({ Status: "CREATE_PENDING" })
      .resolves({ Status: "CREATE_COMPLETE", Changes: [{}, {}] });
    cfn.on(ExecuteChangeSetCommand).resolves({});
    const lines: string[] = [];

    const result = await deploy({ log: (line) => lines.push(line) });

    expect(result).toEqual({
      stackName: "chat-dev",
      action: "create",
      uploaded: missing.map((f) => f.s3Key),
      skipped: [present?.s3Key],
      outputs: {
        WebSocketUrl: "wss://abc123.execute-api.eu-west-1.amazonaws.com/dev",
        ManagementEndpoint: "https://abc123.execute-api.eu-west-1.amazonaws.com/dev",
      },
    });
    const puts = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(puts.map((p) => p.Key)).toEqual(missing.map((f) => f.s3Key));
    for (const [index, put] of puts.entries()) {
      const fn = missing[index];
      expect(put.Bucket).toBe(BUCKET);
      expect(
        createHash("sha256")
          .update(put.Body as Buffer)
          .digest("hex"),
      ).toBe(fn?.sha256);
    }
    const [create] = cfn.commandCalls(CreateChangeSetCommand).map((call) => call.args[0].input);
    expect(create).toMatchObject({
      StackName: "chat-dev",
      ChangeSetType: "CREATE",
      Capabilities: ["CAPABILITY_IAM"],
      TemplateBody: await readFile(built.templateFile, "utf8"),
    });
    expect(create?.Parameters).toEqual([
      { ParameterKey: "ArtifactBucket", ParameterValue: BUCKET },
      ...built.functions.map((f) => ({
        ParameterKey: `${f.name}ArtifactKey`,
        ParameterValue: f.s3Key,
      })),
    ]);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)[0]?.args[0].input).toEqual({
      ChangeSetName: "arn:cs/1",
      StackName: "chat-dev",
    });
    expect(lines.at(-1)).toBe("chat-dev: CREATE_COMPLETE");
  });

  it("updates an existing stack (mocked AWS SDK): UPDATE change set, nothing uploaded when every key is there", async () => {
    s3.on(HeadObjectCommand).resolves({});
    cfn
      .on(DescribeStacksCommand)
      .resolvesOnce({
        Stacks: [
          { StackName: "chat-prod", StackStatus: "UPDATE_COMPLETE", CreationTime: new Date() },
        ],
      })
      .resolvesOnce({
        Stacks: [
          { StackName: "chat-prod", StackStatus: "UPDATE_IN_PROGRESS", CreationTime: new Date() },
        ],
      })
      .resolves({
        Stacks: [
          {
            StackName: "chat-prod",
            StackStatus: "UPDATE_COMPLETE",
            CreationTime: new Date(),
            Outputs: OUTPUTS,
          },
        ],
      });
    cfn.on(CreateChangeSetCommand).resolves({ Id: "arn:cs/2" });
    cfn.on(DescribeChangeSetCommand).resolves({ Status: "CREATE_COMPLETE" });
    cfn.on(ExecuteChangeSetCommand).resolves({});

    const result = await deploy({ stackName: "chat-prod" });

    expect(result.action).toBe("update");
    expect(result.uploaded).toEqual([]);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(cfn.commandCalls(CreateChangeSetCommand)[0]?.args[0].input.ChangeSetType).toBe("UPDATE");
  });

  it("handles a change set without changes (mocked AWS SDK): deletes it, executes nothing, still returns outputs", async () => {
    s3.on(HeadObjectCommand).resolves({});
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: "chat-dev",
          StackStatus: "UPDATE_COMPLETE",
          CreationTime: new Date(),
          Outputs: OUTPUTS,
        },
      ],
    });
    cfn.on(CreateChangeSetCommand).resolves({ Id: "arn:cs/3" });
    cfn.on(DescribeChangeSetCommand).resolves({
      Status: "FAILED",
      StatusReason:
        "The submitted information didn't contain changes. Submit different information to create a change set.",
    });
    cfn.on(DeleteChangeSetCommand).resolves({});

    const result = await deploy();

    expect(result.action).toBe("none");
    expect(result.outputs.WebSocketUrl).toMatch(/^wss:/);
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it("reports a rollback with the failed resources (mocked AWS SDK)", async () => {
    s3.on(HeadObjectCommand).resolves({});
    cfn
      .on(DescribeStacksCommand)
      .resolvesOnce({
        Stacks: [
          { StackName: "chat-dev", StackStatus: "UPDATE_COMPLETE", CreationTime: new Date() },
        ],
      })
      .resolvesOnce({
        Stacks: [
          {
            StackName: "chat-dev",
            StackStatus: "UPDATE_ROLLBACK_IN_PROGRESS",
            CreationTime: new Date(),
          },
        ],
      })
      .resolves({
        Stacks: [
          {
            StackName: "chat-dev",
            StackStatus: "UPDATE_ROLLBACK_COMPLETE",
            CreationTime: new Date(),
          },
        ],
      });
    cfn.on(CreateChangeSetCommand).resolves({ Id: "arn:cs/4" });
    cfn.on(DescribeChangeSetCommand).resolves({ Status: "CREATE_COMPLETE" });
    cfn.on(ExecuteChangeSetCommand).resolves({});
    cfn.on(DescribeStackEventsCommand).resolves({
      StackEvents: [
        {
          StackId: "arn:stack/chat-dev",
          StackName: "chat-dev",
          EventId: "2",
          Timestamp: new Date(Date.now() + 5000),
          LogicalResourceId: "chat-dev",
          ResourceType: "AWS::CloudFormation::Stack",
          ResourceStatus: "UPDATE_ROLLBACK_IN_PROGRESS",
        },
        {
          StackId: "arn:stack/chat-dev",
          StackName: "chat-dev",
          EventId: "1",
          Timestamp: new Date(Date.now() + 4000),
          LogicalResourceId: "SendFunction",
          ResourceType: "AWS::Lambda::Function",
          ResourceStatus: "UPDATE_FAILED",
          ResourceStatusReason: "Access denied for S3 key",
        },
        {
          StackId: "arn:stack/chat-dev",
          StackName: "chat-dev",
          EventId: "0",
          Timestamp: new Date(0),
          LogicalResourceId: "Old",
          ResourceType: "AWS::Lambda::Function",
          ResourceStatus: "CREATE_FAILED",
          ResourceStatusReason: "long ago",
        },
      ],
    });

    const error = await deploy().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DeployError);
    expect((error as DeployError).code).toBe("SB_ERR_DEPLOY");
    expect((error as DeployError).reasons).toEqual([
      "SendFunction (AWS::Lambda::Function): UPDATE_FAILED: Access denied for S3 key",
    ]);
    expect((error as Error).message).toMatch(
      /^stack chat-dev ended UPDATE_ROLLBACK_COMPLETE\n {2}SendFunction/,
    );
  });

  it("refuses a stack whose creation failed, and a bucket it cannot read (mocked AWS SDK)", async () => {
    s3.on(HeadObjectCommand).resolves({});
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        { StackName: "chat-dev", StackStatus: "ROLLBACK_COMPLETE", CreationTime: new Date() },
      ],
    });
    await expect(deploy()).rejects.toThrow(/ROLLBACK_COMPLETE .*delete it/);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);

    s3.on(HeadObjectCommand).rejects(
      Object.assign(new Error("Forbidden"), { name: "403", $metadata: { httpStatusCode: 403 } }),
    );
    await expect(deploy()).rejects.toThrow(/cannot read s3:\/\/artifacts-bucket\/.*Forbidden/);
  });

  it("builds the app first when given its folder (mocked AWS SDK)", async () => {
    s3.on(HeadObjectCommand).resolves({});
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: "chat-qa", StackStatus: "UPDATE_COMPLETE", CreationTime: new Date() }],
    });
    cfn.on(CreateChangeSetCommand).resolves({ Id: "arn:cs/5" });
    cfn
      .on(DescribeChangeSetCommand)
      .resolves({ Status: "FAILED", StatusReason: "No updates are to be performed." });
    cfn.on(DeleteChangeSetCommand).resolves({});
    const out = path.join(TMP, "from-source");
    const result = await deploy({ target: CHAT_EXAMPLE, outDir: out, stage: "qa" });
    expect(result.stackName).toBe("chat-qa");
    expect(JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")).stage).toBe("qa");
  });
});
