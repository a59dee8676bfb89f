import type { AddressInfo } from "node:net";
import {
  type AttributeDefinition,
  CreateTableCommand,
  DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";

export interface RunningDynalite {
  endpoint: string;
  client: DynamoDBClient;
  /** Create a table from an `AWS::DynamoDB::Table`'s Properties (the API takes the same shapes). */
  createTable(name: string, properties: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

/** Credentials and region the SDK needs; dynalite checks neither. */
export const FAKE_AWS = {
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
};

/** dynalite (in memory) on a random loopback port, with a real DynamoDB client pointed at it. */
export async function startDynalite(): Promise<RunningDynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, ...FAKE_AWS });
  return {
    endpoint,
    client,
    async createTable(name, properties) {
      const gsis = properties.GlobalSecondaryIndexes as GlobalSecondaryIndex[] | undefined;
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: properties.BillingMode as "PAY_PER_REQUEST",
          AttributeDefinitions: properties.AttributeDefinitions as AttributeDefinition[],
          KeySchema: properties.KeySchema as KeySchemaElement[],
          ...(gsis ? { GlobalSecondaryIndexes: gsis } : {}),
        }),
      );
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
