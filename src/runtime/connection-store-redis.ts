import {
  type ConnectionRecord,
  type ConnectionStore,
  type ConnectionStoreOptions,
  NotAnIndexError,
} from "./connection-store.js";

/**
 * The commands the Redis store uses: satisfied by an `ioredis` client (`new Redis(url)`), which
 * the caller creates, owns and closes. Typed structurally so this module imports no Redis
 * library: handler bundles that never use it do not carry one.
 */
export interface RedisCommands {
  get(key: string): Promise<string | null>;
  mget(...keys: string[]): Promise<Array<string | null>>;
  smembers(key: string): Promise<string[]>;
  srem(key: string, ...members: string[]): Promise<number>;
  multi(): RedisTransaction;
}

/** The part of an `ioredis` MULTI transaction the store uses. */
export interface RedisTransaction {
  set(key: string, value: string, px: "PX", ms: number): RedisTransaction;
  set(key: string, value: string): RedisTransaction;
  del(key: string): RedisTransaction;
  sadd(key: string, member: string): RedisTransaction;
  srem(key: string, member: string): RedisTransaction;
  exec(): Promise<unknown>;
}

export interface RedisConnectionStoreOptions extends ConnectionStoreOptions {
  /** An `ioredis` client (or anything with the same commands). */
  redis: RedisCommands;
  /**
   * Prefix of every key of this table; one table per prefix. Default `switchboard:{connections}:`.
   * On a Redis Cluster it must carry a hash tag (`{...}`): the table's keys then share a slot.
   */
  keyPrefix?: string;
}

/**
 * The connection table in Redis, for gateways that run on several nodes (or any process that
 * must share it). Same contract as the in-memory and DynamoDB stores (one shared test suite):
 *
 * - a row is a JSON string at `<prefix>row:<connectionId>`, expiring in Redis when its
 *   `expiresAt` passes (reads also hide expired rows by the store's clock, as DynamoDB does
 *   before its TTL sweeper runs);
 * - `<prefix>all` is the set of ids, `<prefix>idx:<field>:<JSON value>` one set per indexed
 *   value; ids of rows that expired are pruned from them when a read finds the row gone.
 */
export class RedisConnectionStore implements ConnectionStore {
  readonly #redis: RedisCommands;
  readonly #prefix: string;
  readonly #ttlSeconds: number;
  readonly #indexes: readonly string[];
  readonly #now: () => number;

  constructor(options: RedisConnectionStoreOptions) {
    this.#redis = options.redis;
    this.#prefix = options.keyPrefix ?? "switchboard:{connections}:";
    // A row, `all` and the index sets change in one MULTI and are read with one MGET: on a
    // Redis Cluster these keys must share a slot, which only a hash tag in the prefix gives.
    if (
      (options.redis as { isCluster?: unknown }).isCluster === true &&
      !hasHashTag(this.#prefix)
    ) {
      throw new Error(
        `RedisConnectionStore: the key prefix ${JSON.stringify(this.#prefix)} has no hash tag; on a Redis Cluster use one such as "app:{table}:" so the table's keys share a slot`,
      );
    }
    this.#ttlSeconds = options.ttlSeconds;
    this.#indexes = options.indexes;
    this.#now = options.now ?? Date.now;
  }

  async put(record: ConnectionRecord): Promise<void> {
    const row: ConnectionRecord = { ...record };
    if (row.expiresAt === undefined && this.#ttlSeconds > 0) {
      row.expiresAt = Math.floor(this.#now() / 1000) + this.#ttlSeconds;
    }
    const previous = await this.#read(row.connectionId);
    const tx = this.#redis.multi();
    if (previous) this.#unindex(tx, previous);
    const key = this.#rowKey(row.connectionId);
    if (row.expiresAt === undefined) {
      tx.set(key, JSON.stringify(row));
    } else {
      // Redis expires the key after the same span the store's clock gives the row.
      tx.set(key, JSON.stringify(row), "PX", Math.max(1, row.expiresAt * 1000 - this.#now()));
    }
    tx.sadd(this.#allKey(), row.connectionId);
    for (const field of this.#indexes) {
      if (row[field] !== undefined) tx.sadd(this.#indexKey(field, row[field]), row.connectionId);
    }
    await tx.exec();
  }

  async get(connectionId: string): Promise<ConnectionRecord | undefined> {
    const row = await this.#read(connectionId);
    return row && this.#live(row) ? row : undefined;
  }

  async delete(connectionId: string): Promise<void> {
    const previous = await this.#read(connectionId);
    const tx = this.#redis.multi();
    if (previous) this.#unindex(tx, previous);
    tx.del(this.#rowKey(connectionId));
    tx.srem(this.#allKey(), connectionId);
    await tx.exec();
  }

  async query(field: string, value: unknown): Promise<ConnectionRecord[]> {
    if (!this.#indexes.includes(field)) throw new NotAnIndexError(field, this.#indexes);
    const rows = await this.#members(this.#indexKey(field, value));
    // A row replaced meanwhile may still be listed under its old value: trust the row.
    return rows.filter((row) => sameValue(row[field], value));
  }

  list(): Promise<ConnectionRecord[]> {
    return this.#members(this.#allKey());
  }

  /** The live rows of the ids in a set; ids whose row is gone are pruned from it. */
  async #members(setKey: string): Promise<ConnectionRecord[]> {
    const ids = await this.#redis.smembers(setKey);
    if (ids.length === 0) return [];
    const texts = await this.#redis.mget(...ids.map((id) => this.#rowKey(id)));
    const rows: ConnectionRecord[] = [];
    const gone: string[] = [];
    texts.forEach((text, i) => {
      if (text === null) {
        gone.push(ids[i] as string);
        return;
      }
      const row = JSON.parse(text) as ConnectionRecord;
      if (this.#live(row)) rows.push(row);
    });
    if (gone.length > 0) await this.#redis.srem(setKey, ...gone);
    return rows;
  }

  async #read(connectionId: string): Promise<ConnectionRecord | undefined> {
    const text = await this.#redis.get(this.#rowKey(connectionId));
    return text === null ? undefined : (JSON.parse(text) as ConnectionRecord);
  }

  #live(row: ConnectionRecord): boolean {
    return row.expiresAt === undefined || row.expiresAt * 1000 > this.#now();
  }

  #unindex(tx: RedisTransaction, row: ConnectionRecord): void {
    for (const field of this.#indexes) {
      if (row[field] !== undefined) tx.srem(this.#indexKey(field, row[field]), row.connectionId);
    }
  }

  #rowKey(connectionId: string): string {
    return `${this.#prefix}row:${connectionId}`;
  }

  #allKey(): string {
    return `${this.#prefix}all`;
  }

  #indexKey(field: string, value: unknown): string {
    return `${this.#prefix}idx:${field}:${JSON.stringify(value)}`;
  }
}

/**
 * Whether a key prefix carries a Redis Cluster hash tag (`{...}`, not empty): keys that share it
 * share a slot, which multi-key commands, transactions and scripts need on a Redis Cluster.
 */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf("{");
  const close = open === -1 ? -1 : prefix.indexOf("}", open + 1);
  return close > open + 1;
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
