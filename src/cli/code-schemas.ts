import path from "node:path";
import type { App } from "../app/model.js";
import { ModuleLoader } from "../app/module-loader.js";
import { InProcessInvoker } from "../invoker/in-process.js";
import type { Invoker } from "../invoker/invoker.js";

/**
 * Keys of the routes whose body schema is given in code (`websocketHandler({ body })`) rather
 * than in the config: found as the gateway finds them, by loading each handler. A handler that
 * fails to load is left out (`validate` is the command that reports it).
 */
export async function routesWithCodeSchemas(app: App, served?: Invoker): Promise<Set<string>> {
  // The invoker serving the app already holds its modules (loading validated them); else one
  // of our own, released after.
  const loader = served
    ? undefined
    : new ModuleLoader({ cacheDir: path.join(app.root, ".switchboard", "modules") });
  const invoker =
    served ??
    new InProcessInvoker(loader as ModuleLoader, app.region ? { region: app.region } : {});
  const keys = new Set<string>();
  try {
    for (const route of app.routes) {
      if (route.body) continue;
      const schema = await invoker.bodySchema(route).catch(() => undefined);
      if (schema) keys.add(route.key);
    }
  } finally {
    await loader?.dispose();
  }
  return keys;
}
