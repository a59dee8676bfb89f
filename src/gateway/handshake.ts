import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { apiIdFor, executeApiDomain } from "../app/aws-names.js";
import { CONNECT, type Route } from "../app/model.js";
import { authorizerSpecFor } from "../invoker/invoker.js";
import type {
  WebSocketAuthorizerResult,
  WebSocketEvent,
  WebSocketResult,
} from "../runtime/events.js";
import { Reject } from "../runtime/reject.js";
import { type HttpAnswer, httpError, integrationError, policyDenied } from "../wire.js";
import {
  authorizerContext,
  identitySourcesPresent,
  isUnauthorized,
  policyAllows,
} from "./authorizer.js";
import {
  buildAuthorizerEvent,
  buildConnectEvent,
  buildHandshake,
  type ConnectionFacts,
  type Handshake,
} from "./events.js";
import { bindingsFor, type GatewayCore, reportError } from "./gateway-core.js";
import { chooseProtocol, type Generation, specOf } from "./generation.js";
import { newId } from "./ids.js";
import { runRouteIntegration } from "./integrated.js";
import { invokeAndReport } from "./invocation.js";
import { resultStatus } from "./route-response.js";
import { accept, invokeDisconnect } from "./session.js";

/** A non-upgrade answer written straight to the handshake socket. */
function writeAnswer(socket: Duplex, answer: HttpAnswer): void {
  if (socket.destroyed) return;
  const headers = { "x-amzn-RequestId": newId(), ...answer.headers };
  socket.end(
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? "Error"}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(answer.body)}\r\n` +
      `Connection: close\r\n${Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("")}\r\n${answer.body}`,
  );
}

const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;

/** The checks `ws` makes in `handleUpgrade` (method, Upgrade, key, version), made up front. */
function invalidHandshake(
  req: IncomingMessage,
): { answer: HttpAnswer; reason: string } | undefined {
  if (req.method !== "GET") {
    return { answer: httpError("SB_ERR_BAD_HANDSHAKE", 405), reason: "invalid HTTP method" };
  }
  if (req.headers.upgrade?.toLowerCase() !== "websocket") {
    return { answer: httpError("SB_ERR_BAD_HANDSHAKE"), reason: "invalid Upgrade header" };
  }
  const key = req.headers["sec-websocket-key"];
  if (key === undefined || !WEBSOCKET_KEY.test(key)) {
    return {
      answer: httpError("SB_ERR_BAD_HANDSHAKE"),
      reason: "missing or invalid Sec-WebSocket-Key",
    };
  }
  const version = Number(req.headers["sec-websocket-version"]);
  if (version !== 13 && version !== 8) {
    const answer = httpError("SB_ERR_BAD_HANDSHAKE");
    answer.headers["Sec-WebSocket-Version"] = "13, 8";
    return { answer, reason: "unsupported Sec-WebSocket-Version" };
  }
  return undefined;
}

/** Whether a request path is the WebSocket URL: `/` or `/{stage}`. */
export function isWebSocketPath(path: string, stage: string): boolean {
  return path === "/" || path === `/${stage}` || path === `/${stage}/`;
}

/** How one handshake ends early: refused with an answer, or the client went away. */
type Verdict = { refuse: HttpAnswer; reason: string } | undefined;

/**
 * An upgrade request, as API Gateway takes it: path and stage, handshake validity, the
 * authorizer, then `$connect` with the handshake held until it returns; then 101 or the status
 * `$connect` chose.
 */
export async function upgrade(
  core: GatewayCore,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const gen = core.generation;
  const { app } = gen;
  const url = req.url ?? "/";
  const queryAt = url.indexOf("?");
  const path = queryAt < 0 ? url : url.slice(0, queryAt);
  const started = performance.now();
  const sourceIp = (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, "");
  const refuseEarly = (answer: HttpAnswer, reason: string) => {
    writeAnswer(socket, answer);
    core.events.emit("connect", {
      status: answer.status,
      durationMs: performance.now() - started,
      sourceIp,
      reason,
    });
  };
  if (core.closing) {
    // Draining (shutdown): a load balancer retries elsewhere on 503.
    refuseEarly(httpError("SB_ERR_DRAINING"), "draining: the gateway is shutting down");
    return;
  }
  if (!isWebSocketPath(path, app.stage)) {
    // The path is the client's: cut to a bounded length (the log escapes it).
    const shown = path.length > 100 ? `${path.slice(0, 100)}…` : path;
    refuseEarly(
      httpError("SB_ERR_FORBIDDEN"),
      `path ${JSON.stringify(shown)} is not the WebSocket URL (/ or /${app.stage})`,
    );
    return;
  }
  const now = Date.now();
  const userAgent = req.headers["user-agent"];
  const apiId = apiIdFor(app.name);
  const facts: ConnectionFacts = {
    connectionId: newId(),
    connectedAt: now,
    identity: userAgent ? { sourceIp, userAgent } : { sourceIp },
    // As on AWS (the `$connect` headers keep the Host the client really used); code that
    // builds its management endpoint from it reaches this gateway through the interception.
    domainName: core.domainName ?? executeApiDomain(apiId, core.region),
    stage: app.stage,
    apiId,
  };
  const report = (status: number, reason?: string) =>
    core.events.emit("connect", {
      connectionId: facts.connectionId,
      status,
      durationMs: performance.now() - started,
      sourceIp,
      ...(reason !== undefined ? { reason } : {}),
    });
  // What `ws` would refuse only after `$connect` ran: refused first, as the AWS edge does.
  const invalid = invalidHandshake(req);
  if (invalid) {
    writeAnswer(socket, invalid.answer);
    report(invalid.answer.status, invalid.reason);
    return;
  }
  // What the AWS edge forwards (https on 443, the execute-api Host), unless asked for the
  // local values (`edge: "local"`).
  const edge =
    core.edge === "aws"
      ? { port: 443, proto: "https" as const, host: facts.domainName }
      : { port: req.socket.localPort ?? 0, proto: "http" as const };
  const handshake = buildHandshake(req.rawHeaders, queryAt < 0 ? "" : url.slice(queryAt), {
    sourceIp,
    now,
    ...edge,
  });
  // A client gone during the authorizer or `$connect` shows as a destroyed socket (its "close"
  // comes after). No listener for it: one would outlive the handshake on the socket and keep
  // everything this function's closures share (the handshake's headers twice, the request),
  // measured at 2.2 KB of heap per idle connection.
  core.connections.begin(facts.connectionId);
  const refuse = (verdict: NonNullable<Verdict>) => {
    core.connections.end(facts.connectionId);
    writeAnswer(socket, verdict.refuse);
    report(verdict.refuse.status, verdict.reason);
  };

  const denied = await authorize(core, gen, facts, handshake, now);
  if (denied) return refuse(denied);
  const connected = await runConnect(core, gen, facts, handshake);
  if ("refuse" in connected) return refuse(connected);

  const cleanUp = () => {
    core.connections.end(facts.connectionId);
    // $connect ran, so state may exist: clean up as AWS would on a dropped connection.
    if (gen.connectRoute) {
      invokeDisconnect(core, gen, facts, 1006, "").catch((error: unknown) =>
        reportError(core, { connectionId: facts.connectionId, message: String(error), error }),
      );
    }
  };
  // Other nodes reach the connection from its first frame (bounded; never rejects).
  await core.connections.register(facts.connectionId);
  if (socket.destroyed) return cleanUp();

  if (connected.protocol !== undefined) chooseProtocol(req, connected.protocol);
  let accepted = false;
  core.completeUpgrade(gen.wss, req, socket, head, (ws) => {
    accepted = true;
    core.connections.end(facts.connectionId);
    accept(core, ws, facts, socket, app.limits);
    if (core.events.listenerCount("opened") > 0) {
      core.events.emit("opened", {
        connectionId: facts.connectionId,
        connectedAt: facts.connectedAt,
        sourceIp: facts.identity.sourceIp,
        headers: handshake.headers,
        ...(handshake.queryStringParameters
          ? { queryStringParameters: handshake.queryStringParameters }
          : {}),
        ...(facts.authorizer ? { authorizer: facts.authorizer } : {}),
      });
    }
    report(101);
  });
  // `ws` answers synchronously; no callback means it refused the handshake itself (e.g. a
  // malformed Sec-WebSocket-Protocol): nothing is pending any more, and $connect's state goes.
  if (!accepted) {
    report(400, "handshake refused by ws");
    cleanUp();
  }
}

/** The REQUEST authorizer (on `$connect` only): a refusal, or the context it allowed with. */
async function authorize(
  core: GatewayCore,
  gen: Generation,
  facts: ConnectionFacts,
  handshake: Handshake,
  now: number,
): Promise<Verdict> {
  const { app } = gen;
  if (!app.authorizer) return undefined;
  if (!identitySourcesPresent(app.authorizer.identitySource, handshake)) {
    return { refuse: httpError("SB_ERR_UNAUTHORIZED"), reason: "identity source missing" };
  }
  const event = buildAuthorizerEvent(facts, handshake, core.region, core.accountId, now);
  const spec = authorizerSpecFor(app, app.authorizer);
  const outcome = await invokeAndReport(core, gen, {
    spec,
    event,
    bindings: bindingsFor(core),
    connectionId: facts.connectionId,
    routeKey: "$connect (authorizer)",
    isDenial: isUnauthorized,
  });
  if (outcome.kind === "error" && isUnauthorized(outcome.error)) {
    return { refuse: httpError("SB_ERR_UNAUTHORIZED"), reason: "authorizer: Unauthorized" };
  }
  if (outcome.kind !== "ok") {
    return {
      refuse: integrationError("SB_ERR_HANDLER_FAILED", 500),
      reason: `authorizer ${outcome.kind}`,
    };
  }
  const result = outcome.result as WebSocketAuthorizerResult | undefined;
  if (!result || typeof result !== "object" || (!result.principalId && result.principalId !== "")) {
    return {
      refuse: integrationError("SB_ERR_HANDLER_FAILED", 500),
      reason: "authorizer returned no principalId",
    };
  }
  if (!policyAllows(result, event.methodArn)) {
    return { refuse: policyDenied(), reason: "authorizer policy denied" };
  }
  facts.authorizer = authorizerContext(result, outcome.durationMs);
  return undefined;
}

/** `$connect`, with the handshake held until it returns: a refusal, or the chosen subprotocol. */
async function runConnect(
  core: GatewayCore,
  gen: Generation,
  facts: ConnectionFacts,
  handshake: Handshake,
): Promise<NonNullable<Verdict> | { protocol: string | undefined }> {
  const route = gen.connectRoute;
  if (!route) return { protocol: undefined };
  if (route.integration !== undefined || route.target === undefined) {
    return connectIntegrated(core, gen, route, buildConnectEvent(facts, handshake, Date.now()));
  }
  const outcome = await invokeAndReport(core, gen, {
    spec: specOf(gen, route),
    event: buildConnectEvent(facts, handshake, Date.now()),
    bindings: bindingsFor(core),
    connectionId: facts.connectionId,
    routeKey: CONNECT,
  });
  if (outcome.kind === "timeout") {
    return { refuse: integrationError("SB_ERR_HANDLER_TIMEOUT"), reason: "$connect timed out" };
  }
  if (outcome.kind === "error") {
    if (Reject.is(outcome.error)) {
      return {
        refuse: { status: outcome.error.statusCode, body: outcome.error.body ?? "", headers: {} },
        reason: "$connect rejected",
      };
    }
    return { refuse: integrationError("SB_ERR_HANDLER_FAILED"), reason: "$connect threw" };
  }
  const status = resultStatus(outcome.result);
  if (status !== undefined && (status < 200 || status > 299)) {
    const body = (outcome.result as WebSocketResult & object).body;
    return {
      refuse: { status, body: typeof body === "string" ? body : "", headers: {} },
      reason: `$connect returned ${status}`,
    };
  }
  let protocol: string | undefined;
  const headers = (outcome.result as { headers?: Record<string, string> } | undefined)?.headers;
  if (headers && typeof headers === "object") {
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() === "sec-websocket-protocol") protocol = String(value);
    }
  }
  return { protocol };
}

/**
 * `$connect` through a route that is not a Lambda proxy: a failed integration refuses the
 * handshake with 500 (a timeout with 504), a backend status outside 2xx refuses with that
 * status and the mapped body; otherwise it is accepted.
 */
async function connectIntegrated(
  core: GatewayCore,
  gen: Generation,
  route: Route,
  event: WebSocketEvent,
): Promise<NonNullable<Verdict> | { protocol: string | undefined }> {
  const outcome = await runRouteIntegration(core, gen, route, event, "");
  if (outcome.kind === "timeout") {
    return { refuse: integrationError("SB_ERR_HANDLER_TIMEOUT"), reason: "$connect timed out" };
  }
  if (outcome.kind === "error") {
    return {
      refuse: integrationError("SB_ERR_HANDLER_FAILED"),
      reason: "$connect integration failed",
    };
  }
  if (outcome.status < 200 || outcome.status > 299) {
    return {
      refuse: { status: outcome.status, body: outcome.body ?? "", headers: {} },
      reason: `$connect integration answered ${outcome.status}`,
    };
  }
  return { protocol: undefined };
}
