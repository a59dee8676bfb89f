import {
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../helpers/client.js";
import { eventually } from "../helpers/eventually.js";
import { managementClient } from "../helpers/management-client.js";
import { type RunningApp, startApp } from "../helpers/server.js";

type Event = {
  requestContext: {
    connectionId: string;
    routeKey: string;
    disconnectStatusCode?: number;
    disconnectReason?: string;
  };
};

const sdk = managementClient;

async function connectWithId(url: string) {
  const client = await TestClient.connect(url);
  const [connect] = await client.ask<Event[]>({ action: "events" });
  return { client, id: connect!.requestContext.connectionId };
}

/** A masked client close frame (RFC 6455 §5.5.1) with `code` and no reason. */
function closeFrame(code: number): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const payload = Buffer.from([code >> 8, code & 0xff]);
  const masked = payload.map((byte, i) => byte ^ (mask[i % 4] as number));
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, Buffer.from(masked)]);
}

describe("@connections at the edges", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("basic");
  });
  afterAll(() => app.close());

  it("serves an SDK client whose endpoint ends in a slash (`/{stage}//@connections/{id}`)", async () => {
    const { client, id } = await connectWithId(`${app.url}/test`);
    const api = sdk(`${app.http}/test/`);
    await api.send(new PostToConnectionCommand({ ConnectionId: id, Data: "through //" }));
    expect(await client.next()).toBe("through //");
    const info = await api.send(new GetConnectionCommand({ ConnectionId: id }));
    expect(info.$metadata.httpStatusCode).toBe(200);
    await api.send(new DeleteConnectionCommand({ ConnectionId: id }));
    expect((await client.closed).code).toBe(1000);
  });

  it("answers POST, GET and DELETE with 410 once the client's close frame arrived, and $disconnect keeps the client's code", async () => {
    const { client, id } = await connectWithId(`${app.url}/test`);
    const socket = (client.ws as unknown as { _socket: import("node:net").Socket })._socket;
    // The client's close frame reaches the gateway, but the client never reads the answer nor
    // ends its TCP side: the gateway holds the connection in "closing" for as long as we like.
    socket.pause();
    socket.write(closeFrame(4001));
    const path = `${app.http}/test/@connections/${encodeURIComponent(id)}`;
    const statuses = await eventually(async () => {
      const post = await fetch(path, { method: "POST", body: "late" });
      if (post.status === 200) return undefined;
      const get = await fetch(path);
      const del = await fetch(path, { method: "DELETE" });
      return [post.status, get.status, del.status, del.headers.get("x-amzn-errortype")];
    });
    expect(statuses).toEqual([410, 410, 410, "GoneException"]);
    socket.destroy();
    const probe = await TestClient.connect(`${app.url}/test`);
    const disconnect = await eventually(async () => {
      const events = await probe.ask<Event[]>({ action: "disconnects" });
      return events.find((e) => e.requestContext.connectionId === id);
    });
    // The DELETE did not rewrite the close: $disconnect reports the client's own code.
    expect(disconnect.requestContext.disconnectStatusCode).toBe(4001);
    expect(disconnect.requestContext.disconnectReason).toBe("");
    probe.ws.close();
  });
});
