import { describe, expect, it } from "vitest";
import { MAX_IDS_PER_REQUEST, parseBusMessage } from "../../src/cluster/bus-messages.js";

const address = { id: "n1-1", from: "n1", deadline: Date.now() + 5000 };
const ids = (n: number) => Array.from({ length: n }, (_, i) => `id${i}`);

describe("parseBusMessage: a broadcast's batched send and its per-id reply", () => {
  it("a send carries 1 to MAX_IDS_PER_REQUEST ids; more or none is dropped as malformed", () => {
    const send = (connectionIds: string[]) =>
      parseBusMessage(JSON.stringify({ ...address, op: "send", connectionIds, data: "x" }));
    expect(send(ids(MAX_IDS_PER_REQUEST))).toMatchObject({
      request: { op: "send", connectionIds: ids(MAX_IDS_PER_REQUEST) },
    });
    expect(send(ids(1))).toMatchObject({ request: { op: "send" } });
    expect(send(ids(MAX_IDS_PER_REQUEST + 1))).toEqual({ invalid: "malformed request" });
    expect(send([])).toEqual({ invalid: "malformed request" });
    // Ids must be strings, and the deadline a number.
    expect(
      parseBusMessage(JSON.stringify({ ...address, op: "send", connectionIds: [1], data: "x" })),
    ).toEqual({ invalid: "malformed request" });
    expect(
      parseBusMessage(
        JSON.stringify({
          ...address,
          deadline: "soon",
          op: "send",
          connectionIds: ["a"],
          data: "x",
        }),
      ),
    ).toEqual({ invalid: "malformed request" });
  });

  it("the owner's reply says per id: gone, failed (with why), the rest sent", () => {
    const reply = {
      re: "n1-1",
      ok: true,
      gone: ["a"],
      failed: [{ connectionId: "b", message: "full" }],
    };
    expect(parseBusMessage(JSON.stringify(reply))).toEqual({ reply });
    expect(parseBusMessage(JSON.stringify({ ...reply, failed: [{ connectionId: "b" }] }))).toEqual({
      invalid: "malformed reply",
    });
    expect(parseBusMessage(JSON.stringify({ ...reply, gone: "a" }))).toEqual({
      invalid: "malformed reply",
    });
  });
});
