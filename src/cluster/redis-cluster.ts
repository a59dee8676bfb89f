import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { SwitchboardError } from "../errors.js";
import { type ConnectionInfo, GoneError, type SendManyResult } from "../runtime/management.js";
import {
  type BusReply,
  type BusRequest,
  type BusRequestBody,
  MAX_IDS_PER_REQUEST,
  parseBusMessage,
} from "./bus-messages.js";
import type { RedisBus } from "./redis-bus.js";
import type { RedisClient } from "./redis-client.js";
import type { RemoteConnections } from "./remote-connections.js";

/** What a node does for the others: the gateway's management API, local connections only. */
export interface LocalConnections {
  postToConnection(connectionId: string, data: string | Uint8Array, via: "management"): void;
  disconnectLocal(connectionId: string): void;
  infoLocal(connectionId: string): ConnectionInfo;
}

export interface ClusterOptions {
  /** The client for commands, and the bus (over a second client, which holds the subscription). */
  redis: { commands: RedisClient; bus: RedisBus };
  /**
   * Prefix of the cluster's keys and channels (one cluster per app and stage). On a Redis
   * Cluster it must carry a hash tag (`switchboard:{app:stage}:cluster:`): the scripts,
   * transactions and pipelines below touch several keys, which must share a slot.
   */
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
  /**
   * A node silent this long is dead (its connections are gone, its entries removed) once its
   * channel has no subscriber (the process is gone). Default 5 s.
   */
  nodeTtlMs?: number;
  /**
   * A silent node that still holds its subscription (frozen, or its host lost without a FIN)
   * is taken for dead after this long; until then calls for its connections answer 503.
   * Default 60 s.
   */
  unresponsiveMs?: number;
  /** Longest `register` waits for Redis before the handshake goes on without it. Default 1 s. */
  registerTimeoutMs?: number;
}

export interface ClusterEventMap {
  /** Something no caller sees: a malformed bus message dropped, a registration that failed. */
  warning: [{ message: string; error?: unknown }];
}

/** Alive-key values: the node is registering its connections, or has registered them all. */
const REGISTERING = "0";
const REGISTERED = "1";
/** Time the caller waits past the deadline for a reply the owner sent just before it. */
const REPLY_GRACE_MS = 1000;
/** A registered connection whose handshake never completed is forgotten after this. */
const CLAIM_MS = 30_000;
/** Ids per pipeline when a node re-registers what it holds, and per owner lookup (one script). */
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

// The owner of each connection and whether it is alive, in one round trip: {owner, 1|0}, or
// {'', 0} for no owner (a nil would cut Lua's array short).
const OWNERS = `
local out = {}
for i, key in ipairs(KEYS) do
  local owner = redis.call('GET', key)
  if owner then
    out[i] = {owner, redis.call('EXISTS', ARGV[1] .. 'alive:' .. owner)}
  else
    out[i] = {'', 0}
  end
end
return out`;

/** A `send` waiting for the next flush (see `send`). */
interface Outgoing {
  connectionId: string;
  data: string | Uint8Array;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Where a connection's calls go. */
type Route = { node: string } | { gone: true } | { error: SwitchboardError };

/** The owner node stopped listening (PUBLISH reached nobody): its connections are gone. */
class NotListening extends Error {}

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
  readonly #commands: RedisClient;
  readonly #bus: RedisBus;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #ownerTtlMs: number;
  readonly #heartbeatMs: number;
  readonly #nodeTtlMs: number;
  readonly #registerTimeoutMs: number;
  readonly #unresponsiveMs: number;
  /** Other nodes, and when each was last seen alive (heartbeat); bounded by the cluster's size. */
  readonly #known = new Map<string, number>();
  /** Nodes found silent, since when (cleared when seen alive or swept). */
  readonly #silentSince = new Map<string, number>();
  readonly #pending = new Map<
    string,
    { resolve: (reply: BusReply | undefined) => void; timer: NodeJS.Timeout }
  >();
  /** Sends of this turn, flushed together (bounded by the callers awaiting them). */
  #outbox: Outgoing[] = [];
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
  /** The last re-registration failed: the heartbeat retries it. */
  #dirty = false;
  #left = false;

