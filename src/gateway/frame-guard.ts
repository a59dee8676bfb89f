import type { Duplex } from "node:stream";

/**
 * Watches the raw bytes of a WebSocket connection for data frames larger than `maxFrame`
 * (AWS: 32 KiB per frame, even when the message is allowed 128 KiB). `ws` only limits whole
 * messages, so frame headers are tracked here: a few byte reads per frame, payloads skipped.
 * Calls `onTooBig` once, then stops watching.
 */
export function guardFrameSize(socket: Duplex, maxFrame: number, onTooBig: () => void): void {
  const header = new Uint8Array(14);
  let have = 0; // header bytes collected
  let need = 2; // header bytes needed (grows once the length form and mask bit are known)
  let skip = 0; // payload bytes still to skip
  const onData = (chunk: Buffer) => {
    let i = 0;
    while (i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      header[have++] = chunk[i++] as number;
      if (have === 2) {
        const len7 = (header[1] as number) & 0x7f;
        const masked = ((header[1] as number) & 0x80) !== 0;
        need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      }
      if (have < need) continue;
      const opcode = (header[0] as number) & 0x0f;
      const len7 = (header[1] as number) & 0x7f;
      let length = len7;
      if (len7 === 126) length = ((header[2] as number) << 8) | (header[3] as number);
      else if (len7 === 127) {
        length = 0;
        for (let b = 2; b < 10; b++) length = length * 256 + (header[b] as number);
      }
      have = 0;
      need = 2;
      if (opcode < 0x08 && length > maxFrame) {
        socket.removeListener("data", onData);
        onTooBig();
        return;
      }
      skip = length;
    }
  };
  socket.prependListener("data", onData);
}
