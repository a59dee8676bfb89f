import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Seed } from "switchboard/runtime";

/**
 * Idempotent: fixed keys, so running it again (every dev start, every deploy that changes it)
 * leaves one welcome note, not one per run.
 */
export const seed: Seed = async ({ stage, tables }) => {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  await doc.send(
    new PutCommand({
      TableName: tables.notes,
      Item: {
        room: "lobby",
        id: "0-welcome",
        text: `Welcome to the ${stage} notebook`,
        author: "seed",
      },
    }),
  );
};
