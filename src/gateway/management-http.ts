import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../app/model.js";
import { type ErrorCode, SwitchboardError } from "../errors.js";
import { GoneError, type Management } from "../runtime/management.js";
import { type HttpAnswer, httpError } from "../wire.js";
import { newId } from "./ids.js";
import { checkManagementAuth, type ManagementAuth } from "./management-auth.js";

/**
 * `/@connections/{id}` and `/{stage}/@connections/{id}` (the SDK sends `@` literally), and
 * `/_arc/ws/@connections/{id}`, where `@architect/functions` posts in Sandbox mode.
 */
export const MANAGEMENT_PATH = /^\/(?:_arc\/ws\/|([^/@]+)\/)?(?:@|%40)connections\/([^/]+)\/?$/;

/** The part of the gateway the HTTP API drives. */
export interface ManagementTarget {
  readonly app: App;
  /** The management API (forwarded to the node that holds the connection in a cluster). */
  readonly management: Management;
  emit(
    event: "management",
    report: { method: string; connectionId: string; status: number },
  ): boolean;
}

function reply(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "x-amzn-RequestId": newId(),
    ...(body ? { "Content-Type": "application/json" } : {}),
    "Content-Length": String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

function replyWith(res: ServerResponse, answer: HttpAnswer): void {
  reply(res, answer.status, answer.body, answer.headers);
}

const forbidden = (res: ServerResponse) => replyWith(res, httpError("SB_ERR_FORBIDDEN"));

/** Read a request body, giving up (with `undefined`) past `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(size > limit ? undefined : Buffer.concat(chunks, size)));
    req.on("error", reject);
  });
}

/**
 * The `@connections` management API, as `@aws-sdk/client-apigatewaymanagementapi` expects it:
 * POST 200 / GET 200 with ISO dates / DELETE 204; 410 + `x-amzn-ErrorType: GoneException`
 * (empty body) for unknown ids; 413 over 128 KiB; 403 for other paths and stages.
 * `auth` says who may call (default `open`: any credentials work, as in the emulator); a
 * refused call gets API Gateway's 403 (see `management-auth.ts`). Returns false when the path
 * is not ours.
 */
export function handleManagementRequest(
  target: ManagementTarget,
  req: IncomingMessage,
  res: ServerResponse,
  auth: ManagementAuth = { mode: "open" },
): boolean {
  // Repeated slashes count as one, as API Gateway treats them: an SDK client whose endpoint
  // ends in a slash (`https://{domain}/{stage}/`) calls `/{stage}//@connections/{id}`.
  const path = ((req.url ?? "/").split("?")[0] as string).replace(/\/{2,}/g, "/");
  const match = MANAGEMENT_PATH.exec(path);
  if (!match) return false;
  const [, stage, encodedId] = match;
  let connectionId: string;
  try {
    connectionId = decodeURIComponent(encodedId as string);
  } catch {
    forbidden(res);
    return true;
  }
  const report = (status: number) =>
    target.emit("management", { method: req.method ?? "", connectionId, status });
  if (stage !== undefined && stage !== target.app.stage) {
    forbidden(res);
    report(403);
    return true;
  }
  const answerError = (code: ErrorCode) => {
    const answer = httpError(code);
    replyWith(res, answer);
    report(answer.status);
  };
  const fail = (error: unknown) => {
    const name = (error as { name?: string } | undefined)?.name;
    answerError(
      error instanceof GoneError || name === "GoneException"
        ? "SB_ERR_GONE"
        : name === "LimitExceededException"
          ? "SB_ERR_LIMIT_EXCEEDED"
          : // Not sent (Redis unreachable, or the owner node missed the deadline and drops
            // it): 503 says so, and the SDK's retry of it cannot duplicate the message.
            error instanceof SwitchboardError && error.status === 503
            ? error.code
            : "SB_ERR_INTERNAL",
    );
  };
  if (auth.mode === "open") {
    serveCall(target, req, res, connectionId, answerError, report, fail);
    return true;
  }
  // The body's hash is part of the signature: read it (bounded) before checking.
  readBody(req, target.app.limits.messageBytes)
    .then(async (body) => {
      if (body === undefined) return answerError("SB_ERR_PAYLOAD_TOO_LARGE");
      const refused = await checkManagementAuth(auth, req, body);
      if (refused) {
        replyWith(res, refused);
        report(refused.status);
        return;
      }
      serveCall(target, req, res, connectionId, answerError, report, fail, body);
    })
    .catch(fail);
  return true;
}

/** One management call, once its caller is allowed (`body`: already read, when it was). */
function serveCall(
  target: ManagementTarget,
  req: IncomingMessage,
  res: ServerResponse,
  connectionId: string,
  answerError: (code: ErrorCode) => void,
  report: (status: number) => void,
  fail: (error: unknown) => void,
  read?: Buffer,
): void {
  switch (req.method) {
    case "POST":
      (read ? Promise.resolve(read) : readBody(req, target.app.limits.messageBytes))
        .then((body) => {
          if (body === undefined) return answerError("SB_ERR_PAYLOAD_TOO_LARGE");
          return target.management.send(connectionId, body).then(() => {
            reply(res, 200, "");
            report(200);
          });
        })
        .catch(fail);
      return;
    case "GET":
      target.management.info(connectionId).then((info) => {
        reply(
          res,
          200,
          JSON.stringify({
            connectedAt: info.connectedAt.toISOString(),
            identity: info.identity,
            lastActiveAt: info.lastActiveAt.toISOString(),
          }),
        );
        report(200);
      }, fail);
      return;
    case "DELETE":
      target.management.disconnect(connectionId).then(() => {
        reply(res, 204, "");
        report(204);
      }, fail);
      return;
    default:
      forbidden(res);
      report(403);
      return;
  }
}
