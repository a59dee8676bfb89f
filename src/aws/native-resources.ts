// What `switchboard build` adds for the native format's `tables`, `secrets` and `seed`.
import type { App, Secret, TableDeclaration } from "../app/model.js";
import { tableDefinition } from "../app/table-definition.js";
import { type FunctionPlan, tableLogicalId } from "./function-plan.js";

/** A template resource (as `CfnResource` in compile-template.ts, which imports this file). */
interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/** The variable a built function reads its secrets' Secrets Manager ids from (JSON: name → id). */
export const SECRETS_ENV = "SWITCHBOARD_SECRETS";

/** The data-plane actions a function gets on each table it may use (no table management). */
export const TABLE_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:Scan",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:ConditionCheckItem",
] as const;

/** The app's own tables (the native format's): the ones the build creates. */
export function nativeTables(app: App): TableDeclaration[] {
  return (app.tables ?? []).filter((table) => table.env !== undefined);
}

/**
 * The Secrets Manager secret a secret is read from: the ARN the config gives, else the name
 * `<app>/<stage>/<NAME>`.
 *
 * @example
 * ```ts
 * secretId(app, { name: "MONGODB_URI" }); // "chat/prod/MONGODB_URI"
 * ```
 */
export function secretId(app: App, secret: Secret): string {
  return secret.arn ?? `${app.name}/${app.stage}/${secret.name}`;
}

/**
 * The IAM resource for one secret: exactly the given ARN, or the named secret with the six
 * random characters Secrets Manager appends to every secret's ARN (`-??????`).
 */
function secretResource(app: App, secret: Secret): unknown {
  if (secret.arn) return secret.arn;
  const name = secretId(app, secret).replaceAll("${", "${!");
  return {
    "Fn::Sub": `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${name}-??????`,
  };
}

/** `AWS::DynamoDB::Table` properties for a declaration (the name is left to CloudFormation). */
export function tableProperties(table: TableDeclaration): Record<string, unknown> {
  return {
    ...tableDefinition(table),
    ...(table.ttlAttribute
      ? { TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true } }
      : {}),
    ...(table.stream ? { StreamSpecification: { StreamViewType: table.stream } } : {}),
  };
}

/** The tables as resources: kept when the stack is deleted or the table replaced (they hold data). */
export function tableResources(app: App): Record<string, CfnResource> {
  return Object.fromEntries(
    nativeTables(app).map((table) => [
      tableLogicalId(table.declaredAs),
      {
        Type: "AWS::DynamoDB::Table",
        DeletionPolicy: "Retain",
        UpdateReplacePolicy: "Retain",
        Properties: tableProperties(table),
      },
    ]),
  );
}

/** A function's IAM statements for its tables (each by ARN, with its indexes) and its secrets. */
export function functionStatements(app: App, fn: FunctionPlan): unknown[] {
  const statements: unknown[] = [];
  const tables = fn.tables ?? [];
  if (tables.length > 0) {
    statements.push({
      Sid: "Tables",
      Effect: "Allow",
      Action: [...TABLE_ACTIONS],
      Resource: tables.flatMap((name) => {
        const id = tableLogicalId(name);
        return [{ "Fn::GetAtt": [id, "Arn"] }, { "Fn::Sub": `\${${id}.Arn}/index/*` }];
      }),
    });
  }
  const secrets = fn.secrets ?? [];
  if (secrets.length > 0) {
    statements.push({
      Sid: "Secrets",
      Effect: "Allow",
      Action: "secretsmanager:GetSecretValue",
      Resource: secrets.map((secret) => secretResource(app, secret)),
    });
  }
  return statements;
}

/**
 * A function's variables for tables and secrets: `TABLE_*` (a `Ref` to each table it may use;
 * the dev names the loader put in the app's environment are removed) and `SWITCHBOARD_SECRETS`
 * (names and Secrets Manager ids, never values).
 */
export function functionVariables(
  app: App,
  fn: FunctionPlan,
  variables: Record<string, unknown>,
): void {
  for (const table of nativeTables(app)) delete variables[table.env as string];
  for (const name of fn.tables ?? []) {
    const table = nativeTables(app).find((t) => t.declaredAs === name);
    if (table) variables[table.env as string] = { Ref: tableLogicalId(name) };
  }
  const secrets = fn.secrets ?? [];
  if (secrets.length > 0) {
    variables[SECRETS_ENV] = JSON.stringify(
      Object.fromEntries(secrets.map((secret) => [secret.name, secretId(app, secret)])),
    );
  }
}

/**
 * The seed as a CloudFormation custom resource: created after the tables (it refers to them)
 * and the seed function, run again whenever its code (the content-addressed artifact key), the
 * stage or a table changes. Its failure fails the deployment with the seed's message.
 */
export function seedResource(app: App): CfnResource {
  return {
    Type: "Custom::SwitchboardSeed",
    Properties: {
      ServiceToken: { "Fn::GetAtt": ["SeedFunction", "Arn"] },
      Stage: app.stage,
      Tables: Object.fromEntries(
        nativeTables(app).map((t) => [t.declaredAs, { Ref: tableLogicalId(t.declaredAs) }]),
      ),
      Code: { Ref: "SeedArtifactKey" },
    },
  };
}
