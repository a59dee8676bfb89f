import type { DynamoDBClient, DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient, QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import {
  type ConnectionRecord,
  type ConnectionStore,
  type ConnectionStoreOptions,
  NotAnIndexError,
} from "./connection-store.js";

export interface DynamoDbConnectionStoreOptions extends ConnectionStoreOptions {
  tableName: string;
  /** A client to use (tests point one at dynalite); else one is made from `clientConfig`. */
  client?: DynamoDBClient;
  clientConfig?: DynamoDBClientConfig;
}

type DocumentLib = typeof import("@aws-sdk/lib-dynamodb");
/** Where a Query or Scan page begins: the last page's `LastEvaluatedKey`, none for the first. */
type PageStart = Record<string, unknown> | undefined;

/** Environment variables a built function gets (see docs/aws.md). */
const TABLE_ENV = "SWITCHBOARD_CONNECTION_TABLE";
const TTL_ENV = "SWITCHBOARD_CONNECTION_TTL";
const INDEXES_ENV = "SWITCHBOARD_CONNECTION_INDEXES";

/**
 * The connection table on AWS: DynamoDB, partition key `connectionId`, TTL attribute
 * `expiresAt` (epoch seconds), one global secondary index `<field>-index` per indexed field.
 * Indexed fields are string keys: other values are stored and queried as their string form.
 * DynamoDB deletes expired rows up to days late, so reads skip rows whose `expiresAt` has passed.
 * The SDK is imported on first use: the dev gateway never loads it.
 *
 * @example
 * ```ts
 * const store = new DynamoDbConnectionStore({ tableName: "chat-connections", ttlSeconds: 7200, indexes: ["room"] });
 * await store.put({ connectionId, room: "lobby" });
 * await store.query("room", "lobby");
 * ```
 */
export class DynamoDbConnectionStore implements ConnectionStore {
  readonly tableName: string;
  readonly #ttlSeconds: number;
  readonly #indexes: readonly string[];
  readonly #now: () => number;
  readonly #options: DynamoDbConnectionStoreOptions;
  #client: Promise<{ doc: DynamoDBDocumentClient; lib: DocumentLib }> | undefined;

  constructor(options: DynamoDbConnectionStoreOptions) {
    this.tableName = options.tableName;
    this.#ttlSeconds = options.ttlSeconds;
    this.#indexes = [...options.indexes];
    this.#now = options.now ?? Date.now;
    this.#options = options;
  }

  /**
   * The store a built Lambda function uses: from `SWITCHBOARD_CONNECTION_TABLE`,
   * `SWITCHBOARD_CONNECTION_TTL` and `SWITCHBOARD_CONNECTION_INDEXES`; undefined without a table.
   *
   * @example
   * ```ts
   * const store = DynamoDbConnectionStore.fromEnvironment() ?? new MemoryConnectionStore({ ttlSeconds: 0, indexes: [] });
   * ```
   */
  static fromEnvironment(
    env: NodeJS.ProcessEnv = process.env,
  ): DynamoDbConnectionStore | undefined {
    const tableName = env[TABLE_ENV];
    if (!tableName) return undefined;
    const ttl = Number(env[TTL_ENV] ?? 0);
    return new DynamoDbConnectionStore({
      tableName,
      ttlSeconds: Number.isFinite(ttl) && ttl > 0 ? ttl : 0,
      indexes: (env[INDEXES_ENV] ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    });
  }

  async put(record: ConnectionRecord): Promise<void> {
    const item: ConnectionRecord = { ...record };
    if (item.expiresAt === undefined && this.#ttlSeconds > 0) {
      item.expiresAt = Math.floor(this.#now() / 1000) + this.#ttlSeconds;
    }
    for (const field of this.#indexes) {
      const value = item[field];
      if (value !== undefined && value !== null && typeof value !== "string")
        item[field] = String(value);
      if (value === null || value === "") delete item[field]; // GSI keys cannot be null or empty
    }
    const { doc, lib } = await this.#connect();
    await doc.send(new lib.PutCommand({ TableName: this.tableName, Item: item }));
  }

  async get(connectionId: string): Promise<ConnectionRecord | undefined> {
    const { doc, lib } = await this.#connect();
    const out = await doc.send(
      new lib.GetCommand({
        TableName: this.tableName,
        Key: { connectionId },
        ConsistentRead: true,
      }),
    );
    const item = out.Item as ConnectionRecord | undefined;
    return item && this.#live(item) ? item : undefined;
  }

  async delete(connectionId: string): Promise<void> {
    const { doc, lib } = await this.#connect();
    await doc.send(new lib.DeleteCommand({ TableName: this.tableName, Key: { connectionId } }));
  }

  async query(field: string, value: unknown): Promise<ConnectionRecord[]> {
    if (!this.#indexes.includes(field)) throw new NotAnIndexError(field, this.#indexes);
    return this.#liveRows(
      (lib, start) =>
        new lib.QueryCommand({
          TableName: this.tableName,
          IndexName: `${field}-index`,
          KeyConditionExpression: "#field = :value",
          ...this.#liveFilter({ "#field": field }, { ":value": String(value) }, start),
        }),
    );
  }

  async list(): Promise<ConnectionRecord[]> {
    return this.#liveRows(
      (lib, start) =>
        new lib.ScanCommand({ TableName: this.tableName, ...this.#liveFilter({}, {}, start) }),
    );
  }

  /** Every live row a Query or Scan finds, page after page (`start` is where a page begins). */
  async #liveRows(
    page: (lib: DocumentLib, start: PageStart) => QueryCommand | ScanCommand,
  ): Promise<ConnectionRecord[]> {
    const { doc, lib } = await this.#connect();
    const out: ConnectionRecord[] = [];
    let start: PageStart;
    do {
      const result = await doc.send(page(lib, start));
      for (const item of (result.Items ?? []) as ConnectionRecord[])
        if (this.#live(item)) out.push(item);
      start = result.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /**
   * Server-side: skip rows TTL has not deleted yet (read capacity is still spent on them).
   * `names` and `values` are the command's own expression attributes; `start` its page.
   */
  #liveFilter(names: Record<string, string>, values: Record<string, unknown>, start: PageStart) {
    return {
      FilterExpression: "attribute_not_exists(#expiresAt) OR #expiresAt > :now",
      ExpressionAttributeNames: { ...names, "#expiresAt": "expiresAt" },
      ExpressionAttributeValues: { ...values, ":now": this.#nowSeconds() },
      ...(start ? { ExclusiveStartKey: start } : {}),
    };
  }

  #nowSeconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  #live(item: ConnectionRecord): boolean {
    return typeof item.expiresAt !== "number" || item.expiresAt * 1000 > this.#now();
  }

  #connect() {
    this.#client ??= (async () => {
      const [lib, { DynamoDBClient }] = await Promise.all([
        import("@aws-sdk/lib-dynamodb"),
        import("@aws-sdk/client-dynamodb"),
      ]);
      const client = this.#options.client ?? new DynamoDBClient(this.#options.clientConfig ?? {});
      const doc = lib.DynamoDBDocumentClient.from(client, {
        marshallOptions: { removeUndefinedValues: true },
      });
      return { doc, lib };
    })();
    return this.#client;
  }
}
