import { EventEmitter } from "node:events";
import type { RedisClient } from "./redis-client.js";

/** Whether Redis is reachable, as a node sees it. */
export interface RedisState {
  up: boolean;
  /** When this state began (epoch ms). */
  since: number;
  /** Why it went down (the client's last error), or how long it was down once back. */
  message: string;
}

export interface RedisHealthEventMap {
  /** Reachability changed: once when it is lost, once when it is back (no event per retry). */
  change: [RedisState];
}

/**
 * The reachability of a node's Redis clients, for logs and health checks: down as soon as any
 * client loses its connection, up again when every client is ready. ioredis reports an error per
 * reconnect attempt; this turns that stream into one event per transition.
 */
export class RedisHealth extends EventEmitter<RedisHealthEventMap> {
  readonly #clients = new Set<RedisClient>();
  #state: RedisState = { up: true, since: Date.now(), message: "connected" };
  #lastError = "connection closed";
  #stopped = false;

  /** Follow a client (already connected). */
  watch(client: RedisClient): void {
    this.#clients.add(client);
    client.on("error", (error: Error) => {
      this.#lastError = error.message;
    });
    client.on("close", () => this.#update());
    client.on("ready", () => this.#update());
  }

  /** The current state: what a health check reads. */
  get state(): RedisState {
    return this.#state;
  }

  /** No more events (the clients are being closed on purpose). */
  stop(): void {
    this.#stopped = true;
  }

  #update(): void {
    if (this.#stopped) return;
    const up = [...this.#clients].every((client) => client.status === "ready");
    if (up === this.#state.up) return;
    const now = Date.now();
    const message = up ? `back after ${now - this.#state.since}ms` : this.#lastError;
    this.#state = { up, since: now, message };
    this.emit("change", this.#state);
  }
}
