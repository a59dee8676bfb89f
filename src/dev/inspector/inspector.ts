import type { IncomingMessage, ServerResponse } from "node:http";
import { integrationLabel } from "../../app/integration.js";
import type { App } from "../../app/model.js";
import type { Gateway } from "../../gateway/gateway.js";
import { crossSite } from "../../gateway/host-check.js";
import type { ReplayEvent } from "../../gateway/replay.js";
import { functionSpecFor } from "../../invoker/invoker.js";
import { GoneError, LimitExceededError } from "../../runtime/management.js";
import { servePage } from "./page.js";
import { type Entry, jsonSafe, Timeline } from "./timeline.js";

/** Where the inspector answers (`switchboard dev` only). */
export const INSPECTOR_PATH = "/_switchboard";
/** Pages following the live stream at once (each tab is one). */
export const MAX_STREAMS = 16;
/** Bytes a stream may leave unread before it is dropped (the page reconnects and reloads). */
export const STREAM_BUFFER_BYTES = 4 * 1024 * 1024;
/** Largest request body an action takes (a message is at most 128 KiB on AWS). */
export const ACTION_BODY_BYTES = 512 * 1024;

/** The dev inspector: its page, HTTP API and live stream, over a {@link Timeline}. */
export interface Inspector {
  /** Answer a request under {@link INSPECTOR_PATH}; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** The app changed (hot reload): the pages show the new routes. */
  appChanged(): void;
  /** Stop recording and end the streams. */
  close(): void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  res.end(JSON.stringify(value));
}

/** A JSON request body (bounded), as an object. */
async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > ACTION_BODY_BYTES) throw new HttpError(413, `body over ${ACTION_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString());
  } catch {
    throw new HttpError(400, "body is not JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new HttpError(400, "body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

function routesOf(app: App) {
  return {
    name: app.name,
    stage: app.stage,
    routeSelectionExpression: app.routeSelectionExpression,
    authorizer: app.authorizer ? app.authorizer.name : undefined,
    routes: app.routes.map((route) => ({
      key: route.key,
      functionName: route.target ? functionSpecFor(app, route).functionName : undefined,
      handler: route.target
        ? `${route.target.file.startsWith(app.root) ? route.target.file.slice(app.root.length + 1) : route.target.file}#${route.target.export}${route.target.method ? `.${route.target.method}` : ""}`
        : integrationLabel(route.integration),
      routeResponse: route.routeResponse ?? false,
      timeoutMs: route.timeoutMs,
    })),
  };
}

function stringField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== "string") throw new HttpError(400, `"${name}" must be a string`);
  return value;
}

/**
 * Serve the inspector for a dev gateway. Every request is refused (403) when a browser sends it
 * from a page of another origin (`crossSite`, as for `@connections`; the gateway's Host
 * allow-list ran before), and actions must be JSON POSTs (a cross-origin page cannot send one
 * without a CORS preflight, which is never answered).
 */
/** How long recording goes on after the last inspector request with no page open: 10 min. */
const IDLE_MS = 10 * 60 * 1000;

