import { formatLoadWarning } from "../app/load-warning.js";
import type { App } from "../app/model.js";

/** The loader's warnings (accepted as the source framework accepts them), one line each on stderr. */
export function printWarnings(app: App, json = false): void {
  for (const warning of app.warnings ?? []) {
    process.stderr.write(
      json
        ? `${JSON.stringify({ time: new Date().toISOString(), level: "warn", event: "config-warning", ...warning })}\n`
        : `${formatLoadWarning(warning)}\n`,
    );
  }
}
