import { describeValue } from "../describe-value.js";
import type { DocumentPath } from "../issue-location.js";
import type { TableAttributeType, TableDeclaration, TableIndex, TableKey } from "../model.js";
import { isRecord } from "./app-draft.js";
import type { SourceIssues } from "./source-issues.js";

const TABLE = "AWS::DynamoDB::Table";
const GLOBAL_TABLE = "AWS::DynamoDB::GlobalTable";
const SIMPLE_TABLE = "AWS::Serverless::SimpleTable";
const SIMPLE_TYPES: Record<string, TableAttributeType> = { String: "S", Number: "N", Binary: "B" };

/** How a loader reads a resource's properties, intrinsics (and its own variables) resolved. */
export interface ResourceReader {
  value(id: string, property: string): unknown;
  string(id: string, property: string): string | undefined;
}

/**
 * The DynamoDB tables of a CloudFormation `Resources` object (`AWS::DynamoDB::Table`,
 * `AWS::DynamoDB::GlobalTable`, `AWS::Serverless::SimpleTable`), named as the deployed stack
 * would name them (`TableName`, else `<stack>-<logical id>`). Shapes the local DynamoDB could
 * not create are reported to `issues`.
 *
 * @example
 * ```ts
 * const tables = cloudFormationTables(template.Resources, reader, "chat", ["Resources"], issues);
 * ```
 */
export function cloudFormationTables(
  resources: Record<string, unknown>,
  read: ResourceReader,
  stackName: string,
  resourcesAt: DocumentPath,
  issues: SourceIssues,
): TableDeclaration[] {
  const tables: TableDeclaration[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    if (!isRecord(resource)) continue;
    const at: DocumentPath = [...resourcesAt, id, "Properties"];
    const name = read.string(id, "TableName") ?? `${stackName}-${id}`;
    if (resource.Type === SIMPLE_TABLE) {
      const primary = read.value(id, "PrimaryKey");
      const keyName = isRecord(primary) && typeof primary.Name === "string" ? primary.Name : "id";
      const type =
        isRecord(primary) && typeof primary.Type === "string" ? SIMPLE_TYPES[primary.Type] : "S";
      if (!type) {
        issues.add(
          [...at, "PrimaryKey", "Type"],
          "String, Number or Binary",
          describeValue((primary as Record<string, unknown>).Type),
        );
        continue;
      }
      tables.push({
        name,
        declaredAs: id,
        attributes: { [keyName]: type },
        key: { hash: keyName },
      });
      continue;
    }
    if (resource.Type !== TABLE && resource.Type !== GLOBAL_TABLE) continue;
    const table = new TableShape(at, issues);
    const attributes = table.attributes(read.value(id, "AttributeDefinitions"));
    const key = table.key(read.value(id, "KeySchema"), ["KeySchema"]);
    if (!key || !attributes) continue;
    const declaration: TableDeclaration = { name, declaredAs: id, attributes, key };
    const global = table.indexes(
      read.value(id, "GlobalSecondaryIndexes"),
      "GlobalSecondaryIndexes",
    );
    const local = table.indexes(read.value(id, "LocalSecondaryIndexes"), "LocalSecondaryIndexes");
    if (global?.length) declaration.globalIndexes = global;
    if (local?.length) declaration.localIndexes = local;
    const ttl = read.value(id, "TimeToLiveSpecification");
    if (
      isRecord(ttl) &&
      ttl.Enabled !== false &&
      ttl.Enabled !== "false" &&
      typeof ttl.AttributeName === "string"
    ) {
      declaration.ttlAttribute = ttl.AttributeName;
    }
    tables.push(declaration);
  }
  return tables;
}

/** Reads the DynamoDB-API-shaped properties of one table, reporting what does not fit. */
class TableShape {
  readonly #at: DocumentPath;
  readonly #issues: SourceIssues;

  constructor(at: DocumentPath, issues: SourceIssues) {
    this.#at = at;
    this.#issues = issues;
  }

  attributes(value: unknown): Record<string, TableAttributeType> | undefined {
    const at = [...this.#at, "AttributeDefinitions"];
    if (!Array.isArray(value)) {
      this.#issues.add(at, "a list of { AttributeName, AttributeType }", describeValue(value));
      return undefined;
    }
    const out: Record<string, TableAttributeType> = {};
    value.forEach((item, index) => {
      const type = isRecord(item) ? item.AttributeType : undefined;
      if (
        !isRecord(item) ||
        typeof item.AttributeName !== "string" ||
        (type !== "S" && type !== "N" && type !== "B")
      ) {
        this.#issues.add(
          [...at, index],
          "{ AttributeName, AttributeType: S | N | B }",
          describeValue(item),
        );
        return;
      }
      out[item.AttributeName] = type;
    });
    return out;
  }

  key(value: unknown, path: DocumentPath): TableKey | undefined {
    const at = [...this.#at, ...path];
    const items = Array.isArray(value) ? value.filter(isRecord) : [];
    const hash = items.find((item) => item.KeyType === "HASH")?.AttributeName;
    const range = items.find((item) => item.KeyType === "RANGE")?.AttributeName;
    if (typeof hash !== "string") {
      this.#issues.add(
        at,
        "a KeySchema with a HASH key ({ AttributeName, KeyType: HASH })",
        describeValue(value),
      );
      return undefined;
    }
    return typeof range === "string" ? { hash, range } : { hash };
  }

  indexes(value: unknown, property: string): TableIndex[] | undefined {
    if (value === undefined) return undefined;
    const at = [...this.#at, property];
    if (!Array.isArray(value)) {
      this.#issues.add(at, "a list of indexes", describeValue(value));
      return undefined;
    }
    const out: TableIndex[] = [];
    value.forEach((item, index) => {
      if (!isRecord(item) || typeof item.IndexName !== "string") {
        this.#issues.add([...at, index], "an index with an IndexName", describeValue(item));
        return;
      }
      const key = this.key(item.KeySchema, [property, index, "KeySchema"]);
      if (!key) return;
      const projection = isRecord(item.Projection) ? item.Projection : {};
      const type = projection.ProjectionType;
      out.push({
        name: item.IndexName,
        key,
        projection: {
          type: type === "KEYS_ONLY" || type === "INCLUDE" ? type : "ALL",
          ...(Array.isArray(projection.NonKeyAttributes)
            ? { nonKeyAttributes: projection.NonKeyAttributes.map(String) }
            : {}),
        },
      });
    });
    return out;
  }
}
