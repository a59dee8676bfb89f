import type { IncomingMessage } from "node:http";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { WebSocketServer } from "ws";
import type { App, FunctionRoute, Route } from "../app/model.js";
import { CONNECT, DEFAULT_ROUTE, DISCONNECT } from "../app/model.js";
import { compileRouteSelection, type RouteSelector } from "../app/route-selection.js";
import { type FunctionSpec, functionSpecFor, type Invoker } from "../invoker/invoker.js";

/** Everything derived from one version of the app; swapped whole on hot reload. */
export interface Generation {
  app: App;
  invoker: Invoker;
  routes: Map<string, Route>;
  defaultRoute: Route | undefined;
  connectRoute: Route | undefined;
  disconnectRoute: Route | undefined;
  select: RouteSelector;
  /** Function specs of the routes that run a function (not MOCK, HTTP, ... routes). */
  specs: Map<Route, FunctionSpec>;
  /** Body schemas by route: the lookup while it runs, then its result (read without a hop). */
  schemas: Map<
    Route,
    Promise<StandardSchemaV1 | undefined> | { schema: StandardSchemaV1 | undefined }
  >;
  wss: WebSocketServer;
}

const CHOSEN_PROTOCOL = Symbol("chosenProtocol");
type SubprotocolChoice = IncomingMessage & { [CHOSEN_PROTOCOL]?: string };

/** Record the subprotocol `$connect` chose, for `ws` to echo when it completes the handshake. */
export function chooseProtocol(req: IncomingMessage, protocol: string): void {
  (req as SubprotocolChoice)[CHOSEN_PROTOCOL] = protocol;
}

/** The subprotocol `$connect` chose for this request, if any (what the 101 echoes). */
export function chosenProtocol(req: IncomingMessage): string | undefined {
  return (req as SubprotocolChoice)[CHOSEN_PROTOCOL];
}

/**
 * Compile an app version. The `WebSocketServer` (it only holds the message size limit) is
 * kept from the previous generation when that limit did not change.
 */
export function compileGeneration(app: App, invoker: Invoker, previous?: Generation): Generation {
  const routes = new Map(app.routes.map((r) => [r.key, r]));
  const wss =
    previous && previous.app.limits.messageBytes === app.limits.messageBytes
      ? previous.wss
      : new WebSocketServer({
          noServer: true,
          maxPayload: app.limits.messageBytes,
          perMessageDeflate: false,
          clientTracking: false,
          // Echo only the subprotocol `$connect` chose (never pick one on the handler's behalf).
          handleProtocols: (_offered, req) => (req as SubprotocolChoice)[CHOSEN_PROTOCOL] ?? false,
        });
  return {
    app,
    invoker,
    routes,
    defaultRoute: routes.get(DEFAULT_ROUTE),
    connectRoute: routes.get(CONNECT),
    disconnectRoute: routes.get(DISCONNECT),
    select: compileRouteSelection(app.routeSelectionExpression),
    specs: new Map(
      app.routes.flatMap((r) => (r.target ? [[r, functionSpecFor(app, r)] as const] : [])),
    ),
    schemas: new Map(),
    wss,
  };
}

/** The function spec a generation runs a route with. */
export function specOf(gen: Generation, route: FunctionRoute): FunctionSpec {
  return gen.specs.get(route) ?? functionSpecFor(gen.app, route);
}
