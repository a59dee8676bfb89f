import path from "node:path";
import type { App } from "../app/model.js";
import { ModuleLoader } from "../app/module-loader.js";
import { InProcessInvoker } from "../invoker/in-process.js";

/**
 * Keys of the routes whose body schema is given in code (`websocketHandler({ body })`) rather
 * than in the config: found as the gateway finds them, by loading each handler. A handler that
 * fails to load is left out (`validate` is the command that reports it).
 */
export async function routesWithCodeSchemas(app: App): Promise<Set<string>> {
  const loader = new ModuleLoader({ cacheDir: path.join(app.root, ".switchboard", "modules") });
  const invoker = new InProcessInvoker(loader, app.region ? { region: app.region } : {});
  const keys = new Set<string>();
  try {
    for (const route of app.routes) {
      if (route.body) continue;
      const schema = await invoker.bodySchema(route).catch(() => undefined);
      if (schema) keys.add(route.key);
    }
  } finally {
    await loader.dispose();
  }
  return keys;
}
