import { mkdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildResult, buildAwsApp } from "../../src/aws/build.js";
import { seedEntry } from "../../src/aws/seed-entry.js";
import { checkTemplate } from "../../src/aws/validate-template.js";
import { resetSecrets, resolveSecrets } from "../../src/runtime/secret-values.js";
import { REPO_ROOT, repoScratchDir } from "../helpers/repo-paths.js";

const EXAMPLE = path.join(REPO_ROOT, "examples", "notes");
const TMP = repoScratchDir("native-build");

type Resources = Record<
  string,
  // biome-ignore lint/suspicious/noExplicitAny: template properties are read as JSON
  { Type: string; Properties: Record<string, any>; [k: string]: unknown }
>;

let dev: BuildResult;
let prod: BuildResult;
beforeAll(async () => {
  await mkdir(TMP, { recursive: true });
  [dev, prod] = await Promise.all([
    buildAwsApp({ target: EXAMPLE, outDir: path.join(TMP, "dev") }),
    buildAwsApp({ target: EXAMPLE, outDir: path.join(TMP, "prod"), stage: "prod" }),
  ]);
});
afterAll(() => rm(TMP, { recursive: true, force: true }));

const resources = (build: BuildResult) => build.template.Resources as Resources;
const policy = (build: BuildResult, fn: string) =>
  resources(build)[`${fn}FunctionRole`]?.Properties.Policies[0].PolicyDocument.Statement as Array<{
    Sid: string;
    Action: unknown;
    Resource: unknown;
  }>;
const variables = (build: BuildResult, fn: string) =>
  resources(build)[`${fn}Function`]?.Properties.Environment.Variables as Record<string, unknown>;

