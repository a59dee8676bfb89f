import path from "node:path";
import { getHeapSnapshot } from "node:v8";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { loadApp } from "../../src/app/load.js";
import { ModuleLoader } from "../../src/app/module-loader.js";
import { Gateway } from "../../src/gateway/gateway.js";
import { InProcessInvoker } from "../../src/invoker/in-process.js";
import { FIXTURES } from "../helpers/server.js";

/** Objects in this process's heap with a property named `key` (read from a heap snapshot). */
async function objectsWithProperty(key: string): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer);
  const snapshot = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
    snapshot: { meta: { edge_fields: string[]; edge_types: [string[]] } };
    edges: number[];
    strings: string[];
  };
  const { meta } = snapshot.snapshot;
  const width = meta.edge_fields.length;
  const typeAt = meta.edge_fields.indexOf("type");
  const nameAt = meta.edge_fields.indexOf("name_or_index");
  const property = meta.edge_types[0].indexOf("property");
  const keyIndex = snapshot.strings.indexOf(key);
  let count = 0;
  for (let e = 0; e < snapshot.edges.length; e += width) {
    if (snapshot.edges[e + typeAt] === property && snapshot.edges[e + nameAt] === keyIndex) count++;
  }
  return count;
}

// Memory per idle connection is a bound (docs/limits.md, bench scenario 6): an open connection
// keeps its facts, not the handshake its `$connect` and authorizer events were built from.
describe("an open connection keeps nothing of its handshake", () => {
  const cacheDir = path.join(FIXTURES, "faults", ".switchboard", "modules");
  const sockets: WebSocket[] = [];
  let gateway: Gateway | undefined;
  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    await gateway?.close();
  });

  it("no object holding the handshake's headers outlives it (100 idle connections)", async () => {
    const loader = new ModuleLoader({ cacheDir });
    const app = await loadApp(path.join(FIXTURES, "faults"), { loader });
    gateway = new Gateway({ app, invoker: new InProcessInvoker(loader), port: 0 });
    const { url } = await gateway.listen();
    // A header name nothing else in this process has: each object that holds it is a handshake's.
    const probe = `X-Retention-Probe-${process.pid}`;
    for (let i = 0; i < 100; i++) {
      const ws = new WebSocket(url, { headers: { [probe]: String(i) } });
      sockets.push(ws);
      await new Promise((resolve, reject) => {
        ws.once("open", resolve);
        ws.once("error", reject);
      });
    }
    expect(gateway.size).toBe(100);
    // The client side never holds it as a property (ws sends headers as text).
    expect(await objectsWithProperty(probe)).toBe(0);
  }, 60_000);
});
