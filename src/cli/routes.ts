import path from "node:path";
import type { Command } from "commander";
import { integrationLabel } from "../app/integration.js";
import type { App } from "../app/model.js";
import { routesWithCodeSchemas } from "./code-schemas.js";
import { printError } from "./command-failure.js";
import { existingPath, stageName } from "./option-values.js";
import { printWarnings } from "./print-warnings.js";
import { loadOnce } from "./validate.js";

/**
 * The route table as `switchboard routes` prints it. `codeSchemas`: keys of the routes whose
 * handler carries its body schema (`websocketHandler({ body })`), shown as `websocketHandler`.
 */
export function formatRoutes(app: App, codeSchemas: ReadonlySet<string> = new Set()): string {
  const rel = (file: string) => path.relative(process.cwd(), file) || file;
  const rows = app.routes.map((r) => [
    r.key,
    r.target
      ? `${rel(r.target.file)}#${r.target.export}${r.target.method ? `.${r.target.method}` : ""}${r.integration ? " (AWS, templates)" : ""}`
      : integrationLabel(r.integration),
    r.routeResponse ? "two-way" : "one-way",
    `${r.timeoutMs / 1000}s`,
    r.body
      ? r.body.kind === "ref"
        ? `${rel(r.body.file)}#${r.body.export}`
        : "schema"
      : codeSchemas.has(r.key)
        ? "websocketHandler"
        : "-",
  ]);
  const header = ["ROUTE", "HANDLER", "RESPONSE", "TIMEOUT", "BODY"];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const format = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  const lines = [
    `${app.name} (stage ${app.stage}) — route selection ${app.routeSelectionExpression}`,
    format(header),
    ...rows.map(format),
  ];
  const auth = app.authorizer;
  if (auth) {
    // Named only when the source gave it a name of its own (not the default "authorizer").
    const named = auth.name !== "authorizer" ? ` (${auth.name})` : "";
    const identity = auth.identitySource.length > 0 ? auth.identitySource.join(", ") : "none";
    lines.push(
      `authorizer${named}: ${rel(auth.target.file)}#${auth.target.export} on $connect, identity ${identity}`,
    );
  }
  return lines.join("\n");
}

/** Register `switchboard routes`: the route table (or the App model as JSON). */
export function registerRoutesCommand(program: Command): void {
  program
    .command("routes")
    .description("Print the route table")
    .argument("[app]", "app folder or config file", existingPath, ".")
    .option("-s, --stage <stage>", "stage", stageName)
    .option("--json", "print the App model as JSON")
    .action(async (target: string, opts) => {
      try {
        const app = await loadOnce(target, opts.stage);
        printWarnings(app);
        process.stdout.write(
          `${opts.json ? JSON.stringify(app, (_k, v) => (v && typeof v === "object" && "~standard" in v ? "[schema]" : v), 2) : formatRoutes(app, await routesWithCodeSchemas(app))}\n`,
        );
      } catch (error) {
        printError(error);
        process.exitCode = 1;
      }
    });
}
