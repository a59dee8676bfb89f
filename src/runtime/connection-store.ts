import { SwitchboardError } from "../errors.js";

/** A row of the connection table. `expiresAt` is epoch seconds, as DynamoDB TTL. */
export interface ConnectionRecord {
  connectionId: string;
  expiresAt?: number;
  [field: string]: unknown;
}

/**
 * The fields an app keeps on its connection rows, declared once for every handler by
 * augmenting this interface (empty by default: rows are {@link ConnectionRecord}s):
 *
 * ```ts
 * declare module "switchboard/runtime" {
 *   interface ConnectionRow { user: string; room: string }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the app (declaration merging)
export interface ConnectionRow {}

/** The row type handlers see by default: a record with the app's declared {@link ConnectionRow} fields. */
export type DeclaredRow = ConnectionRecord & ConnectionRow;

/**
 * The connection table handlers keep (Jaypie's connection table, Nimbus's connection stores).
 * In memory under `switchboard dev`; Redis and DynamoDB implement the same interface. `Row`
 * types the rows (the stores keep whatever is put; the type is the handler's promise).
 */
export interface ConnectionStore<Row extends ConnectionRecord = ConnectionRecord> {
  /** Insert or replace; sets `expiresAt` from the table's TTL when the record has none. */
  put(record: Row): Promise<void>;
  get(connectionId: string): Promise<Row | undefined>;
  delete(connectionId: string): Promise<void>;
  /** Records whose indexed `field` equals `value`. The field must be declared in `connections.indexes`. */
  query<F extends keyof Row & string>(field: F, value: Row[F]): Promise<Row[]>;
  /** Every live record (a scan: fine locally, costly on DynamoDB). */
  list(): Promise<Row[]>;
}

export interface ConnectionStoreOptions {
  /** Seconds a record lives after `put` (0 = no expiry). */
  ttlSeconds: number;
  /** Fields that `query` may use. */
  indexes: readonly string[];
  /** Clock in ms, for tests of expiry. */
  now?: () => number;
}

/** Querying a field that is not declared as an index (it would be a full scan on DynamoDB). */
export class NotAnIndexError extends SwitchboardError {
  constructor(field: string, indexes: readonly string[]) {
    super(
      "SB_ERR_CONFIG",
      `"${field}" is not an index of the connection table (indexes: ${indexes.join(", ") || "none"}); add it to connections.indexes`,
    );
    this.name = "NotAnIndexError";
  }
}

/** The in-memory connection table, with TTL and secondary indexes. */
export class MemoryConnectionStore implements ConnectionStore {
  readonly #rows = new Map<string, ConnectionRecord>();
  readonly #indexes = new Map<string, Map<unknown, Set<string>>>();
  readonly #ttlSeconds: number;
  readonly #now: () => number;

  constructor(options: ConnectionStoreOptions) {
    this.#ttlSeconds = options.ttlSeconds;
    this.#now = options.now ?? Date.now;
    for (const field of options.indexes) this.#indexes.set(field, new Map());
  }

  async put(record: ConnectionRecord): Promise<void> {
    const row: ConnectionRecord = { ...record };
    if (row.expiresAt === undefined && this.#ttlSeconds > 0) {
      row.expiresAt = Math.floor(this.#now() / 1000) + this.#ttlSeconds;
    }
    this.#remove(row.connectionId);
    this.#rows.set(row.connectionId, row);
    for (const [field, index] of this.#indexes) {
      const value = row[field];
      if (value === undefined) continue;
      const ids = index.get(value);
      if (ids) ids.add(row.connectionId);
      else index.set(value, new Set([row.connectionId]));
    }
  }

  async get(connectionId: string): Promise<ConnectionRecord | undefined> {
    const row = this.#rows.get(connectionId);
    return row && this.#live(row) ? { ...row } : undefined;
  }

  async delete(connectionId: string): Promise<void> {
    this.#remove(connectionId);
  }

  async query(field: string, value: unknown): Promise<ConnectionRecord[]> {
    const index = this.#indexes.get(field);
    if (!index) throw new NotAnIndexError(field, [...this.#indexes.keys()]);
    const out: ConnectionRecord[] = [];
    for (const id of index.get(value) ?? []) {
      const row = this.#rows.get(id);
      if (row && this.#live(row)) out.push({ ...row });
    }
    return out;
  }

  async list(): Promise<ConnectionRecord[]> {
    return [...this.#rows.values()].filter((row) => this.#live(row)).map((row) => ({ ...row }));
  }

  /** Expired rows read as absent and are dropped lazily, as DynamoDB TTL may lag. */
  #live(row: ConnectionRecord): boolean {
    if (row.expiresAt === undefined || row.expiresAt * 1000 > this.#now()) return true;
    this.#remove(row.connectionId);
    return false;
  }

  #remove(connectionId: string): void {
    const row = this.#rows.get(connectionId);
    if (!row) return;
    this.#rows.delete(connectionId);
    for (const [field, index] of this.#indexes) {
      const ids = index.get(row[field]);
      ids?.delete(connectionId);
      if (ids?.size === 0) index.delete(row[field]);
    }
  }
}
