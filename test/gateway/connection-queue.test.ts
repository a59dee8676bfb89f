import { describe, expect, it } from "vitest";
import {
  Connection,
  type Corkable,
  type Done,
  type WebSocketLike,
} from "../../src/gateway/connection.js";
import type { ConnectionFacts } from "../../src/gateway/events.js";

// The queue alone (gateway/connection.ts): it touches neither the socket nor the stream.
function connection(): Connection {
  const facts = { connectionId: "c1", connectedAt: Date.now() } as ConnectionFacts;
  return new Connection(facts, {} as WebSocketLike, {} as Corkable);
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("Connection's work queue", () => {
  it("runs pieces one at a time in order; the first at once, the rest as each is done", async () => {
    const conn = connection();
    const log: string[] = [];
    const dones: Done[] = [];
    for (const name of ["a", "b", "c"]) {
      conn.enqueue((done) => {
        log.push(`start ${name}`);
        dones.push(done);
      });
    }
    // Nothing was running: "a" started synchronously; "b" and "c" wait for it.
    expect(log).toEqual(["start a"]);
    const idle = conn.idle();
    let isIdle = false;
    void idle.then(() => {
      isIdle = true;
    });
    dones[0]?.();
    expect(log).toEqual(["start a", "start b"]);
    // A second call of the same `done` starts nothing more.
    dones[0]?.();
    expect(log).toEqual(["start a", "start b"]);
    dones[1]?.();
    expect(log).toEqual(["start a", "start b", "start c"]);
    await tick();
    expect(isIdle).toBe(false);
    dones[2]?.();
    await idle;
    expect(isIdle).toBe(true);
    // Idle again: the next piece starts at once.
    conn.enqueue((done) => {
      log.push("start d");
      done();
    });
    expect(log.at(-1)).toBe("start d");
    await conn.idle();
  });

  it("reports a piece that throws or fails, and goes on with the next", async () => {
    const conn = connection();
    const reported: unknown[] = [];
    conn.onWorkError = (error) => reported.push(error);
    const ran: string[] = [];
    conn.enqueue((done) => {
      setTimeout(() => done(new Error("failed later")), 1);
    });
    conn.enqueue(() => {
      throw new Error("threw");
    });
    conn.enqueue((done) => {
      ran.push("after");
      done();
    });
    await conn.idle();
    expect(ran).toEqual(["after"]);
    expect(reported.map((e) => (e as Error).message)).toEqual(["failed later", "threw"]);
  });

  it("keeps order on a queue that never empties (pieces added while others finish)", async () => {
    const conn = connection();
    const order: number[] = [];
    let next = 0;
    const add = () => {
      const n = next++;
      conn.enqueue((done) => {
        order.push(n);
        // Each piece finishes later, and two more arrive meanwhile, until 5,000.
        setImmediate(() => {
          if (next < 5000) add();
          if (next < 5000) add();
          done();
        });
      });
    };
    add();
    add();
    await new Promise<void>((resolve) => {
      const check = () => (next >= 5000 ? resolve() : setTimeout(check, 5));
      check();
    });
    await conn.idle();
    expect(order).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it("runs a long line of pieces that finish synchronously without growing the stack", async () => {
    const conn = connection();
    let count = 0;
    let release: Done | undefined;
    conn.enqueue((done) => {
      release = done;
    });
    // Far more than the bound the gateway sets (1,000): a recursive queue would overflow.
    for (let i = 0; i < 50_000; i++) {
      conn.enqueue((done) => {
        count++;
        done();
      });
    }
    release?.();
    expect(count).toBe(50_000);
    await conn.idle();
  });
});
