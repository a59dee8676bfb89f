import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/** An item: attribute name → value (as the DocumentClient marshals it). */
export type TableItem = Record<string, unknown>;

/** A condition on the sort key of a {@link TableClient.query}. */
export interface SortKeyCondition {
  name: string;
  eq?: unknown;
  lt?: unknown;
  lte?: unknown;
  gt?: unknown;
  gte?: unknown;
  between?: [unknown, unknown];
  beginsWith?: string;
}

export interface QueryOptions {
  /** A global index of the table (its partition key is then the one to give). */
  index?: string;
  sortKey?: SortKeyCondition;
  /** At most this many items (all pages are read up to it). Default: every match. */
  limit?: number;
  /** Highest sort key first. */
  descending?: boolean;
}

/**
 * One declared table, through the DynamoDB DocumentClient: plain JavaScript values in and out.
 * Its name comes from `TABLE_<NAME>`, so the same code runs in dev (the local DynamoDB) and on
 * AWS (the table the build created).
 */
export interface TableClient {
  /** The physical table name. */
  readonly name: string;
  /** GetItem (strongly consistent) by the full key; undefined when absent. */
  get<T extends object = TableItem>(key: TableItem): Promise<T | undefined>;
  /** PutItem (replaces an item with the same key). */
  put(item: TableItem): Promise<void>;
  /** DeleteItem by the full key (no error when absent). */
  delete(key: TableItem): Promise<void>;
  /** Query by partition key value (`{ room: "lobby" }`), optionally on an index and sort key. */
  query<T extends object = TableItem>(partition: TableItem, options?: QueryOptions): Promise<T[]>;
}

/**
 * `ctx.tables`: a {@link TableClient} per declared table, by its name in the config. Name
 * your tables for typed access (with `noUncheckedIndexedAccess`, others are `| undefined`):
 *
 * @example
 * ```ts
 * declare module "switchboard/runtime" {
 *   interface Tables { notes: TableClient }
 * }
 * ```
 */
export interface Tables {
  readonly [name: string]: TableClient;
}

type Connected = { doc: DynamoDBDocumentClient; lib: typeof import("@aws-sdk/lib-dynamodb") };
/** One client per endpoint (dev points the SDK at its local DynamoDB through the environment). */
const clients = new Map<string, Promise<Connected>>();

function connect(): Promise<Connected> {
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB ?? "";
  let client = clients.get(endpoint);
  if (!client) {
    client = (async () => {
      const [lib, { DynamoDBClient: Client }] = await Promise.all([
        import("@aws-sdk/lib-dynamodb"),
        import("@aws-sdk/client-dynamodb"),
      ]);
      const base: DynamoDBClient = new Client({});
      const doc = lib.DynamoDBDocumentClient.from(base, {
        marshallOptions: { removeUndefinedValues: true },
      });
      return { doc, lib };
    })();
    // Bounded: one entry per distinct endpoint a process has seen (in practice one or two).
    if (clients.size >= 8) clients.clear();
    clients.set(endpoint, client);
  }
  return client;
}

/**
 * The environment variable a table's physical name is given in: `TABLE_` and the name
 * upper-cased, each character other than a letter or digit written `_`.
 *
 * @example
 * ```ts
 * tableEnvName("chat-rooms"); // "TABLE_CHAT_ROOMS"
 * ```
 */
export function tableEnvName(name: string): string {
  return `TABLE_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/**
 * A client for the table declared as `name`, its physical name read from `TABLE_<NAME>`.
 * Throws when the variable is unset (the table is not declared, or not granted to this route).
 *
 * @example
 * ```ts
 * const notes = tableClient("notes");
 * await notes.put({ room: "lobby", id: "1", text: "hi" });
 * await notes.query({ room: "lobby" }, { sortKey: { name: "id", beginsWith: "1" } });
 * ```
 */
export function tableClient(name: string, env: NodeJS.ProcessEnv = process.env): TableClient {
  const variable = tableEnvName(name);
  const tableName = env[variable];
  if (!tableName) {
    throw new Error(
      `no table ${JSON.stringify(name)}: ${variable} is not set (declare it under tables, and list it in the route's tables if the route has a list)`,
    );
  }
  return {
    name: tableName,
    async get(key) {
      const { doc, lib } = await connect();
      const out = await doc.send(
        new lib.GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
      );
      return out.Item as never;
    },
    async put(item) {
      const { doc, lib } = await connect();
      await doc.send(new lib.PutCommand({ TableName: tableName, Item: item }));
    },
    async delete(key) {
      const { doc, lib } = await connect();
      await doc.send(new lib.DeleteCommand({ TableName: tableName, Key: key }));
    },
    async query(partition, options = {}) {
      const entries = Object.entries(partition);
      const [first] = entries;
      if (entries.length !== 1 || !first) {
        throw new TypeError("query takes the partition key as one attribute: { <key>: value }");
      }
      const names: Record<string, string> = { "#pk": first[0] };
      const values: Record<string, unknown> = { ":pk": first[1] };
      let condition = "#pk = :pk";
      const sort = options.sortKey;
      if (sort) {
        names["#sk"] = sort.name;
        const compare = (op: string, value: unknown) => {
          values[":sk"] = value;
          condition += ` AND #sk ${op} :sk`;
        };
        if (sort.beginsWith !== undefined) {
          values[":sk"] = sort.beginsWith;
          condition += " AND begins_with(#sk, :sk)";
        } else if (sort.between) {
          values[":lo"] = sort.between[0];
          values[":hi"] = sort.between[1];
          condition += " AND #sk BETWEEN :lo AND :hi";
        } else if (sort.eq !== undefined) compare("=", sort.eq);
        else if (sort.lt !== undefined) compare("<", sort.lt);
        else if (sort.lte !== undefined) compare("<=", sort.lte);
        else if (sort.gt !== undefined) compare(">", sort.gt);
        else if (sort.gte !== undefined) compare(">=", sort.gte);
      }
      const { doc, lib } = await connect();
      const items: TableItem[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await doc.send(
          new lib.QueryCommand({
            TableName: tableName,
            ...(options.index ? { IndexName: options.index } : {}),
            KeyConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ScanIndexForward: !options.descending,
            ...(options.limit !== undefined ? { Limit: options.limit - items.length } : {}),
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        items.push(...((out.Items ?? []) as TableItem[]));
        start = out.LastEvaluatedKey;
      } while (start && (options.limit === undefined || items.length < options.limit));
      return items as never;
    },
  };
}

/**
 * `ctx.tables`: `ctx.tables.notes` is {@link tableClient}`("notes")`, made on first use.
 *
 * @example
 * ```ts
 * const row = await ctx.tables.notes.get({ room: "lobby", id: "1" });
 * ```
 */
export function tablesFromEnvironment(env: NodeJS.ProcessEnv = process.env): Tables {
  const made = new Map<string, TableClient>();
  return new Proxy({} as Tables, {
    get(_target, property) {
      if (typeof property !== "string") return undefined;
      let client = made.get(property);
      if (!client) {
        client = tableClient(property, env);
        made.set(property, client);
      }
      return client;
    },
  });
}
