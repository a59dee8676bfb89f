/**
 * Starts queued work at most `perTurn` at a time per event-loop turn (`setImmediate`), so a
 * burst (5,000 clients closing at once, each with a `$disconnect` to run) is spread over many
 * turns and the messages of the connections that stay are served in between. The queue holds
 * at most one entry per closing connection: it is bounded by the connections the gateway holds.
 */
export class Pacer {
  readonly #perTurn: number;
  readonly #queue: Array<() => void> = [];
  #scheduled = false;

  constructor(perTurn: number) {
    this.#perTurn = perTurn;
  }

  /** Run `work` in a later turn (in order); resolves or rejects with it. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push(() => {
        work().then(resolve, reject);
      });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#drain);
      }
    });
  }

  /** Entries not started yet. */
  get pending(): number {
    return this.#queue.length;
  }

  readonly #drain = (): void => {
    const batch = this.#queue.splice(0, this.#perTurn);
    for (const start of batch) start();
    if (this.#queue.length > 0) setImmediate(this.#drain);
    else this.#scheduled = false;
  };
}
