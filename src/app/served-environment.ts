import type { App } from "./model.js";

/**
 * Environment values known only once the app is served: a loader (Architect's, for
 * `ARC_SANDBOX` and `ARC_WSS_URL`) writes these placeholders and whatever serves the app
 * (the dev server) fills them in after it has bound its port.
 */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder in config values, not a template
export const SERVED_HOST = "${switchboard:host}";
/** The bound port. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder in config values, not a template
export const SERVED_PORT = "${switchboard:port}";

/** The port of the local DynamoDB (when the app declares tables). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder in config values, not a template
export const SERVED_TABLES_PORT = "${switchboard:tablesPort}";

/** Where the app is served, as a client reaches it. */
export interface ServedAddress {
  /** The bound host; a wildcard (0.0.0.0, ::) means this machine. */
  host: string;
  port: number;
  /** The local DynamoDB's port, when one runs (it is always on 127.0.0.1). */
  tablesPort?: number;
}

/**
 * The environment with {@link SERVED_HOST} (as it appears in a URL: IPv6 in brackets) and
 * {@link SERVED_PORT} filled in.
 *
 * @example
 * ```ts
 * resolveServedEnvironment({ URL: `ws://${SERVED_HOST}:${SERVED_PORT}` }, { host: "127.0.0.1", port: 3001 });
 * // { URL: "ws://127.0.0.1:3001" }
 * ```
 */
export function resolveServedEnvironment(
  env: Readonly<Record<string, string>>,
  served: ServedAddress,
): Record<string, string> {
  const wildcard = served.host === "0.0.0.0" || served.host === "::" || served.host === "";
  const host = wildcard
    ? "127.0.0.1"
    : served.host.includes(":")
      ? `[${served.host}]`
      : served.host;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    let filled = value.split(SERVED_HOST).join(host).split(SERVED_PORT).join(String(served.port));
    if (served.tablesPort !== undefined)
      filled = filled.split(SERVED_TABLES_PORT).join(String(served.tablesPort));
    out[name] = filled;
  }
  return out;
}

/**
 * The app with {@link resolveServedEnvironment} applied to its and its routes' environments
 * (the same object when nothing needed filling in).
 *
 * @example
 * ```ts
 * const served = withServedEnvironment(app, { host: "127.0.0.1", port: address.port });
 * ```
 */
export function withServedEnvironment(app: App, served: ServedAddress): App {
  const hasPlaceholder = (env: Record<string, string>) =>
    Object.values(env).some(
      (value) =>
        value.includes(SERVED_HOST) ||
        value.includes(SERVED_PORT) ||
        value.includes(SERVED_TABLES_PORT),
    );
  if (
    !hasPlaceholder(app.environment) &&
    !app.routes.some((route) => hasPlaceholder(route.environment))
  ) {
    return app;
  }
  return {
    ...app,
    environment: resolveServedEnvironment(app.environment, served),
    routes: app.routes.map((route) => ({
      ...route,
      environment: resolveServedEnvironment(route.environment, served),
    })),
  };
}
