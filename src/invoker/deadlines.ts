/** A pending deadline; `cancel()` when the work finished in time. */
export interface Deadline {
  cancel(): void;
}

interface Lane {
  head: Entry | undefined;
  tail: Entry | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * One deadline, linked into its lane in the order added. Unlinking clears every reference it
 * holds: a cancelled entry that the garbage collector had already moved to the old generation
 * then points at nothing young (no dead old entry keeps a newer one, and the invocation its
 * `onExpire` closes over, alive through scavenges).
 */
class Entry implements Deadline {
  lane: Lane | undefined;
  prev: Entry | undefined;
  next: Entry | undefined = undefined;
  onExpire: (() => void) | undefined;
  readonly at: number;

  constructor(lane: Lane, at: number, onExpire: () => void) {
    this.lane = lane;
    this.at = at;
    this.onExpire = onExpire;
    this.prev = lane.tail;
    if (lane.tail) lane.tail.next = this;
    else lane.head = this;
    lane.tail = this;
  }

  cancel(): void {
    const lane = this.lane;
    if (!lane) return;
    const { prev, next } = this;
    if (prev) prev.next = next;
    else lane.head = next;
    if (next) next.prev = prev;
    else lane.tail = prev;
    this.lane = undefined;
    this.prev = undefined;
    this.next = undefined;
    this.onExpire = undefined;
  }
}

/**
 * Timeouts for many concurrent invocations without a timer each. Entries with the same
 * duration expire in the order they were added, so one timer per distinct duration, armed at
 * the oldest live entry's deadline, serves them all: adding and cancelling are a link and an
 * unlink, where a `setTimeout` per invocation costs a timer-list insert and removal.
 *
 * A linked list rather than a `Set`: a `Set` that churns rebuilds its hash table, and V8 keeps
 * a pointer from the old table to the new one; once a table has been promoted to the old
 * generation, that chain kept every later entry (and the invocation behind it) alive until
 * the next full GC (measured: 7-13 MB promoted per 4 s of echo load against 2-3 MB; see
 * bench/README.md, "Before/after").
 */
export class Deadlines {
  readonly #lanes = new Map<number, Lane>();

  /** Call `onExpire` after `ms` milliseconds unless cancelled first. */
  add(ms: number, onExpire: () => void): Deadline {
    let lane = this.#lanes.get(ms);
    if (!lane) {
      lane = { head: undefined, tail: undefined, timer: undefined };
      this.#lanes.set(ms, lane);
    }
    const entry = new Entry(lane, performance.now() + ms, onExpire);
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
    for (let entry = lane.head; entry; entry = lane.head) {
      if (entry.at > now) {
        this.#arm(lane, entry.at - now);
        return;
      }
      const onExpire = entry.onExpire;
      entry.cancel();
      onExpire?.();
    }
  }
}
