// A crowd of WebSocket clients on a worker thread of its own (see crowd.ts): opening and closing
// thousands of them runs on another event loop than the in-process server's under test.
import { parentPort, workerData } from "node:worker_threads";
import WebSocket from "ws";

/** @type {{ urls: string[], batch: number }} */
const { urls, batch } = workerData;
/** @type {WebSocket[]} */
const open = [];

function connect(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => {
      ws.on("message", () => {});
      ws.on("error", () => {});
      resolve(ws);
    });
    ws.once("error", reject);
  });
}

try {
  for (let i = 0; i < urls.length; i += batch) {
    open.push(...(await Promise.all(urls.slice(i, i + batch).map(connect))));
  }
  parentPort.postMessage({ opened: open.length });
} catch (error) {
  parentPort.postMessage({ opened: open.length, failed: String(error) });
}

parentPort.on("message", async (command) => {
  if (typeof command === "object" && command.ask !== undefined) {
    // Every client sends the text and waits for its first message back.
    const answered = open.map((ws) => new Promise((resolve) => ws.once("message", resolve)));
    for (const ws of open) ws.send(command.ask);
    await Promise.all(answered);
    parentPort.postMessage({ answered: open.length });
    return;
  }
  if (command !== "close") return;
  const closed = open.map((ws) => new Promise((resolve) => ws.once("close", resolve)));
  // All in one turn: the server sees the close frames arrive together.
  for (const ws of open) ws.close(1000);
  await Promise.all(closed);
  parentPort.postMessage({ closed: open.length });
});
