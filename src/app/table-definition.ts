import type { TableDeclaration, TableIndex } from "./model.js";

/**
 * A table's keys, attributes and indexes as DynamoDB's CreateTable and CloudFormation's
 * `AWS::DynamoDB::Table` both spell them (on-demand billing; no name, TTL or stream): the local
 * DynamoDB of `switchboard dev` and `switchboard build` create the same table.
 *
 * @example
 * ```ts
 * tableDefinition(table).KeySchema; // [{ AttributeName: "room", KeyType: "HASH" }, ...]
 * ```
 */
export function tableDefinition(table: TableDeclaration) {
  const keySchema = (key: TableDeclaration["key"]) => [
    { AttributeName: key.hash, KeyType: "HASH" as const },
    ...(key.range ? [{ AttributeName: key.range, KeyType: "RANGE" as const }] : []),
  ];
  const index = (i: TableIndex) => ({
    IndexName: i.name,
    KeySchema: keySchema(i.key),
    Projection: {
      ProjectionType: i.projection.type,
      ...(i.projection.nonKeyAttributes ? { NonKeyAttributes: i.projection.nonKeyAttributes } : {}),
    },
  });
  // DynamoDB wants exactly the attributes some key uses.
  const used = new Set([
    table.key.hash,
    table.key.range,
    ...(table.globalIndexes ?? []).flatMap((i) => [i.key.hash, i.key.range]),
    ...(table.localIndexes ?? []).flatMap((i) => [i.key.hash, i.key.range]),
  ]);
  return {
    BillingMode: "PAY_PER_REQUEST" as const,
    AttributeDefinitions: Object.entries(table.attributes)
      .filter(([name]) => used.has(name))
      .map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: keySchema(table.key),
    ...(table.globalIndexes?.length
      ? { GlobalSecondaryIndexes: table.globalIndexes.map(index) }
      : {}),
    ...(table.localIndexes?.length ? { LocalSecondaryIndexes: table.localIndexes.map(index) } : {}),
  };
}