describe("switchboard build of examples/notes (handler, secrets, seed, tables, stages)", () => {
  it("validates against the CloudFormation spec", () => {
    expect(checkTemplate(dev.template)).toEqual([]);
    expect(checkTemplate(prod.template)).toEqual([]);
  });

  it("compiles the declared table with its keys, index, TTL and stream (kept on delete)", () => {
    const table = resources(dev).NotesTable;
    expect(table).toMatchObject({
      Type: "AWS::DynamoDB::Table",
      DeletionPolicy: "Retain",
      Properties: {
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [
          { AttributeName: "room", KeyType: "HASH" },
          { AttributeName: "id", KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: "byAuthor",
            KeySchema: [
              { AttributeName: "author", KeyType: "HASH" },
              { AttributeName: "id", KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "ALL" },
          },
        ],
        TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
        StreamSpecification: { StreamViewType: "NEW_AND_OLD_IMAGES" },
      },
    });
    expect(table?.Properties.TableName).toBeUndefined();
  });

  it("grants each function exactly the tables its routes list, with TABLE_* as a Ref", () => {
    // One handler for every route: functions differ only by what their routes may use.
    const fns = dev.functions.map((f) => [f.name, f.routes]);
    expect(fns).toEqual([
      ["Connect", ["$connect", "$disconnect", "$default"]],
      ["List", ["list", "listSdk", "add"]],
      ["Seed", []],
    ]);
    const tables = policy(dev, "List").find((s) => s.Sid === "Tables");
    expect(tables?.Resource).toEqual([
      { "Fn::GetAtt": ["NotesTable", "Arn"] },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an Fn::Sub variable
      { "Fn::Sub": "${NotesTable.Arn}/index/*" },
    ]);
    expect(tables?.Action).not.toContain("dynamodb:DeleteTable");
    expect(variables(dev, "List").TABLE_NOTES).toEqual({ Ref: "NotesTable" });
    expect(policy(dev, "Connect").find((s) => s.Sid === "Tables")).toBeUndefined();
    expect(variables(dev, "Connect").TABLE_NOTES).toBeUndefined();
  });

  it("grants GetSecretValue on exactly <app>/<stage>/<NAME>, and never writes a value", async () => {
    for (const fn of ["Connect", "List", "Seed"]) {
      expect(policy(dev, fn).find((s) => s.Sid === "Secrets")).toEqual({
        Sid: "Secrets",
        Effect: "Allow",
        Action: "secretsmanager:GetSecretValue",
        Resource: [
          {
            "Fn::Sub":
              // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub variables
              "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:notes/dev/NOTES_TOKEN-??????",
          },
        ],
      });
      expect(variables(dev, fn).SWITCHBOARD_SECRETS).toBe(
        '{"NOTES_TOKEN":"notes/dev/NOTES_TOKEN"}',
      );
    }
    expect(policy(prod, "List").find((s) => s.Sid === "Secrets")?.Resource).toEqual([
      {
        "Fn::Sub":
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub variables
          "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:notes/prod/NOTES_TOKEN-??????",
      },
    ]);
    // The dev value (examples/notes/.env) is in neither the template nor any bundle.
    const secret = "let-me-in";
    expect(JSON.stringify(dev.template)).not.toContain(secret);
    for (const fn of dev.functions) {
      const files = unzipSync(await readFile(path.join(dev.outDir, fn.zip)));
      for (const content of Object.values(files)) {
        expect(Buffer.from(content).toString("utf8")).not.toContain(secret);
      }
    }
  });

  it("runs the seed as a custom resource after the tables, re-run when its code changes", () => {
    expect(resources(dev).SeedResource).toEqual({
      Type: "Custom::SwitchboardSeed",
      Properties: {
        ServiceToken: { "Fn::GetAtt": ["SeedFunction", "Arn"] },
        Stage: "dev",
        Tables: { notes: { Ref: "NotesTable" } },
        Code: { Ref: "SeedArtifactKey" },
      },
    });
    expect(policy(dev, "Seed").map((s) => s.Sid)).toEqual(["Logs", "Tables", "Secrets"]);
    expect(policy(dev, "Seed").find((s) => s.Sid === "ManageConnections")).toBeUndefined();
  });

  it("applies the stage's overrides (prod: timeout, environment, add's memory)", () => {
    const integration = resources(prod).ListIntegration;
    expect(integration?.Properties.TimeoutInMillis).toBe(10_000);
    expect(variables(prod, "Connect").LOG_LEVEL).toBe("warn");
    expect(variables(dev, "Connect").LOG_LEVEL).toBeUndefined();
    expect(prod.functions.map((f) => [f.name, f.routes])).toEqual([
      ["Connect", ["$connect", "$disconnect", "$default"]],
      ["List", ["list", "listSdk"]],
      ["Add", ["add"]],
      ["Seed", []],
    ]);
    expect(resources(prod).AddFunction?.Properties.MemorySize).toBe(2048);
    expect(resources(prod).SeedResource?.Properties.Stage).toBe("prod");
  });
});

describe("a built function's secrets and seed, against a mock of the Secrets Manager API and CloudFormation's response URL", () => {
  it("resolves secrets once per container (mock of Secrets Manager GetSecretValue), names the failing one", async () => {
    resetSecrets();
    const calls: string[] = [];
    const env: NodeJS.ProcessEnv = {
      SWITCHBOARD_SECRETS:
        '{"A":"app/dev/A","B":"arn:aws:secretsmanager:us-east-1:1:secret:b-AbCdEf"}',
    };
    const get = async (id: string) => {
      calls.push(id);
      return { SecretString: `value of ${id}` };
    };
    await Promise.all([resolveSecrets(env, get), resolveSecrets(env, get)]);
    await resolveSecrets(env, get);
    expect(env.A).toBe("value of app/dev/A");
    expect(env.B).toBe("value of arn:aws:secretsmanager:us-east-1:1:secret:b-AbCdEf");
    expect(calls.sort()).toEqual([
      "app/dev/A",
      "arn:aws:secretsmanager:us-east-1:1:secret:b-AbCdEf",
    ]);

    resetSecrets();
    const failing = resolveSecrets({ SWITCHBOARD_SECRETS: '{"C":"app/dev/C"}' }, async () => {
      throw Object.assign(new Error("denied"), { name: "AccessDeniedException" });
    });
    await expect(failing).rejects.toThrow(
      "secret C: GetSecretValue app/dev/C failed: AccessDeniedException: denied",
    );
    resetSecrets();
  });

  it("answers CloudFormation SUCCESS, FAILED with the seed's error, and SUCCESS on Delete without running", async () => {
    const answers: Array<Record<string, unknown>> = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        answers.push({ method: req.method, ...JSON.parse(body) });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`;
    const event = (RequestType: "Create" | "Update" | "Delete") => ({
      RequestType,
      ResponseURL: url,
      StackId: "arn:aws:cloudformation:us-east-1:1:stack/notes/x",
      RequestId: "r1",
      LogicalResourceId: "SeedResource",
      ResourceProperties: { Stage: "prod", Tables: { notes: "notes-NotesTable-1" } },
    });
    try {
      const seen: unknown[] = [];
      await seedEntry({ handler: (input: unknown) => seen.push(input), export: "seed" })(
        event("Create"),
      );
      expect(seen).toEqual([{ stage: "prod", tables: { notes: "notes-NotesTable-1" } }]);
      await seedEntry({
        handler: async () => {
          throw new Error("table missing");
        },
        export: "seed",
      })(event("Update"));
      await seedEntry({ handler: () => seen.push("ran"), export: "seed" })(event("Delete"));
      expect(seen).toHaveLength(1);
      expect(answers).toEqual([
        expect.objectContaining({
          method: "PUT",
          Status: "SUCCESS",
          LogicalResourceId: "SeedResource",
          RequestId: "r1",
        }),
        expect.objectContaining({ Status: "FAILED", Reason: "seed seed failed: table missing" }),
        expect.objectContaining({ Status: "SUCCESS" }),
      ]);
    } finally {
      server.close();
    }
  });
});
