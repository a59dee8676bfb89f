// The local DynamoDB of `switchboard dev`: dynalite, with the app's declared tables.
import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { TableDeclaration } from "../app/model.js";
import { tableDefinition } from "../app/table-definition.js";

export interface LocalTablesOptions {
  /** Folder the data persists in (LevelDB); in memory when absent. */
  dataDir?: string;
  /** Default 0 (a free port). Always bound to 127.0.0.1. */
  port?: number;
}

/** Region and credentials the local DynamoDB is addressed with (it checks neither). */
const LOCAL_CLIENT = {
  region: "us-east-1",
  credentials: { accessKeyId: "switchboard", secretAccessKey: "switchboard" },
};

type Dynalite = (options: Record<string, unknown>) => Server;

/**
 * A DynamoDB-compatible server (dynalite) on 127.0.0.1, in memory or persisted in a folder,
 * that creates declared tables on demand.
 *
 * @example
 * ```ts
 * const tables = await LocalTables.start({ dataDir: ".switchboard/data" });
 * await tables.ensure(app.tables ?? []);
 * console.log(tables.endpoint); // http://127.0.0.1:54321
 * await tables.close();
 * ```
 */
export class LocalTables {
  readonly port: number;
  readonly endpoint: string;
  readonly dataDir: string | undefined;
  readonly #server: Server;
  readonly #created = new Set<string>();
  #client: Promise<import("@aws-sdk/client-dynamodb").DynamoDBClient> | undefined;

  private constructor(server: Server, dataDir: string | undefined) {
    this.#server = server;
    this.port = (server.address() as AddressInfo).port;
    this.endpoint = `http://127.0.0.1:${this.port}`;
    this.dataDir = dataDir;
  }

  static async start(options: LocalTablesOptions = {}): Promise<LocalTables> {
    // Loaded only for apps that declare tables (LevelDB bindings come with it).
    const specifier = "dynalite";
    const mod = (await import(specifier)) as { default: Dynalite };
    const dataDir = options.dataDir ? path.resolve(options.dataDir) : undefined;
    if (dataDir) await mkdir(dataDir, { recursive: true });
    const server = mod.default({
      ...(dataDir ? { path: dataDir } : {}),
      createTableMs: 0,
      deleteTableMs: 0,
      updateTableMs: 0,
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    return new LocalTables(server, dataDir);
  }

  /** Create the tables that do not exist yet (existing ones, e.g. from `--data`, are kept). */
  async ensure(tables: readonly TableDeclaration[]): Promise<string[]> {
    const { CreateTableCommand, DescribeTableCommand } = await import("@aws-sdk/client-dynamodb");
    const client = await this.#dynamodb();
    const created: string[] = [];
    for (const table of tables) {
      if (this.#created.has(table.name)) continue;
      try {
        await client.send(new CreateTableCommand(createTableInput(table)));
        created.push(table.name);
      } catch (error) {
        if ((error as { name?: string }).name !== "ResourceInUseException") throw error;
      }
      // Tables are usable once ACTIVE (immediately with createTableMs 0, after a tick).
      for (let i = 0; i < 100; i++) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: table.name }));
        if (Table?.TableStatus === "ACTIVE") break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      this.#created.add(table.name);
    }
    return created;
  }

  #dynamodb() {
    this.#client ??= import("@aws-sdk/client-dynamodb").then(
      ({ DynamoDBClient }) => new DynamoDBClient({ endpoint: this.endpoint, ...LOCAL_CLIENT }),
    );
    return this.#client;
  }

  /** Stop the server and close the store (the data folder's lock is released). */
  async close(): Promise<void> {
    const client = await this.#client?.catch(() => undefined);
    client?.destroy();
    this.#server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** The CreateTable request for a declaration (on-demand billing; TTL is not applied). */
export function createTableInput(table: TableDeclaration) {
  return { TableName: table.name, ...tableDefinition(table) };
}
