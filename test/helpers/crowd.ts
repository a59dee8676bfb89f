import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), "crowd.mjs");

type Report = { opened?: number; closed?: number; answered?: number; failed?: string };

/**
 * Thousands of real `ws` clients held on a worker thread (crowd.mjs), so that their own work
 * (handshakes, close frames) runs on another event loop than an in-process server under test.
 */
export class Crowd {
  readonly #worker: Worker;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /** One connection per URL, `batch` handshakes at a time; resolves when all are open. */
  static async open(urls: string[], batch = 250): Promise<Crowd> {
    const worker = new Worker(WORKER, { workerData: { urls, batch } });
    const report = await nextReport(worker);
    if (report.opened !== urls.length) {
      await worker.terminate();
      throw new Error(`crowd: ${report.opened} of ${urls.length} opened (${report.failed})`);
    }
    return new Crowd(worker);
  }

  /** Every client sends `text` (in the same turn) and waits for its first message back. */
  async askAll(text: string): Promise<void> {
    const done = nextReport(this.#worker);
    this.#worker.postMessage({ ask: text });
    await done;
  }

  /** Every client closes (1000) in the same turn; resolves when all have seen their close. */
  async closeAll(): Promise<void> {
    const done = nextReport(this.#worker);
    this.#worker.postMessage("close");
    await done;
  }

  /** Stop the worker, dropping any client still open. */
  async dispose(): Promise<void> {
    await this.#worker.terminate();
  }
}

function nextReport(worker: Worker): Promise<Report> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      worker.off("message", onMessage);
      reject(error);
    };
    const onMessage = (report: Report) => {
      worker.off("error", onError);
      resolve(report);
    };
    worker.once("message", onMessage);
    worker.once("error", onError);
  });
}
