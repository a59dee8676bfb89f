import type { KeyAttributeConfig, TableConfig } from "./config.js";
import { tableEnvName } from "./feature-rules.js";
import type { TableAttributeType, TableDeclaration } from "./model.js";

const TYPES: Record<string, TableAttributeType> = { string: "S", number: "N", binary: "B" };

function key(attribute: KeyAttributeConfig): { name: string; type: TableAttributeType } {
  return typeof attribute === "string"
    ? { name: attribute, type: "S" }
    : { name: attribute.name, type: TYPES[attribute.type] ?? "S" };
}

/**
 * The native config's `tables` as the App declares them: physical name `<app>-<stage>-<name>`
 * (what the local DynamoDB creates; the build lets CloudFormation name them), string keys unless
 * typed, global indexes, TTL, stream, and the `TABLE_*` variable handlers read the name from.
 *
 * @example
 * ```ts
 * nativeTables("chat", "dev", { messages: { partitionKey: "room", sortKey: { name: "at", type: "number" } } });
 * // [{ name: "chat-dev-messages", declaredAs: "messages", env: "TABLE_MESSAGES", key: { hash: "room", range: "at" }, ... }]
 * ```
 */
export function nativeTables(
  app: string,
  stage: string,
  tables: Record<string, TableConfig>,
): TableDeclaration[] {
  return Object.entries(tables).map(([name, table]) => {
    const attributes: Record<string, TableAttributeType> = {};
    const use = (attribute: KeyAttributeConfig | undefined) => {
      if (attribute === undefined) return undefined;
      const { name: attr, type } = key(attribute);
      attributes[attr] = type;
      return attr;
    };
    const hash = use(table.partitionKey) as string;
    const range = use(table.sortKey);
    const globalIndexes = Object.entries(table.indexes ?? {}).map(([indexName, index]) => {
      const indexHash = use(index.partitionKey) as string;
      const indexRange = use(index.sortKey);
      const projection = index.projection ?? "all";
      return {
        name: indexName,
        key: { hash: indexHash, ...(indexRange ? { range: indexRange } : {}) },
        projection:
          projection === "all"
            ? { type: "ALL" as const }
            : projection === "keys"
              ? { type: "KEYS_ONLY" as const }
              : { type: "INCLUDE" as const, nonKeyAttributes: [...projection] },
      };
    });
    const stream = table.stream === true ? "NEW_AND_OLD_IMAGES" : table.stream || undefined;
    return {
      name: `${app}-${stage}-${name}`,
      declaredAs: name,
      env: tableEnvName(name),
      attributes,
      key: { hash, ...(range ? { range } : {}) },
      ...(globalIndexes.length > 0 ? { globalIndexes } : {}),
      ...(table.ttl ? { ttlAttribute: table.ttl } : {}),
      ...(stream ? { stream } : {}),
    };
  });
}
