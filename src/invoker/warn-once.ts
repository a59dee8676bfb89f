/** Distinct warnings remembered; past this, warnings pass through (the set stays bounded). */
const MAX_REMEMBERED = 1000;

let installed = false;

/**
 * Show each distinct process warning once. A handler's dependencies warn from every copy
 * and every module instance that loads them (the AWS SDK's Node.js version notice comes from its
 * ESM and CommonJS builds, the app's copy and the runtime's): the first says it, the rest would
 * only flood the log. Process-wide and idempotent; Node already does this for its deprecations.
 */
export function showWarningsOnce(): void {
  if (installed) return;
  installed = true;
  const seen = new Set<string>();
  const original = process.emitWarning;
  process.emitWarning = function (
    this: NodeJS.Process,
    warning: string | Error,
    ...rest: unknown[]
  ) {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string })?.type;
    const key = `${type ?? ""}\u0000${typeof warning === "string" ? warning : `${warning.name}: ${warning.message}`}`;
    if (seen.has(key)) return;
    if (seen.size < MAX_REMEMBERED) seen.add(key);
    return (original as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
}

/**
 * In a worker thread (`--isolate`, one per function): the AWS SDK's Node.js version notice is
 * the gateway process's to give, not each function's.
 */
export function silenceSdkVersionNotice(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}
