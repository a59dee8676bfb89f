import path from "node:path";
import { fileURLToPath } from "node:url";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AttributeType, Table } from "aws-cdk-lib/aws-dynamodb";
import { Code, Function as LambdaFunction, Runtime } from "aws-cdk-lib/aws-lambda";
import { afterAll, describe, expect, it } from "vitest";
import { SwitchboardWebSocket } from "../../src/aws/cdk.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const OUT = path.join(
  ROOT,
  "test",
  ".tmp",
  `cdk-secrets-${process.pid}-${Date.now().toString(36)}`,
);
afterAll(async () => {
  const { rm } = await import("node:fs/promises");
  await rm(OUT, { recursive: true, force: true });
});

describe("SwitchboardWebSocket secrets and tables (CDK construct, synthesized)", () => {
  it("grants GetSecretValue on exactly the secrets, read/write on the tables, and sets the variables", () => {
    const stack = new Stack(new App({ outdir: OUT }), "NotesStack", {
      env: { account: "123456789012", region: "eu-west-1" },
    });
    const handler = new LambdaFunction(stack, "AllFn", {
      runtime: Runtime.NODEJS_22_X,
      handler: "index.handler",
      code: Code.fromInline("exports.handler = async () => ({ statusCode: 200 });"),
    });
    const notes = new Table(stack, "Notes", {
      partitionKey: { name: "room", type: AttributeType.STRING },
    });
    new SwitchboardWebSocket(stack, "Ws", {
      name: "notes",
      stage: "prod",
      handler,
      secrets: [
        "NOTES_TOKEN",
        { name: "API_KEY", arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:api-AbCdEf" },
      ],
      tables: { "chat-notes": notes },
    });
    const template = Template.fromStack(stack);
    const json = JSON.stringify(template.toJSON());
    expect(json).toContain(":secret:notes/prod/NOTES_TOKEN-??????");
    const policies = template.findResources("AWS::IAM::Policy");
    const statements = Object.values(policies).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } })
          .Properties.PolicyDocument.Statement,
    );
    const secrets = statements.find((s) => s.Action === "secretsmanager:GetSecretValue");
    expect(secrets?.Resource as unknown[]).toHaveLength(2);
    expect(secrets?.Resource).toContainEqual(
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:api-AbCdEf",
    );
    expect(
      statements.some((s) => Array.isArray(s.Action) && s.Action.includes("dynamodb:PutItem")),
    ).toBe(true);
    const variables = (
      Object.values(template.findResources("AWS::Lambda::Function"))[0] as {
        Properties: { Environment: { Variables: Record<string, unknown> } };
      }
    ).Properties.Environment.Variables;
    expect(variables.TABLE_CHAT_NOTES).toEqual({ Ref: expect.stringMatching(/^Notes/) });
    expect(variables.SWITCHBOARD_SECRETS).toBe(
      '{"NOTES_TOKEN":"notes/prod/NOTES_TOKEN","API_KEY":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:api-AbCdEf"}',
    );
  });
});
