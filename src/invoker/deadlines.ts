/** A pending deadline; `cancel()` when the work finished in time. */
export interface Deadline {
  cancel(): void;
}

interface Entry extends Deadline {
  readonly at: number;
  readonly onExpire: () => void;
}

interface Lane {
  readonly entries: Set<Entry>;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Timeouts for many concurrent invocations without a timer each. Entries with the same
 * duration expire in the order they were added, so one timer per distinct duration, armed at
 * the oldest live entry's deadline, serves them all: adding and cancelling are a `Set` insert
 * and delete, where a `setTimeout` per invocation costs a timer-list insert and removal.
 */
export class Deadlines {
  readonly #lanes = new Map<number, Lane>();

  /** Call `onExpire` after `ms` milliseconds unless cancelled first. */
  add(ms: number, onExpire: () => void): Deadline {
    let lane = this.#lanes.get(ms);
    if (!lane) {
      lane = { entries: new Set(), timer: undefined };
      this.#lanes.set(ms, lane);
    }
    const entries = lane.entries;
    const entry: Entry = {
      at: performance.now() + ms,
      onExpire,
      cancel: () => {
        entries.delete(entry);
      },
    };
    entries.add(entry);
    if (!lane.timer) this.#arm(lane, ms);
    return entry;
  }

  #arm(lane: Lane, delay: number): void {
    lane.timer = setTimeout(() => this.#expire(lane), Math.max(1, Math.ceil(delay)));
    // The work itself keeps the process alive, not its deadline.
    lane.timer.unref();
  }

  #expire(lane: Lane): void {
    lane.timer = undefined;
    const now = performance.now();
    for (const entry of lane.entries) {
      if (entry.at > now) {
        this.#arm(lane, entry.at - now);
        return;
      }
      lane.entries.delete(entry);
      entry.onExpire();
    }
  }
}
