import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "./app/model.js";
import { openRedisTable, type RedisTable, type RedisTableOptions } from "./cluster/redis-table.js";
import type { GatewayBounds } from "./gateway/bounds.js";
import { Gateway } from "./gateway/gateway.js";
import type { AllowedHosts } from "./gateway/host-check.js";
import type { ManagementAuth } from "./gateway/management-auth.js";
import { returnMemoryWhenQuiet } from "./gateway/memory-return.js";
import { observedRemote } from "./gateway/observed-remote.js";
import { containHandlerFaults } from "./invoker/fault-containment.js";
import { tagHandlerOutput } from "./invoker/handler-output.js";
import type { Invoker } from "./invoker/invoker.js";
import { showWarningsOnce } from "./invoker/warn-once.js";

/** What to serve, and where. */
export interface ServeOptions {
  /** The loaded, validated app. */
  app: App;
  /** Runs its functions (in-process or isolated). */
  invoker: Invoker;
  /** Default 3001; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Region for ARNs and the SDK; default `AWS_REGION` or us-east-1. */
  region?: string;
  /**
   * Redis as the shared engine: the connection table lives there, and every gateway on the
   * same key prefix joins one cluster.
   */
  redis?: RedisTableOptions;
  /** Edge values in handshake events: `"aws"` (default) or `"local"` (see `GatewayOptions.edge`). */
  edge?: "aws" | "local";
  /** Per-connection bounds (queued messages, unread output); see `GatewayBounds`. */
  bounds?: Partial<GatewayBounds>;
  /** `Host` names answered (see `GatewayOptions.allowedHosts`). */
  allowedHosts?: AllowedHosts;
  /** How long `close()` waits for work in flight (see `GatewayOptions.shutdownTimeoutMs`). */
  shutdownTimeoutMs?: number;
  /**
   * Contain handler faults (an unhandled rejection, a timer throw, `process.exit()`) to the
   * invocation they belong to, while serving: for in-process invokers. Default false.
   */
  containFaults?: boolean;
  /** Who may call `@connections` (default `open`); see `ManagementAuth`. */
  managementAuth?: ManagementAuth;
  /** The app's public domain, as `requestContext.domainName` (default the execute-api one). */
  domainName?: string;
  /** HTTP handling for requests that are neither WebSocket nor `@connections` (static files). */
  fallbackRequest?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /**
   * A full, synchronous garbage collection (V8's `gc()`; the `switchboard` CLI passes one).
   * With it, once the open connections fall to half of a peak of 256 or more and the server
   * has been quiet for 3 s, it runs one (and another 6 s later, once quiet), so V8 hands back
   * the heap it kept committed for them (see `MemoryReturnBounds`; a `memory` event reports
   * each). Without it, nothing: V8 keeps that memory until its next GC under load.
   */
  gc?: () => void;
}

/** A gateway serving an app: its address, and what to close. */
export interface Served {
  gateway: Gateway;
  /** The Redis table and cluster membership, with `redis`. */
  redisTable: RedisTable | undefined;
  /** This node's id in the cluster (with `redis`). */
  nodeId: string | undefined;
  address: { host: string; port: number; url: string };
  /** Close every connection, leave the cluster, close Redis. */
  close(): Promise<void>;
}

/**
 * The one composition root: app → invoker → gateway → cluster → listen. `switchboard dev` adds
 * its developer conveniences around it (watching, environment, interception, local tables,
 * static files); a production server uses it as it is.
 *
 * @example
 * ```ts
 * const app = await loadApp("examples/chat", { loader });
 * const served = await serve({ app, invoker: new InProcessInvoker(loader), port: 0 });
 * console.log(served.address.url);
 * await served.close();
 * ```
 */
export async function serve(options: ServeOptions): Promise<Served> {
  const { app } = options;
  // Handlers' dependencies repeat their warnings from every copy they load (the AWS SDK's).
  showWarningsOnce();
  const redisTable = options.redis ? await openRedisTable(app, options.redis) : undefined;
  try {
    const gateway = new Gateway({
      app,
      invoker: options.invoker,
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.host !== undefined ? { host: options.host } : {}),
      ...(options.region !== undefined ? { region: options.region } : {}),
      ...(redisTable ? { connections: redisTable.store } : {}),
      ...(options.fallbackRequest ? { fallbackRequest: options.fallbackRequest } : {}),
      ...(options.bounds ? { bounds: options.bounds } : {}),
      ...(options.edge ? { edge: options.edge } : {}),
      ...(options.allowedHosts !== undefined ? { allowedHosts: options.allowedHosts } : {}),
      ...(options.shutdownTimeoutMs !== undefined
        ? { shutdownTimeoutMs: options.shutdownTimeoutMs }
        : {}),
      ...(options.managementAuth ? { managementAuth: options.managementAuth } : {}),
      ...(options.domainName ? { domainName: options.domainName } : {}),
    });
    let nodeId: string | undefined;
    if (redisTable) {
      const cluster = await redisTable.joinCluster(gateway.management, {
        maxConnectionMs: app.limits.maxConnectionMs,
      });
      // Like the gateway's own reports: an `error` event with no listener would throw.
      cluster.on("warning", (warning) => {
        if (gateway.listenerCount("error") > 0) gateway.emit("error", warning);
      });
      redisTable.health.on("change", (state) => gateway.emit("redis", { ...state }));
      gateway.attachRemote(observedRemote(cluster, gateway));
      nodeId = cluster.nodeId;
    }
    const address = await gateway.listen();
    const stopMemoryReturn = options.gc
      ? returnMemoryWhenQuiet({
          gc: options.gc,
          connections: () => gateway.size,
          onReturn: (report) => gateway.emit("memory", report),
        })
      : undefined;
    // A handler's unhandled rejection, timer throw or process.exit() fails its invocation, not
    // the gateway (while it serves; released on close).
    const releaseFaults = options.containFaults
      ? containHandlerFaults((message, error) => {
          if (gateway.listenerCount("error") > 0) gateway.emit("error", { message, error });
        })
      : undefined;
    // What handlers print goes to the log tagged with function and connection (an `output`
    // event) when a logger listens, else to stdout as before: in-process inside invocation
    // scopes (with containFaults), and what isolated workers forward. A reader of copies (the
    // dev inspector, `outputCopy`) gets each line either way and never swallows it.
    const releaseOutput = tagHandlerOutput((output) => {
      gateway.emit("outputCopy", output);
      return gateway.emit("output", output);
    });
    return {
      gateway,
      redisTable,
      nodeId,
      address,
      async close() {
        stopMemoryReturn?.();
        await gateway.close();
        releaseFaults?.();
        releaseOutput();
        await redisTable?.close();
      },
    };
  } catch (error) {
    await redisTable?.close();
    throw error;
  }
}
