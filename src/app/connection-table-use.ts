import type { App, AppFormat } from "./model.js";

/** Formats whose handlers are Switchboard's own (the typed API, with `ctx.connections`). */
const OWN_FORMATS: readonly AppFormat[] = [
  "switchboard-ts",
  "switchboard-yaml",
  "switchboard-json",
  "object",
];

/**
 * Whether the app uses Switchboard's connection table, so that a build creates it (a DynamoDB
 * table, its IAM grant and the `SWITCHBOARD_CONNECTION_*` variables). The table backs the
 * typed API's `ctx.connections`, which is part of Switchboard's own app format: apps in that
 * format use it. Apps read from another framework (Serverless, Architect, SAM/CloudFormation,
 * LambdaSharp) keep their state in the tables they declare themselves, and their deployments
 * have no such table, so neither does their build.
 *
 * @example
 * ```ts
 * usesConnectionTable(await loadApp("examples/chat", { loader })); // true
 * usesConnectionTable(await loadApp("test/fixtures/sam-chat", { loader })); // false
 * ```
 */
export function usesConnectionTable(app: Pick<App, "source">): boolean {
  return OWN_FORMATS.includes(app.source.format);
}
