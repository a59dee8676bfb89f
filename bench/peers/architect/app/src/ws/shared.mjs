// Shared by the benchmark peer handlers. Sandbox runs each invocation in a fresh process,
// so the connection registry (a DynamoDB table in a real app) is a file the harness creates.
import { tmpdir } from "node:os";
import { join } from "node:path";

const sandbox = JSON.parse(process.env.ARC_SANDBOX ?? "{}");
export const ports = sandbox.ports ?? {};
export const registry = join(tmpdir(), `switchboard-bench-architect-${ports.http}.registry`);
/** The @connections endpoint Sandbox emulates (what arc.ws uses locally). */
export const managementEndpoint = `http://127.0.0.1:${ports._arc}/_arc/ws`;
