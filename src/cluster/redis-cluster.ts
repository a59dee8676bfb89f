import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import { SwitchboardError } from "../errors.js";
import { type ConnectionInfo, GoneError } from "../runtime/management.js";
import { type BusReply, type BusRequest, parseBusMessage } from "./bus-messages.js";
import type { RemoteConnections } from "./remote-connections.js";

/** What a node does for the others: the gateway's management API, local connections only. */
export interface LocalConnections {
  postToConnection(connectionId: string, data: string | Uint8Array, via: "management"): void;
  disconnectLocal(connectionId: string): void;
  infoLocal(connectionId: string): ConnectionInfo;
}

export interface ClusterOptions {
  /** Two connections are opened from it: commands, and the subscription. */
  redis: { commands: Redis; subscriber: Redis };
  /** Prefix of the cluster's keys and channels (one cluster per app and stage). */
  keyPrefix: string;
  /**
   * The deadline a forwarded call carries: the owner drops a request it reads after it, so a
   * call that timed out was not delivered (503, safe to retry). Default 5 s.
   */
  timeoutMs?: number;
  /** Longest a connection can live (ownership keys expire after it). Default 2 h. */
  maxConnectionMs?: number;
  /** How often this node proves it is alive. Default 1 s. */
  heartbeatMs?: number;
  /** A node silent this long is dead: its connections are gone and its entries removed. Default 5 s. */
  nodeTtlMs?: number;
  /** Longest `register` waits for Redis before the handshake goes on without it. Default 1 s. */
  registerTimeoutMs?: number;
}

export interface ClusterEventMap {
  /** Something no caller sees: a malformed bus message dropped, a registration that failed. */
  warning: [{ message: string; error?: unknown }];
}

/** Time the caller waits past the deadline for a reply the owner sent just before it. */
const REPLY_GRACE_MS = 1000;
/** A registered connection whose handshake never completed is forgotten after this. */
const CLAIM_MS = 30_000;
/** Ids per pipeline when a node re-registers what it holds. */
const BATCH = 1000;

// Removes a dead node's entries, unless it came back meanwhile (atomic with its re-registration,
// which writes the alive key first). Entries another node owns now are left alone.
const SWEEP = `
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local ids = redis.call('SMEMBERS', KEYS[2])
for _, id in ipairs(ids) do
  local key = ARGV[1] .. 'owner:' .. id
  if redis.call('GET', key) == ARGV[2] then redis.call('DEL', key) end
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[2])
return #ids`;

// The owner of a connection and whether it is alive, in one round trip.
const OWNER = `
local owner = redis.call('GET', KEYS[1])
if not owner then return nil end
return {owner, redis.call('EXISTS', ARGV[1] .. 'alive:' .. owner)}`;

/**
 * Several gateways serving one app through Redis. Each node records the connections it holds
 * (`<prefix>owner:<connectionId>` → node id, and the set `<prefix>held:<nodeId>`), proves it is
 * alive (`<prefix>alive:<nodeId>`, refreshed every `heartbeatMs`) and listens on its own
 * channel (`<prefix>node:<nodeId>`). A management call for a connection held elsewhere is
 * published to the owner's channel with a deadline and answered on the caller's.
 *
 * - A connection no live node holds is gone (410): no owner key, an owner whose heartbeat
 *   stopped (its entries are then swept), an owner that stopped listening, or an owner that
 *   answers it does not hold it.
 * - An owner that does not answer by the deadline drops the request when it reads it: the caller
 *   answers 503 (not sent; safe to retry).
 * - Redis may restart empty or be unreachable for a while: after every reconnect (and whenever
 *   its alive key is found missing) a node re-registers what it holds and removes entries of
 *   connections it no longer holds.
 */
export class Cluster extends EventEmitter<ClusterEventMap> implements RemoteConnections {
  readonly nodeId = randomBytes(6).toString("hex");
  readonly #commands: Redis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #ownerTtlMs: number;
  readonly #heartbeatMs: number;
  readonly #nodeTtlMs: number;
  readonly #registerTimeoutMs: number;
  readonly #pending = new Map<
    string,
    { resolve: (reply: BusReply) => void; timer: NodeJS.Timeout }
  >();
  /** Connections this node holds (owned by the gateway: bounded by its open connections). */
  readonly #held = new Set<string>();
  /** Registered before the 101, not yet opened (bounded by handshakes in flight, expire). */
  readonly #claims = new Map<string, number>();
  #local: LocalConnections | undefined;
  #requests = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #beating = false;
  #reconciling: Promise<void> | undefined;
  #reconcileAgain = false;
  #left = false;

