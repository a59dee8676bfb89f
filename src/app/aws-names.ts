/** Names AWS gives a WebSocket API, derived the same way everywhere (loaders, gateway, build). */

/** A stable 10-character API id for an app name, like `abc123defg`. */
export function apiIdFor(name: string): string {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  let out = "";
  let x = h >>> 0;
  for (let i = 0; i < 10; i++) {
    out += "abcdefghijklmnopqrstuvwxyz0123456789"[x % 36];
    x = Math.imul(x ^ (x >>> 13), 2654435761) >>> 0;
  }
  return out;
}

/**
 * The domain AWS gives a WebSocket API, as `requestContext.domainName` carries it:
 * `{apiId}.execute-api.{region}.amazonaws.com`.
 */
export function executeApiDomain(apiId: string, region: string): string {
  return `${apiId}.execute-api.${region}.amazonaws.com`;
}
