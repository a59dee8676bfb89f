import type { LambdaContext, WebSocketEvent, WebSocketResult } from "./events.js";
import { isClass } from "./is-class.js";
import { type BuiltHandler, type TypedResult, websocketHandler } from "./websocket-handler.js";

const FUNCTION_BRAND = Symbol.for("switchboard.websocketFunction");

/**
 * Base class for method invocation (LambdaSharp's `ALambdaApiGatewayFunction`): a route names a
 * method, the class is instantiated once per function (cold start) and `initialize()` awaited
 * before the first call. Methods receive the parsed (schema-validated) body and the typed context.
 *
 * @example
 * ```ts
 * export class ChatFunction extends WebSocketFunction {
 *   override async initialize() { this.greeting = "hi"; }
 *   async send(body: { text: string }, ctx: WebSocketContext) { await ctx.send(body.text); }
 * }
 * // switchboard.yaml: routes: { send: { handler: src/chat.ts#ChatFunction, method: send } }
 * ```
 */
export abstract class WebSocketFunction {
  static readonly [FUNCTION_BRAND] = true;
  /** Runs once before the first invocation, like Lambda initialization. */
  initialize(): void | Promise<void> {}
}

type Invocable = (
  event: WebSocketEvent,
  context: LambdaContext,
) => Promise<WebSocketResult> | unknown;

/** Method names callable on a class's instances or on an object (for messages that list them). */
export function methodNames(target: unknown): string[] {
  const names = new Set<string>();
  let proto: unknown = isClass(target) ? target.prototype : target;
  while (proto && proto !== Object.prototype && proto !== WebSocketFunction.prototype) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === "constructor") continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (descriptor && typeof descriptor.value === "function") names.add(name);
    }
    proto = Object.getPrototypeOf(proto);
  }
  return [...names];
}

function isWebSocketFunction(instance: object): boolean {
  let ctor: unknown = instance.constructor;
  while (typeof ctor === "function") {
    if ((ctor as unknown as Record<symbol, unknown>)[FUNCTION_BRAND] === true) return true;
    ctor = Object.getPrototypeOf(ctor);
  }
  return false;
}

/**
 * The initialized instance of each class (or object) methods are called on. One per class, not
 * per method: the routes of one Lambda function share its instance, as they share the function's
 * container. A reload builds a new class object, hence a new instance; a failed `initialize()`
 * is retried by the next call.
 */
const instances = new WeakMap<object, Promise<Record<string, unknown>>>();

function instanceOf(target: unknown): Promise<Record<string, unknown>> {
  const key = target as object;
  let ready = instances.get(key);
  if (!ready) {
    ready = (async () => {
      const object = (isClass(target) ? new target() : target) as Record<string, unknown>;
      const init = object.initialize;
      if (typeof init === "function") await init.call(object);
      return object;
    })();
    instances.set(key, ready);
    ready.catch(() => {
      if (instances.get(key) === ready) instances.delete(key);
    });
  }
  return ready;
}

/**
 * A Lambda handler that invokes `method` on `target` (a class, instantiated once, or an object).
 * Used by the gateway for routes with `method`, and as the Lambda entry point when built.
 */
export function methodHandler(target: unknown, method: string): BuiltHandler | Invocable {
  const instance = () => instanceOf(target);
  const probe = isClass(target) ? (target.prototype as object) : (target as object);
  if (probe && isWebSocketFunction(probe)) {
    return websocketHandler(async (_event, ctx) => {
      const object = await instance();
      return (object[method] as (body: unknown, c: unknown) => TypedResult).call(
        object,
        ctx.body,
        ctx,
      );
    });
  }
  return async (event: WebSocketEvent, context: LambdaContext) => {
    const object = await instance();
    return (object[method] as Invocable).call(object, event, context);
  };
}
