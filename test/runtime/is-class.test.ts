import { describe, expect, it } from "vitest";
import { describeValue } from "../../src/app/describe-value.js";
import { isClass } from "../../src/runtime/is-class.js";
import { methodHandler } from "../../src/runtime/websocket-function.js";

// ES5 output of `class Base { hello() {} }` and `class Sub extends Base {}` (no own methods).
function Base(this: { name: string }) {
  this.name = "base";
}
Base.prototype.hello = function (this: { name: string }) {
  return `hello from ${this.name}`;
};
function Sub(this: { name: string }) {
  Base.call(this);
}
Sub.prototype = Object.create(Base.prototype, { constructor: { value: Sub } });

describe("isClass: one definition for validation and the runtime", () => {
  it("takes ES classes and classes compiled to ES5 (own or inherited prototype methods)", () => {
    expect(isClass(class {})).toBe(true);
    expect(isClass(class Chat extends Object {})).toBe(true);
    expect(isClass(Base)).toBe(true);
    expect(isClass(Sub)).toBe(true);
  });

  it("does not take plain, arrow, async or bound functions, nor non-functions", () => {
    expect(isClass(function handler() {})).toBe(false);
    expect(isClass(() => {})).toBe(false);
    expect(isClass(async () => {})).toBe(false);
    expect(isClass(async function handler() {})).toBe(false);
    expect(isClass(function handler() {}.bind(null))).toBe(false);
    expect(isClass({ hello() {} })).toBe(false);
    expect(isClass(null)).toBe(false);
  });

  it("the method handler instantiates what validation called a class", async () => {
    expect(describeValue(Sub)).toBe("class Sub");
    const run = methodHandler(Sub, "hello") as (e: unknown, c: unknown) => Promise<unknown>;
    expect(await run({}, {})).toBe("hello from base");
  });
});