  private constructor(options: ClusterOptions) {
    super();
    this.#commands = options.redis.commands;
    this.#bus = options.redis.bus;
    this.#prefix = options.keyPrefix;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#ownerTtlMs = (options.maxConnectionMs ?? 2 * 3600_000) + 60_000;
    this.#heartbeatMs = options.heartbeatMs ?? 1000;
    this.#nodeTtlMs = options.nodeTtlMs ?? 5000;
    this.#registerTimeoutMs = options.registerTimeoutMs ?? 1000;
    this.#unresponsiveMs = options.unresponsiveMs ?? 60_000;
  }

  /** Subscribes to this node's channel; `local` answers what other nodes forward here. */
  static async join(options: ClusterOptions, local: LocalConnections): Promise<Cluster> {
    const cluster = new Cluster(options);
    cluster.#local = local;
    cluster.#bus.onMessage((_channel: string, text: string) => {
      // Nothing on the bus may stop the node: not a bad message, not a listener that throws.
      try {
        cluster.#onMessage(text);
      } catch {
        // #onMessage validates before acting; what is left is a throwing `warning` listener.
      }
    });
    await cluster.#bus.subscribe(cluster.#channel(cluster.nodeId));
    // ioredis re-subscribes by itself after a reconnect; the keys are this node's to restore.
    cluster.#commands.on("ready", () => cluster.#reconcile());
    await cluster.#reconcile();
    cluster.#heartbeat = setInterval(() => cluster.#beat(), cluster.#heartbeatMs);
    cluster.#heartbeat.unref();
    return cluster;
  }

  /**
   * PostToConnection on the owner node. Sends issued in the same turn of the event loop (the
   * workers of a `ctx.broadcast`) are coalesced: one bus message per owner node and payload,
   * not one per connection.
   */
  send(connectionId: string, data: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#outbox.push({ connectionId, data, resolve, reject });
      if (this.#outbox.length === 1) setImmediate(() => this.#flush());
    });
  }

  /**
   * PostToConnection of the same data to many connections (`ctx.broadcast`): their owners are
   * looked up together (one script per {@link BATCH} ids, in one pipeline), then each owner node
   * gets one request carrying its ids (at most {@link MAX_IDS_PER_REQUEST} per request) and
   * answers per id. Never rejects: each id's outcome is in the result.
   */
  async sendMany(
    connectionIds: readonly string[],
    data: string | Uint8Array,
  ): Promise<SendManyResult> {
    const result: SendManyResult = { sent: [], gone: [], failed: [] };
    const items = connectionIds.map((connectionId): Outgoing => {
      let settled = false;
      return {
        connectionId,
        data,
        resolve: () => {
          if (settled) return;
          settled = true;
          result.sent.push(connectionId);
        },
        reject: (error) => {
          if (settled) return;
          settled = true;
          if (error instanceof GoneError) result.gone.push(connectionId);
          else result.failed.push({ connectionId, error });
        },
      };
    });
    try {
      await this.#sendAll(data, items);
    } catch (error) {
      // The owner lookup failed (Redis unreachable): nothing was sent to any of them.
      for (const item of items) item.reject(error);
    }
    return result;
  }

  disconnect(connectionId: string): Promise<void> {
    return this.#forward(connectionId, { op: "disconnect", connectionId }).then(() => undefined);
  }

  async info(connectionId: string): Promise<ConnectionInfo> {
    const reply = await this.#forward(connectionId, { op: "info", connectionId });
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
    await this.#bus.unsubscribe(this.#channel(this.nodeId)).catch(() => undefined);
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

  /** One disconnect or info call, on the connection's owner. */
  async #forward(connectionId: string, body: BusRequestBody): Promise<BusReply & { ok: true }> {
    const [route] = await this.#owners([connectionId]);
    if (!route || "gone" in route) throw new GoneError(connectionId);
    if ("error" in route) throw route.error;
    const { node } = route;
    let reply: BusReply;
    try {
      reply = await this.#request(node, body);
    } catch (error) {
      if (!(error instanceof NotListening)) throw error;
      await this.#commands.del(this.#ownerKey(connectionId)).catch(() => undefined);
      throw new GoneError(connectionId);
    }
    if (reply.ok) return reply;
    if (reply.gone) throw new GoneError(connectionId);
    throw new SwitchboardError("SB_ERR_REDIS", `cluster: ${reply.message}`);
  }

  /** Send what accumulated this turn: grouped by payload, then by owner node. */
  #flush(): void {
    const batch = this.#outbox;
    this.#outbox = [];
    const byData = new Map<string | Uint8Array, Outgoing[]>();
    for (const item of batch) {
      const group = byData.get(item.data);
      if (group) group.push(item);
      else byData.set(item.data, [item]);
    }
    for (const [data, items] of byData) {
      this.#sendAll(data, items).catch((error: unknown) => {
        for (const item of items) item.reject(error);
      });
    }
  }

  /**
   * One payload to many connections: owners looked up together, then one request per owner node
   * and batch of at most {@link MAX_IDS_PER_REQUEST} ids. Settles every item; rejects only when
   * the lookup fails (then none was settled).
   */
  async #sendAll(data: string | Uint8Array, items: Outgoing[]): Promise<void> {
    const owners = await this.#owners(items.map((item) => item.connectionId));
    const byNode = new Map<string, Outgoing[]>();
    for (const [i, item] of items.entries()) {
      const route = owners[i];
      if (!route || "gone" in route) {
        item.reject(new GoneError(item.connectionId));
        continue;
      }
      if ("error" in route) {
        item.reject(route.error);
        continue;
      }
      const group = byNode.get(route.node);
      if (group) group.push(item);
      else byNode.set(route.node, [item]);
    }
    const payload =
      typeof data === "string"
        ? { data }
        : { data: Buffer.from(data).toString("base64"), binary: true };
    const sends: Array<Promise<void>> = [];
    for (const [node, group] of byNode) {
      for (let i = 0; i < group.length; i += MAX_IDS_PER_REQUEST) {
        sends.push(this.#sendTo(node, group.slice(i, i + MAX_IDS_PER_REQUEST), payload));
      }
    }
    await Promise.all(sends);
  }

  async #sendTo(
    node: string,
    group: Outgoing[],
    payload: { data: string; binary?: boolean },
  ): Promise<void> {
    const ids = group.map((item) => item.connectionId);
    let reply: BusReply;
    try {
      reply = await this.#request(node, { op: "send", connectionIds: ids, ...payload });
    } catch (error) {
      if (error instanceof NotListening) {
        // The owner is gone (stopped or crashed): so are its connections.
        await this.#commands.del(...ids.map((id) => this.#ownerKey(id))).catch(() => undefined);
        for (const item of group) item.reject(new GoneError(item.connectionId));
      } else {
        for (const item of group) item.reject(error);
      }
      return;
    }
    if (!reply.ok) {
      const error = new SwitchboardError("SB_ERR_REDIS", `cluster: ${reply.message}`);
      for (const item of group) item.reject(error);
      return;
    }
    const gone = new Set(reply.gone);
    const failed = new Map(reply.failed?.map((f) => [f.connectionId, f.message]));
    for (const item of group) {
      const message = failed.get(item.connectionId);
      if (gone.has(item.connectionId)) item.reject(new GoneError(item.connectionId));
      else if (message !== undefined) item.reject(new SwitchboardError("SB_ERR_REDIS", message));
      else item.resolve();
    }
  }

  /**
   * Where each connection's calls go: its live owner node, gone (410), or an error that says
   * nothing was sent (503). A stale claim of this node's own (the gateway asks only for ids it
   * does not hold) is removed; a dead owner is swept.
   */
  async #owners(connectionIds: readonly string[]): Promise<Array<Route>> {
    const found = await this.#redis(() => this.#lookup(connectionIds));
    const silent = new Map<string, Promise<"dead" | "unresponsive">>();
    let settled: Promise<boolean> | undefined;
    return Promise.all(
      connectionIds.map(async (id, i): Promise<Route> => {
        const [owner = "", alive = 0] = found[i] ?? [];
        if (owner === "") {
          // No claim: gone, unless a node is still re-registering (Redis came back empty).
          settled ??= this.#settled();
          if (await settled) return { gone: true };
          return {
            error: new SwitchboardError(
              "SB_ERR_REDIS",
              "cluster: nodes are re-registering their connections after a Redis outage; nothing was sent",
            ),
          };
        }
        if (owner === this.nodeId) {
          this.#commands.del(this.#ownerKey(id)).catch(() => undefined);
          return { gone: true };
        }
        if (alive === 1) return { node: owner };
        let verdict = silent.get(owner);
        if (!verdict) {
          verdict = this.#judgeSilent(owner);
          silent.set(owner, verdict);
        }
        if ((await verdict) === "dead") return { gone: true };
        return {
          error: new SwitchboardError(
            "SB_ERR_NODE_TIMEOUT",
            `cluster: node ${owner} is not responding; nothing was sent`,
          ),
        };
      }),
    );
  }

  /**
   * Each connection's owner and whether it is alive (`OWNERS`): one script for up to
   * {@link BATCH} ids, else one per batch, sent together in one pipeline (one round trip).
   */
  async #lookup(connectionIds: readonly string[]): Promise<Array<[string, number]>> {
    const keys = connectionIds.map((id) => this.#ownerKey(id));
    if (keys.length <= BATCH) {
      return (await this.#commands.eval(OWNERS, keys.length, ...keys, this.#prefix)) as Array<
        [string, number]
      >;
    }
    const pipeline = this.#commands.pipeline();
    for (let i = 0; i < keys.length; i += BATCH) {
      const batch = keys.slice(i, i + BATCH);
      pipeline.eval(OWNERS, batch.length, ...batch, this.#prefix);
    }
    const results = await pipeline.exec();
    if (!results) throw new Error("the owner lookup was discarded");
    const found: Array<[string, number]> = [];
    for (const [error, value] of results) {
      if (error) throw error;
      for (const entry of value as Array<[string, number]>) found.push(entry);
    }
    return found;
  }

  /**
   * True when every node seen alive lately has registered all its connections: only then does
   * a missing claim mean the connection is gone.
   */
  async #settled(): Promise<boolean> {
    const now = Date.now();
    const recent = [...this.#known].filter(([, seen]) => now - seen <= this.#nodeTtlMs);
    if (recent.length === 0) return true;
    const values = await this.#redis(() =>
      this.#commands.mget(...recent.map(([node]) => this.#aliveKey(node))),
    );
    if (values.some((value) => value === REGISTERING)) return false;
    const missing = recent.filter((_, i) => values[i] === null).map(([node]) => node);
    if (missing.length === 0) return true;
    // No alive key: a node that left or died (no subscriber) is forgotten; one still
    // subscribed has not re-registered yet after Redis came back.
    const counts = await this.#redis(() =>
      this.#bus.numsub(
        missing.map((node) => this.#channel(node)),
        this.#nodesKey(),
      ),
    );
    let settled = true;
    for (const [i, node] of missing.entries()) {
      if ((counts[i] ?? 0) > 0) settled = false;
      else this.#known.delete(node);
    }
    return settled;
  }

  /**
   * A node whose heartbeat stopped: dead (swept) when its process is gone (no subscriber on its
   * channel) or it has been silent past `unresponsiveMs`; otherwise unresponsive (frozen).
   */
  async #judgeSilent(node: string): Promise<"dead" | "unresponsive"> {
    const now = Date.now();
    const since = this.#silentSince.get(node) ?? now;
    this.#silentSince.set(node, since);
    const [subscribers = 0] = await this.#redis(() =>
      this.#bus.numsub([this.#channel(node)], this.#nodesKey()),
    );
    if (subscribers > 0 && now - since < this.#unresponsiveMs) return "unresponsive";
    this.#silentSince.delete(node);
    this.#known.delete(node);
    this.#sweep(node);
    return "dead";
  }

  /**
   * Publish a request to a node and wait for its reply, up to the deadline it carries (plus
   * the time a reply sent just before it takes to arrive). Throws `NotListening` when no node
   * reads that channel, SB_ERR_NODE_TIMEOUT (503: not sent) when the deadline passes.
   */
  async #request(node: string, body: BusRequestBody): Promise<BusReply> {
    const id = `${this.nodeId}-${++this.#requests}`;
    const deadline = Date.now() + this.#timeoutMs;
    const answered = new Promise<BusReply | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(undefined);
      }, this.#timeoutMs + REPLY_GRACE_MS);
      this.#pending.set(id, { resolve, timer });
    });
    const message = { ...body, id, from: this.nodeId, deadline } as BusRequest;
    let listeners: number;
    try {
      listeners = await this.#redis(() =>
        this.#bus.publish(this.#channel(node), JSON.stringify(message)),
      );
    } catch (error) {
      this.#settle(id);
      throw error;
    }
    if (listeners === 0) {
      this.#settle(id);
      throw new NotListening();
    }
    const reply = await answered;
    if (reply) return reply;
    throw new SwitchboardError(
      "SB_ERR_NODE_TIMEOUT",
      `cluster: node ${node} did not answer within ${this.#timeoutMs}ms; it drops the request, nothing was sent`,
    );
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
    this.#bus.publish(this.#channel(request.from), JSON.stringify(reply)).catch(() => undefined);
  }

  #answer(request: BusRequest): BusReply {
    const local = this.#local as LocalConnections;
    try {
      switch (request.op) {
        case "send": {
          const data = request.binary ? Buffer.from(request.data, "base64") : request.data;
          const gone: string[] = [];
          const failed: Array<{ connectionId: string; message: string }> = [];
          for (const connectionId of request.connectionIds) {
            try {
              local.postToConnection(connectionId, data, "management");
            } catch (error) {
              if (error instanceof GoneError) gone.push(connectionId);
              else
                failed.push({ connectionId, message: (error as Error).message ?? String(error) });
            }
          }
          return { re: request.id, ok: true, gone, failed };
        }
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
    // Every batch is issued in this synchronous block: a `closed` that comes later is ordered
    // after it on the connection, so it cannot be undone by this write.
    const sent: Array<Promise<Array<[Error | null, unknown]> | null>> = [];
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      const tx = this.#commands.pipeline();
      for (const id of batch) tx.set(this.#ownerKey(id), this.nodeId, "PX", this.#ownerTtlMs);
      tx.sadd(this.#heldKey(this.nodeId), ...batch);
      tx.pexpire(this.#heldKey(this.nodeId), this.#ownerTtlMs);
      sent.push(tx.exec());
    }
    for (const results of await Promise.all(sent)) {
      const failed = (results ?? []).find(([error]) => error);
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
            .set(this.#aliveKey(this.nodeId), REGISTERING, "PX", this.#nodeTtlMs)
            .sadd(this.#nodesKey(), this.nodeId)
            .exec();
          const listed = await this.#commands.smembers(this.#heldKey(this.nodeId));
          // Decided and issued with no await in between (see #writeOwners): a connection
          // registered or closed meanwhile is ordered after these commands.
          const stale = listed.filter((id) => !this.#held.has(id) && !this.#claims.has(id));
          const removals: Array<Promise<unknown>> = [];
          for (let i = 0; i < stale.length; i += BATCH) {
            const batch = stale.slice(i, i + BATCH);
            removals.push(
              this.#commands
                .multi()
                .del(...batch.map((id) => this.#ownerKey(id)))
                .srem(this.#heldKey(this.nodeId), ...batch)
                .exec(),
            );
          }
          const written = this.#writeOwners([...this.#held, ...this.#claims.keys()]);
          await Promise.all([...removals, written]);
          // Only now may a missing claim be read as "gone" (see #settled). XX: a Redis that
          // restarted meanwhile gets a fresh re-registration from its `ready` event instead.
          await this.#commands.set(
            this.#aliveKey(this.nodeId),
            REGISTERED,
            "PX",
            this.#nodeTtlMs,
            "XX",
          );
          this.#dirty = false;
        } catch (error) {
          this.#dirty = true;
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
      // Refreshes the TTL, keeps the value (registering / registered); 0 when the key is gone:
      // Redis restarted empty, or this node was frozen past its TTL and swept.
      const refreshed = await this.#commands.pexpire(this.#aliveKey(this.nodeId), this.#nodeTtlMs);
      if (refreshed === 0 || this.#dirty) await this.#reconcile();
      const nodes = (await this.#commands.smembers(this.#nodesKey())).filter(
        (node) => node !== this.nodeId,
      );
      if (nodes.length > 0) {
        const alive = await this.#commands.mget(...nodes.map((n) => this.#aliveKey(n)));
        const seen = Date.now();
        for (const [i, node] of nodes.entries()) {
          if (alive[i] !== null) {
            this.#known.set(node, seen);
            this.#silentSince.delete(node);
          } else {
            await this.#judgeSilent(node);
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