export function createInspector(gateway: Gateway): Inspector {
  const timeline = new Timeline(gateway);
  const streams = new Set<ServerResponse>();

  const broadcast = (event: string, data: unknown) => {
    // Nobody watching: nothing to serialize (this runs for every recorded entry).
    if (streams.size === 0) return;
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of streams) {
      // A page that stopped reading is dropped, never buffered without end.
      if (res.writableLength > STREAM_BUFFER_BYTES) {
        streams.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
  };
  timeline.subscribe((entry: Entry) => {
    broadcast("entry", entry);
    if (streams.size > 0 && (entry.kind === "connect" || entry.kind === "disconnect")) {
      broadcast("connections", timeline.connections());
    }
  });
  // Frames and invocations are recorded while the inspector is in use: from its first request
  // until IDLE_MS after the last one with no page open (docs/dev.md).
  let idle: NodeJS.Timeout | undefined;
  const checkIdle = () => {
    if (streams.size === 0) timeline.stopLive();
    else idle = setTimeout(checkIdle, IDLE_MS).unref();
  };
  const inUse = () => {
    timeline.startLive();
    clearTimeout(idle);
    idle = setTimeout(checkIdle, IDLE_MS).unref();
  };
  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(": keep-alive\n\n");
  }, 15_000);
  heartbeat.unref();

  const openStream = (req: IncomingMessage, res: ServerResponse) => {
    if (streams.size >= MAX_STREAMS)
      throw new HttpError(503, `over ${MAX_STREAMS} open inspector pages`);
    res.writeHead(200, {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
    });
    streams.add(res);
    req.on("close", () => streams.delete(res));
    res.write(
      `event: snapshot\ndata: ${JSON.stringify({ app: routesOf(gateway.app), connections: timeline.connections(), entries: timeline.entries() })}\n\n`,
    );
  };

  const connectionState = async (id: string) => {
    const details = timeline.connection(id);
    const open = gateway.management.local(id) !== undefined;
    if (!details && !open) throw new HttpError(404, `no connection ${id}`);
    let row: unknown = null;
    try {
      row = jsonSafe(await gateway.connections.get(id));
    } catch (error) {
      row = { error: String(error) };
    }
    let info: unknown = null;
    try {
      info = jsonSafe(await gateway.management.info(id));
    } catch {
      info = null;
    }
    return { ...details, connectionId: id, open, info, tableRow: row };
  };

  const action = async (path: string, req: IncomingMessage): Promise<unknown> => {
    const body = await readBody(req);
    const conn = /^\/api\/connections\/([^/]+)\/(send|post|disconnect)$/.exec(path);
    if (conn) {
      const id = decodeURIComponent(conn[1] as string);
      const what = conn[2];
      try {
        if (what === "send") {
          if (!gateway.injectMessage(id, stringField(body, "data"))) {
            throw new HttpError(410, `connection ${id} is not open here`);
          }
        } else if (what === "post") await gateway.management.send(id, stringField(body, "data"));
        else await gateway.management.disconnect(id);
      } catch (error) {
        if (error instanceof GoneError) throw new HttpError(410, `connection ${id} is gone`);
        if (error instanceof LimitExceededError) throw new HttpError(429, error.message);
        throw error;
      }
      return { ok: true };
    }
    if (path === "/api/replay") {
      const seq = body.seq;
      const entry = typeof seq === "number" ? timeline.entry(seq) : undefined;
      if (entry?.kind !== "invoke" || !entry.routeKey) {
        throw new HttpError(404, "that invocation is no longer in the timeline");
      }
      const event = entry.detail.event as ReplayEvent | undefined;
      if (!event || typeof event !== "object" || !("requestContext" in event)) {
        throw new HttpError(400, "the recorded event was cut (too large) and cannot be replayed");
      }
      const { bodyTruncated: _, ...recorded } = event as ReplayEvent & { bodyTruncated?: boolean };
      const edited =
        typeof body.body === "string" && "body" in recorded
          ? { ...recorded, body: body.body }
          : recorded;
      let outcome: Awaited<ReturnType<Gateway["replay"]>>;
      try {
        outcome = await gateway.replay(entry.routeKey, edited as ReplayEvent);
      } catch (error) {
        throw new HttpError(404, error instanceof Error ? error.message : String(error));
      }
      return jsonSafe(outcome);
    }
    throw new HttpError(404, "no such action");
  };

  const handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url ?? "/";
    const pathname = url.split("?")[0] as string;
    if (pathname !== INSPECTOR_PATH && !pathname.startsWith(`${INSPECTOR_PATH}/`)) return false;
    if (crossSite(req)) {
      sendJson(res, 403, { message: "Forbidden: the inspector answers its own page only" });
      return true;
    }
    const sub = pathname.slice(INSPECTOR_PATH.length);
    inUse();
    const answer = async () => {
      if (req.method === "GET" || req.method === "HEAD") {
        if (sub === "" || sub === "/") {
          if (sub === "") {
            res.writeHead(308, { Location: `${INSPECTOR_PATH}/` });
            res.end();
            return;
          }
          servePage("", res);
          return;
        }
        if (servePage(sub.slice(1), res)) return;
        if (sub === "/events") return openStream(req, res);
        if (sub === "/api/state") {
          return sendJson(res, 200, {
            app: routesOf(gateway.app),
            connections: timeline.connections(),
            entries: timeline.entries(),
          });
        }
        const conn = /^\/api\/connections\/([^/]+)$/.exec(sub);
        if (conn)
          return sendJson(res, 200, await connectionState(decodeURIComponent(conn[1] as string)));
        throw new HttpError(404, "not found");
      }
      if (req.method === "POST") {
        const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
        if (type !== "application/json") throw new HttpError(415, "actions take application/json");
        return sendJson(res, 200, await action(sub, req));
      }
      throw new HttpError(405, "GET or POST");
    };
    answer().catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (res.headersSent) res.destroy();
      else
        sendJson(res, status, { message: error instanceof Error ? error.message : String(error) });
    });
    return true;
  };

  return {
    handle,
    appChanged: () => broadcast("app", routesOf(gateway.app)),
    close: () => {
      clearInterval(heartbeat);
      clearTimeout(idle);
      timeline.close();
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}
