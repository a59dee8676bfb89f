import type { Socket } from "node:net";
import { TestClient } from "./client.js";

/** The header of one frame the server sent. */
export type Frame = { opcode: number; fin: boolean; length: number };

/**
 * A `ws` client that also records the header of every frame the server sends (read from the
 * upgraded socket before `ws` parses it), to check how outbound messages are framed.
 */
export async function connectRecordingFrames(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ client: TestClient; frames: Frame[] }> {
  const frames: Frame[] = [];
  let pending = Buffer.alloc(0);
  let skip = 0;
  const onData = (chunk: Buffer) => {
    let data = Buffer.concat([pending, chunk]);
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, data.length);
        skip -= n;
        data = data.subarray(n);
        if (skip > 0) break;
      }
      if (data.length < 2) break;
      const b0 = data[0]!;
      const len7 = data[1]! & 0x7f;
      const headerLength = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0);
      if (data.length < headerLength) break;
      const length =
        len7 === 126 ? data.readUInt16BE(2) : len7 === 127 ? Number(data.readBigUInt64BE(2)) : len7;
      frames.push({ opcode: b0 & 0x0f, fin: (b0 & 0x80) !== 0, length });
      data = data.subarray(headerLength);
      skip = length;
    }
    pending = Buffer.from(data);
  };
  const client = await TestClient.connect(url, {
    headers,
    // `ws` emits "upgrade" before it starts reading frames from the socket.
    finishRequest: (request) => {
      request.on("upgrade", (_res, socket: Socket) => socket.prependListener("data", onData));
      request.end();
    },
  });
  return { client, frames };
}
