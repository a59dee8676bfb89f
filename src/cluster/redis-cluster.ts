import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { SwitchboardError } from "../errors.js";
import { type ConnectionInfo, GoneError } from "../runtime/management.js";
import type { RemoteConnections } from "./remote-connections.js";

/** What a node does for the others: the gateway's management API, local connections only. */
export interface LocalConnections {
  postToConnection(connectionId: string, data: string | Uint8Array, via: "management"): void;
  disconnectLocal(connectionId: string): void;
  infoLocal(connectionId: string): ConnectionInfo;
}

type Op = "send" | "disconnect" | "info";

interface Request {
  id: string;
  from: string;
  op: Op;
  connectionId: string;
  /** `send`: the data, as text or base64 (`binary`). */
  data?: string;
  binary?: boolean;
}

type Reply =
  | {
      re: string;
      ok: true;
      info?: { connectedAt: number; lastActiveAt: number; identity: ConnectionInfo["identity"] };
    }
  | { re: string; ok: false; gone: boolean; message: string };

export interface ClusterOptions {
  /** Two connections are opened from it: commands, and the subscription. */
  redis: { commands: Redis; subscriber: Redis };
  /** Prefix of the cluster's keys and channels (one cluster per app and stage). */
  keyPrefix: string;
  /** How long a node may take to answer a forwarded call. Default 5 s. */
  timeoutMs?: number;
  /** Longest a connection can live (ownership keys expire after it). Default 2 h. */
  maxConnectionMs?: number;
}

/**
 * Several gateways serving one app through Redis. Each node records the connections it holds
 * (`<prefix>owner:<connectionId>` → node id) and listens on its own channel
 * (`<prefix>node:<nodeId>`). A management call (`@connections` over HTTP, `ctx.send`,
 * `ctx.broadcast`, ...) for a connection held elsewhere is published to the owner's channel and
 * answered on the caller's: one request/reply over pub/sub. A connection no node holds is gone
 * (410), as is one whose owner stopped listening (PUBLISH reaches nobody); its ownership key is
 * removed then.
 */
export class Cluster implements RemoteConnections {
  readonly nodeId = randomBytes(6).toString("hex");
  readonly #commands: Redis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #ownerTtlMs: number;
  readonly #pending = new Map<string, { resolve: (reply: Reply) => void; timer: NodeJS.Timeout }>();
  #local: LocalConnections | undefined;
  #requests = 0;

  private constructor(options: ClusterOptions) {
    this.#commands = options.redis.commands;
    this.#subscriber = options.redis.subscriber;
    this.#prefix = options.keyPrefix;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#ownerTtlMs = (options.maxConnectionMs ?? 2 * 3600_000) + 60_000;
  }

  /** Subscribes to this node's channel; `local` answers what other nodes forward here. */
  static async join(options: ClusterOptions, local: LocalConnections): Promise<Cluster> {
    const cluster = new Cluster(options);
    cluster.#local = local;
    cluster.#subscriber.on("message", (_channel: string, text: string) => cluster.#onMessage(text));
    await cluster.#subscriber.subscribe(cluster.#channel(cluster.nodeId));
    return cluster;
  }

  send(connectionId: string, data: string | Uint8Array): Promise<void> {
    const request: Omit<Request, "id" | "from"> =
      typeof data === "string"
        ? { op: "send", connectionId, data }
        : { op: "send", connectionId, data: Buffer.from(data).toString("base64"), binary: true };
    return this.#forward(request).then(() => undefined);
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

  opened(connectionId: string): void {
    this.#commands
      .set(this.#ownerKey(connectionId), this.nodeId, "PX", this.#ownerTtlMs)
      .catch(() => undefined);
  }

  closed(connectionId: string): void {
    // Only this node's own claim (a reconnect elsewhere under the same id cannot happen, but a
    // stale key must not outlive the connection).
    this.#commands.del(this.#ownerKey(connectionId)).catch(() => undefined);
  }

  /** Stop answering; calls still waiting for another node fail. */
  async leave(): Promise<void> {
    await this.#subscriber.unsubscribe(this.#channel(this.nodeId)).catch(() => undefined);
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.resolve({ re: id, ok: false, gone: false, message: "this node left the cluster" });
    }
    this.#pending.clear();
  }

  async #forward(request: Omit<Request, "id" | "from">): Promise<Reply & { ok: true }> {
    const owner = await this.#commands.get(this.#ownerKey(request.connectionId));
    if (!owner || owner === this.nodeId) throw new GoneError(request.connectionId);
    const id = `${this.nodeId}-${++this.#requests}`;
    const answered = new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve({
          re: id,
          ok: false,
          gone: false,
          message: `node ${owner} did not answer in time`,
        });
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve, timer });
    });
    const message: Request = { ...request, id, from: this.nodeId };
    const listeners = await this.#commands.publish(this.#channel(owner), JSON.stringify(message));
    if (listeners === 0) {
      // The owner is gone (stopped or crashed): so are its connections.
      const pending = this.#pending.get(id);
      if (pending) clearTimeout(pending.timer);
      this.#pending.delete(id);
      await this.#commands.del(this.#ownerKey(request.connectionId)).catch(() => undefined);
      throw new GoneError(request.connectionId);
    }
    const reply = await answered;
    if (reply.ok) return reply;
    if (reply.gone) throw new GoneError(request.connectionId);
    throw new SwitchboardError("SB_ERR_REDIS", `cluster: ${reply.message}`);
  }

  #onMessage(text: string): void {
    let message: Request | Reply;
    try {
      message = JSON.parse(text) as Request | Reply;
    } catch {
      return;
    }
    if ("re" in message) {
      const pending = this.#pending.get(message.re);
      if (!pending) return;
      this.#pending.delete(message.re);
      clearTimeout(pending.timer);
      pending.resolve(message);
      return;
    }
    const reply = this.#answer(message);
    this.#commands
      .publish(this.#channel(message.from), JSON.stringify(reply))
      .catch(() => undefined);
  }

  #answer(request: Request): Reply {
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
        default:
          return {
            re: request.id,
            ok: false,
            gone: false,
            message: `unknown op ${String(request.op)}`,
          };
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

  #ownerKey(connectionId: string): string {
    return `${this.#prefix}owner:${connectionId}`;
  }

  #channel(nodeId: string): string {
    return `${this.#prefix}node:${nodeId}`;
  }
}