  private constructor(options: ClusterOptions) {
    super();
    this.#commands = options.redis.commands;
    this.#subscriber = options.redis.subscriber;
    this.#prefix = options.keyPrefix;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#ownerTtlMs = (options.maxConnectionMs ?? 2 * 3600_000) + 60_000;
    this.#heartbeatMs = options.heartbeatMs ?? 1000;
    this.#nodeTtlMs = options.nodeTtlMs ?? 5000;
    this.#registerTimeoutMs = options.registerTimeoutMs ?? 1000;
  }

  /** Subscribes to this node's channel; `local` answers what other nodes forward here. */
  static async join(options: ClusterOptions, local: LocalConnections): Promise<Cluster> {
    const cluster = new Cluster(options);
    cluster.#local = local;
    cluster.#subscriber.on("message", (_channel: string, text: string) => {
      // Nothing on the bus may stop the node: not a bad message, not a listener that throws.
      try {
        cluster.#onMessage(text);
      } catch {
        // #onMessage validates before acting; what is left is a throwing `warning` listener.
      }
    });
    await cluster.#subscriber.subscribe(cluster.#channel(cluster.nodeId));
    // ioredis re-subscribes by itself after a reconnect; the keys are this node's to restore.
    cluster.#commands.on("ready", () => cluster.#reconcile());
    await cluster.#reconcile();
    cluster.#heartbeat = setInterval(() => cluster.#beat(), cluster.#heartbeatMs);
    cluster.#heartbeat.unref();
    return cluster;
  }

  send(connectionId: string, data: string | Uint8Array): Promise<void> {
    return this.#forward(
      typeof data === "string"
        ? { op: "send", connectionId, data }
        : { op: "send", connectionId, data: Buffer.from(data).toString("base64"), binary: true },
    ).then(() => undefined);
  }

  disconnect(connectionId: string): Promise<void> {
    return this.#forward({ op: "disconnect", connectionId }).then(() => undefined);
  }

  async info(connectionId: string): Promise<ConnectionInfo> {
    const reply = await this.#forward({ op: "info", connectionId });
    const info = reply.ok ? reply.info : undefined;
    if (!info) throw new GoneError(connectionId);
    return {
      connectedAt: new Date(info.connectedAt),
      lastActiveAt: new Date(info.lastActiveAt),
      identity: info.identity,
    };
  }

  /**
   * Record ownership before the handshake completes, so the other nodes reach the connection
   * from its first frame. Never rejects: when Redis does not answer within `registerTimeoutMs`
   * the connection is accepted anyway and registered on the next reconnect (see docs/dev.md).
   */
  async register(connectionId: string): Promise<void> {
    this.#claims.set(connectionId, Date.now());
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#registerTimeoutMs);
    });
    await Promise.race([this.#writeOwners([connectionId]).catch(() => undefined), late]);
    clearTimeout(timer);
  }

  opened(connectionId: string): void {
    const registered = this.#claims.delete(connectionId);
    this.#held.add(connectionId);
    if (!registered) this.#writeOwners([connectionId]).catch(() => undefined);
  }

  closed(connectionId: string): void {
    this.#held.delete(connectionId);
    this.#claims.delete(connectionId);
    // Failing here (Redis down) leaves the id in `held:<node>`; the next reconcile removes it.
    this.#commands
      .multi()
      .del(this.#ownerKey(connectionId))
      .srem(this.#heldKey(this.nodeId), connectionId)
      .exec()
      .catch(() => undefined);
  }

  /** Stop answering; calls still waiting for another node fail. */
  async leave(): Promise<void> {
    this.#left = true;
    clearInterval(this.#heartbeat);
    await this.#subscriber.unsubscribe(this.#channel(this.nodeId)).catch(() => undefined);
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.resolve({ re: id, ok: false, gone: false, message: "this node left the cluster" });
    }
    this.#pending.clear();
    await this.#commands
      .multi()
      .del(this.#aliveKey(this.nodeId))
      .srem(this.#nodesKey(), this.nodeId)
      .exec()
      .catch(() => undefined);
  }

  async #forward(
    request: Pick<BusRequest, "op" | "connectionId" | "data" | "binary">,
  ): Promise<BusReply & { ok: true }> {
    const { connectionId } = request;
    const found = await this.#redis(
      () =>
        this.#commands.eval(OWNER, 1, this.#ownerKey(connectionId), this.#prefix) as Promise<
          [string, number] | null
        >,
    );
    if (!found) throw new GoneError(connectionId);
    const [owner, alive] = found;
    if (owner === this.nodeId) {
      // The gateway asks the cluster only for ids it does not hold: this claim is stale.
      this.#commands.del(this.#ownerKey(connectionId)).catch(() => undefined);
      throw new GoneError(connectionId);
    }
    if (alive === 0) {
      this.#sweep(owner);
      throw new GoneError(connectionId);
    }
    const id = `${this.nodeId}-${++this.#requests}`;
    const deadline = Date.now() + this.#timeoutMs;
    const answered = new Promise<BusReply>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve({ re: id, ok: false, gone: false, message: "timeout" });
      }, this.#timeoutMs + REPLY_GRACE_MS);
      this.#pending.set(id, { resolve, timer });
    });
    const message: BusRequest = { ...request, id, from: this.nodeId, deadline };
    let listeners: number;
    try {
      listeners = await this.#redis(() =>
        this.#commands.publish(this.#channel(owner), JSON.stringify(message)),
      );
    } catch (error) {
      this.#settle(id);
      throw error;
    }
    if (listeners === 0) {
      // The owner is gone (stopped or crashed): so are its connections.
      this.#settle(id);
      await this.#commands.del(this.#ownerKey(connectionId)).catch(() => undefined);
      throw new GoneError(connectionId);
    }
    const reply = await answered;
    if (reply.ok) return reply;
    if (reply.gone) throw new GoneError(connectionId);
    if (reply.message === "timeout") {
      throw new SwitchboardError(
        "SB_ERR_NODE_TIMEOUT",
        `cluster: node ${owner} did not answer within ${this.#timeoutMs}ms; it drops the request, nothing was sent`,
      );
    }
    throw new SwitchboardError("SB_ERR_REDIS", `cluster: ${reply.message}`);
  }

  /** A Redis call on the request path: its failure means nothing was sent (503). */
  async #redis<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new SwitchboardError(
        "SB_ERR_REDIS",
        `cluster: Redis is unreachable, nothing was sent (${(error as Error).message})`,
        { cause: error },
      );
    }
  }

  #settle(id: string): void {
    const pending = this.#pending.get(id);
    if (pending) clearTimeout(pending.timer);
    this.#pending.delete(id);
  }

  #onMessage(text: string): void {
    const message = parseBusMessage(text);
    if ("invalid" in message) {
      this.emit("warning", {
        message: `cluster: dropped a ${message.invalid} on this node's channel (${text.length} bytes)`,
      });
      return;
    }
    if ("reply" in message) {
      const pending = this.#pending.get(message.reply.re);
      if (!pending) return;
      this.#settle(message.reply.re);
      pending.resolve(message.reply);
      return;
    }
    const { request } = message;
    // The caller has answered 503 (not sent) by now: acting would make that untrue.
    if (Date.now() > request.deadline) return;
    const reply = this.#answer(request);
    this.#commands
      .publish(this.#channel(request.from), JSON.stringify(reply))
      .catch(() => undefined);
  }

  #answer(request: BusRequest): BusReply {
    const local = this.#local as LocalConnections;
    try {
      switch (request.op) {
        case "send":
          local.postToConnection(
            request.connectionId,
            request.binary ? Buffer.from(request.data ?? "", "base64") : (request.data ?? ""),
            "management",
          );
          return { re: request.id, ok: true };
        case "disconnect":
          local.disconnectLocal(request.connectionId);
          return { re: request.id, ok: true };
        case "info": {
          const info = local.infoLocal(request.connectionId);
          return {
            re: request.id,
            ok: true,
            info: {
              connectedAt: info.connectedAt.getTime(),
              lastActiveAt: info.lastActiveAt.getTime(),
              identity: info.identity,
            },
          };
        }
      }
    } catch (error) {
      return {
        re: request.id,
        ok: false,
        gone: error instanceof GoneError,
        message: error instanceof Error ? error.message : String(error),
      };
    }
  }

  /** Owner keys (and this node's held set) for some connections. */
  async #writeOwners(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      const tx = this.#commands.pipeline();
      for (const id of batch) tx.set(this.#ownerKey(id), this.nodeId, "PX", this.#ownerTtlMs);
      tx.sadd(this.#heldKey(this.nodeId), ...batch);
      tx.pexpire(this.#heldKey(this.nodeId), this.#ownerTtlMs);
      const results = (await tx.exec()) ?? [];
      const failed = results.find(([error]) => error);
      if (failed) throw failed[0];
    }
  }

  /**
   * Make Redis agree with what this node holds: alive key, node list, an owner key per held
   * connection, and no entry for one it no longer holds. After every reconnect (Redis may have
   * restarted empty, or missed a `closed`) and when the heartbeat finds the alive key gone.
   */
  #reconcile(): Promise<void> {
    if (this.#left) return Promise.resolve();
    if (this.#reconciling) {
      this.#reconcileAgain = true;
      return this.#reconciling;
    }
    this.#reconciling = (async () => {
      do {
        this.#reconcileAgain = false;
        try {
          await this.#commands
            .multi()
            .set(this.#aliveKey(this.nodeId), "1", "PX", this.#nodeTtlMs)
            .sadd(this.#nodesKey(), this.nodeId)
            .exec();
          const holding = new Set([...this.#held, ...this.#claims.keys()]);
          const listed = await this.#commands.smembers(this.#heldKey(this.nodeId));
          const stale = listed.filter((id) => !holding.has(id));
          for (let i = 0; i < stale.length; i += BATCH) {
            const batch = stale.slice(i, i + BATCH);
            await this.#commands
              .multi()
              .del(...batch.map((id) => this.#ownerKey(id)))
              .srem(this.#heldKey(this.nodeId), ...batch)
              .exec();
          }
          await this.#writeOwners([...holding]);
        } catch (error) {
          this.emit("warning", {
            message: `cluster: re-registering this node's connections failed (${(error as Error).message}); retried on the next reconnect or heartbeat`,
            error,
          });
        }
      } while (this.#reconcileAgain && !this.#left);
    })().finally(() => {
      this.#reconciling = undefined;
    });
    return this.#reconciling;
  }

  /** Prove this node alive; notice when it was taken for dead; sweep nodes that died. */
  async #beat(): Promise<void> {
    if (this.#beating || this.#left) return;
    this.#beating = true;
    try {
      const now = Date.now();
      for (const [id, at] of this.#claims) {
        if (now - at > CLAIM_MS) this.closed(id);
      }
      const previous = await this.#commands.set(
        this.#aliveKey(this.nodeId),
        "1",
        "PX",
        this.#nodeTtlMs,
        "GET",
      );
      // Missing: Redis restarted empty, or this node was frozen past its TTL and swept.
      if (previous === null) await this.#reconcile();
      const nodes = await this.#commands.smembers(this.#nodesKey());
      const others = nodes.filter((node) => node !== this.nodeId);
      if (others.length > 0) {
        const alive = await this.#commands.exists(...others.map((n) => this.#aliveKey(n)));
        if (alive < others.length) {
          for (const node of others) {
            if ((await this.#commands.exists(this.#aliveKey(node))) === 0) this.#sweep(node);
          }
        }
      }
    } catch {
      // Redis is unreachable: the table's health reports it; the next reconnect reconciles.
    } finally {
      this.#beating = false;
    }
  }

  #sweep(node: string): void {
    this.#commands
      .eval(
        SWEEP,
        3,
        this.#aliveKey(node),
        this.#heldKey(node),
        this.#nodesKey(),
        this.#prefix,
        node,
      )
      .catch(() => undefined);
  }

  #ownerKey(connectionId: string): string {
    return `${this.#prefix}owner:${connectionId}`;
  }

  #heldKey(nodeId: string): string {
    return `${this.#prefix}held:${nodeId}`;
  }

  #aliveKey(nodeId: string): string {
    return `${this.#prefix}alive:${nodeId}`;
  }

  #nodesKey(): string {
    return `${this.#prefix}nodes`;
  }

  #channel(nodeId: string): string {
    return `${this.#prefix}node:${nodeId}`;
  }
}
