import { resolveSecrets } from "../runtime/secret-values.js";
import type { SeedInput } from "../runtime/seed.js";

/** The CloudFormation custom resource request a seed function receives. */
export interface CustomResourceEvent {
  RequestType: "Create" | "Update" | "Delete";
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
  ResourceProperties: { Stage?: string; Tables?: Record<string, string> };
}

/** CloudFormation reads at most 4096 bytes of a response; the reason is cut well below that. */
const MAX_REASON = 1000;
/** Answer FAILED this long before the Lambda would time out, so the stack never waits an hour. */
const TIMEOUT_MARGIN_MS = 5000;

/**
 * The Lambda entry of the seed function `switchboard build` makes: on Create and Update it runs
 * the seed with `{ stage, tables }` (the custom resource's properties) and answers the
 * CloudFormation custom resource protocol (a PUT of SUCCESS or FAILED with the seed's error to
 * the presigned `ResponseURL`); on Delete it does nothing (a seed never removes data). Always
 * answers, also when the seed would outlive the function.
 *
 * @example
 * ```ts
 * // functions/Seed/index.mjs (generated)
 * export const handler = seedEntry({ handler: mod.seed, export: "seed" });
 * ```
 */
export function seedEntry(spec: { handler: unknown; export: string }) {
  return async (
    event: CustomResourceEvent,
    context?: { getRemainingTimeInMillis?: () => number },
  ): Promise<void> => {
    let status: "SUCCESS" | "FAILED" = "SUCCESS";
    let reason = "seeded";
    if (event.RequestType !== "Delete") {
      let timer: NodeJS.Timeout | undefined;
      try {
        if (typeof spec.handler !== "function") {
          throw new TypeError(`export ${JSON.stringify(spec.export)} is not a function`);
        }
        await resolveSecrets();
        const input: SeedInput = {
          stage: event.ResourceProperties.Stage ?? "",
          tables: { ...event.ResourceProperties.Tables },
        };
        const remaining = context?.getRemainingTimeInMillis?.();
        const deadline = new Promise<never>((_, reject) => {
          if (remaining === undefined) return;
          timer = setTimeout(
            () => reject(new Error("the seed did not finish before the function's timeout")),
            Math.max(0, remaining - TIMEOUT_MARGIN_MS),
          );
        });
        await Promise.race([Promise.resolve(spec.handler(input)), deadline]);
      } catch (error) {
        status = "FAILED";
        reason = `seed ${spec.export} failed: ${error instanceof Error ? error.message : String(error)}`;
        console.error(reason);
      } finally {
        clearTimeout(timer);
      }
    } else reason = "nothing to undo";
    const body = JSON.stringify({
      Status: status,
      Reason: reason.slice(0, MAX_REASON),
      PhysicalResourceId: event.PhysicalResourceId ?? `${event.StackId}/seed`,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
    });
    // The presigned S3 URL wants no content type (it is part of the signature).
    const response = await fetch(event.ResponseURL, {
      method: "PUT",
      body,
      headers: { "content-type": "" },
    });
    if (!response.ok) throw new Error(`CloudFormation response rejected: ${response.status}`);
  };
}
