import type { StandardSchemaV1 } from "@standard-schema/spec";
import {
  attachRuntimeBindings,
  BODY_SCHEMA,
  getRuntimeBindings,
  type RuntimeBindings,
} from "../runtime/bindings.js";
import type { LambdaContext, WebSocketEvent } from "../runtime/events.js";
import { validateBody } from "../runtime/schema.js";
import { resolveSecrets } from "../runtime/secret-values.js";
import { methodHandler } from "../runtime/websocket-function.js";
import { bindingsFromEvent } from "../runtime/websocket-handler.js";

export { seedEntry } from "./seed-entry.js";

/** What the generated entry of a built function hands to {@link lambdaEntry}. */
export interface LambdaEntrySpec {
  /** The export to call, or to call `method` on (at its export path, as the Lambda runtime resolves it). */
  handler: unknown;
  /** Its name, for messages. */
  export: string;
  method?: string;
  /** A body schema declared in the config (not carried by the handler itself). */
  body?: StandardSchemaV1;
}

type Callable = (
  event: unknown,
  context: unknown,
  callback?: (error?: unknown, result?: unknown) => void,
) => unknown;

/**
 * The Lambda entry of a function built by `switchboard build`: takes the export (resolved on
 * `module.exports` or the ES namespace by the generated entry), wraps method routes with
 * `methodHandler`, validates a config-declared body schema as the dev gateway does (an
 * invalid body gets AWS's `Bad request body` frame and the handler is not called), and runs
 * callback-style handlers as promises.
 *
 * @example
 * ```ts
 * // functions/Send/index.mjs (generated)
 * import * as mod from "./src/chat.ts";
 * export const handler = lambdaEntry({ handler: mod.send, export: "send" });
 * ```
 */
export function lambdaEntry(
  spec: LambdaEntrySpec,
): (event: WebSocketEvent, context: LambdaContext) => Promise<unknown> {
  const callable = (
    spec.method ? methodHandler(spec.handler, spec.method) : spec.handler
  ) as Callable;
  if (typeof callable !== "function") {
    throw new TypeError(`export ${JSON.stringify(spec.export)} is not a function`);
  }
  const entry = async (event: WebSocketEvent, context: LambdaContext): Promise<unknown> => {
    // Run by a Switchboard gateway (the dev gateway serving a build output), the context carries
    // its bindings: ctx.send and the connection table go through that gateway, never to AWS.
    // That gateway also validated the body already: the entry declares the schema (below).
    const attached = getRuntimeBindings(context);
    const gateway = attached && !ownBindings.has(attached) ? attached : undefined;
    if (spec.body && !gateway && event.requestContext?.eventType === "MESSAGE") {
      const checked = await validateBody(spec.body, event.body);
      const bindings = bindingsFromEvent(event);
      if (!checked.ok) {
        const rc = event.requestContext;
        await bindings.management
          .send(
            rc.connectionId,
            `{"message" : "Bad request body", "connectionId": "${rc.connectionId}", "messageId": "${rc.messageId ?? ""}"}`,
          )
          .catch(() => undefined);
        return { statusCode: 400 };
      }
      const withBody: RuntimeBindings = { ...bindings, body: { value: checked.value } };
      ownBindings.add(withBody);
      attachRuntimeBindings(context, withBody);
    }
    // Secrets from Secrets Manager, once per container (SWITCHBOARD_SECRETS; none in dev).
    await resolveSecrets();
    if (callable.length < 3) return callable(event, context);
    return new Promise((resolve, reject) => {
      const returned = callable(event, context, (error, result) =>
        error ? reject(error) : resolve(result),
      );
      if (returned && typeof (returned as Promise<unknown>).then === "function") {
        (returned as Promise<unknown>).then(resolve, reject);
      }
    });
  };
  // The body schema, from the config or carried by a `websocketHandler({ body })`: a gateway
  // running this bundle validates before invoking, exactly as for the source handler.
  const schema = spec.body ?? (callable as { [BODY_SCHEMA]?: StandardSchemaV1 })[BODY_SCHEMA];
  if (schema) (entry as { [BODY_SCHEMA]?: StandardSchemaV1 })[BODY_SCHEMA] = schema;
  return entry;
}

/** Bindings this entry attached itself (on AWS): not a gateway's. */
const ownBindings = new WeakSet<RuntimeBindings>();
