import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { type TableClient, websocketHandler } from "switchboard/runtime";

// The tables of switchboard.yaml, for typed access to ctx.tables.
declare module "switchboard/runtime" {
  interface Tables {
    notes: TableClient;
  }
}

interface Note {
  room: string;
  id: string;
  text: string;
  author: string;
}

let sdk: DynamoDBDocumentClient | undefined;

/** Every route of the app (the config's top-level `handler`). */
export const handler = websocketHandler(async (_event, ctx) => {
  const body = (ctx.body ?? {}) as Partial<Note>;
  switch (ctx.routeKey) {
    case "$connect":
      // A secret, as an environment variable (dev: .env; AWS: Secrets Manager).
      return ctx.queryStringParameters.token === process.env.NOTES_TOKEN
        ? { statusCode: 200 }
        : { statusCode: 401 };
    case "$disconnect":
      return { statusCode: 200 };
    case "list":
      // The typed table client.
      return { notes: await ctx.tables.notes.query<Note>({ room: body.room ?? "lobby" }) };
    case "listSdk": {
      // The plain SDK: the physical name is in TABLE_NOTES.
      sdk ??= DynamoDBDocumentClient.from(new DynamoDBClient({}));
      const out = await sdk.send(
        new QueryCommand({
          TableName: process.env.TABLE_NOTES,
          KeyConditionExpression: "room = :room",
          ExpressionAttributeValues: { ":room": body.room ?? "lobby" },
        }),
      );
      return { notes: out.Items ?? [] };
    }
    case "add": {
      const note = {
        room: body.room ?? "lobby",
        id: `${Date.now()}-${ctx.connectionId}`,
        text: String(body.text ?? ""),
        author: String(body.author ?? "anonymous"),
      };
      await ctx.tables.notes.put(note);
      await ctx.send({ added: note.id });
      return { statusCode: 200 };
    }
    default:
      await ctx.send({ error: "unknown action", routes: ["list", "listSdk", "add"] });
      return { statusCode: 200 };
  }
});
