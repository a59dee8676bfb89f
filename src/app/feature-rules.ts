import { tableEnvName } from "../runtime/tables.js";
import { listNames, quote } from "./describe-value.js";
import { didYouMean, withSuggestion } from "./did-you-mean.js";
import type { DocumentPath, RawIssue } from "./issue-location.js";
import { isStageName, STAGE_EXPECTED } from "./rules.js";

// The rules of the native config's `handler`, `secrets`, `tables` and `stages` that span keys
// (a route naming a table, a route without a handler), checked after the shape (config-schema.ts).

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The expected text for a secret name (it becomes an environment variable). */
export const ENV_NAME_EXPECTED =
  "an environment variable name (letters, digits and _, not starting with a digit)";

/** True when `name` can be an environment variable's name in every shell and in Lambda. */
export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{1,200}$/;
/** The expected text for a table name (DynamoDB allows these characters in a table name). */
export const TABLE_NAME_EXPECTED = "a table name of letters, digits, _, . and - (at most 200)";

/** True when `name` is usable in a DynamoDB table name (`<app>-<stage>-<name>`). */
export function isTableName(name: string): boolean {
  return TABLE_NAME.test(name);
}

export { tableEnvName };

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Cross-key problems of `handler`, `tables` and `stages`: table names, two tables with one
 * `TABLE_*` variable, a route's `tables` naming an undeclared table, a route with no handler
 * while the app has no top-level `handler`, and stage names. Each stage is checked with its
 * overrides over the app's settings.
 */
export function featureIssues(config: unknown): RawIssue[] {
  if (!isRecord(config)) return [];
  const issues: RawIssue[] = [];
  const add = (path: DocumentPath, expected: string, found: string) =>
    issues.push({ path, expected, found });

  const check = (scope: Record<string, unknown>, base: DocumentPath, inherited: Inherited) => {
    const declared = isRecord(scope.tables) ? Object.keys(scope.tables) : [];
    const byEnv = new Map<string, string>();
    for (const name of declared) {
      if (!isTableName(name)) add([...base, "tables", name], TABLE_NAME_EXPECTED, quote(name));
      const env = tableEnvName(name);
      const other = byEnv.get(env) ?? inherited.tableEnvs.get(env);
      if (other !== undefined && other !== name) {
        add(
          [...base, "tables", name],
          `table names that give distinct ${env.slice(0, 6)}* variables`,
          `${quote(name)} and ${quote(other)}, both ${env}`,
        );
      }
      byEnv.set(env, name);
    }
    const tables = [...new Set([...inherited.tables, ...declared])];
    const hasHandler = inherited.handler || typeof scope.handler === "string";
    if (!isRecord(scope.routes)) return;
    for (const [key, route] of Object.entries(scope.routes)) {
      if (!isRecord(route)) continue;
      const at = [...base, "routes", key];
      // A stage's route object may leave the handler to the app's route.
      const inheritsHandler = inherited.routesWithHandler.has(key);
      // An `http` route is served by its backend: it has no handler.
      if (route.handler === undefined && !("http" in route) && !hasHandler && !inheritsHandler) {
        add(
          [...at, "handler"],
          'a handler ("file#export"), or a top-level handler for every route',
          "none",
        );
      }
      if (Array.isArray(route.tables)) {
        route.tables.forEach((name, index) => {
          if (typeof name !== "string" || tables.includes(name)) return;
          add(
            [...at, "tables", index],
            tables.length > 0
              ? `one of the declared tables: ${listNames(tables)}`
              : "a table declared under tables (there are none)",
            withSuggestion(quote(name), didYouMean(name, tables)),
          );
        });
      }
    }
  };

  check(config, [], {
    tables: [],
    tableEnvs: new Map(),
    handler: false,
    routesWithHandler: new Set(),
  });
  if (isRecord(config.stages)) {
    const appTables = isRecord(config.tables) ? Object.keys(config.tables) : [];
    const routes = isRecord(config.routes) ? config.routes : {};
    const withHandler = new Set(
      Object.entries(routes)
        .filter(
          ([, route]) =>
            typeof route === "string" || (isRecord(route) && route.handler !== undefined),
        )
        .map(([key]) => key),
    );
    for (const [stage, override] of Object.entries(config.stages)) {
      if (!isStageName(stage)) add(["stages", stage], STAGE_EXPECTED, quote(stage));
      if (!isRecord(override)) continue;
      check(override, ["stages", stage], {
        tables: appTables,
        tableEnvs: new Map(appTables.map((name) => [tableEnvName(name), name])),
        handler: typeof config.handler === "string",
        routesWithHandler: withHandler,
      });
    }
  }
  return issues;
}

interface Inherited {
  tables: string[];
  tableEnvs: Map<string, string>;
  handler: boolean;
  routesWithHandler: Set<string>;
}
