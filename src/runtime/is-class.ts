/**
 * True for a class: `class X {}`, and a class compiled to ES5 (TypeScript or Babel with an
 * ES5 target): a plain `function` whose `prototype` carries methods of its own or inherits from
 * another class's prototype (`__extends`). A plain function's prototype is `{ constructor }`
 * over `Object.prototype`; arrow, async and method functions have none.
 *
 * The one definition: config validation (what a route may name) and the runtime (what it
 * instantiates for a method route) must agree, or a class passes the check and then fails on
 * every message.
 *
 * @example
 * ```ts
 * isClass(class Chat {}); // true
 * function Legacy() {} Legacy.prototype.send = function () {};
 * isClass(Legacy); // true
 * isClass(async () => {}); // false
 * ```
 */
export function isClass(value: unknown): value is new () => object {
  if (typeof value !== "function") return false;
  if (/^class[\s{]/.test(Function.prototype.toString.call(value))) return true;
  const proto = (value as { prototype?: unknown }).prototype;
  if (typeof proto !== "object" || proto === null) return false;
  if (Object.getPrototypeOf(proto) !== Object.prototype) return true;
  return Object.getOwnPropertyNames(proto).some((name) => name !== "constructor");
}
