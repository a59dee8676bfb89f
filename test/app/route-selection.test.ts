// biome-ignore-all lint/suspicious/noTemplateCurlyInString: AWS expressions use ${...} literally
import { describe, expect, it } from "vitest";
import {
  compileRouteSelection,
  parseRouteSelectionExpression,
  RouteSelectionSyntaxError,
} from "../../src/app/route-selection.js";

const select = (expression: string, body: unknown) => compileRouteSelection(expression)(body);

describe("route selection", () => {
  it("selects a top-level field", () => {
    expect(select("$request.body.action", { action: "send" })).toBe("send");
  });

  it("selects a nested field", () => {
    expect(select("$request.body.message.type", { message: { type: "chat" } })).toBe("chat");
  });

  it("follows bracket paths", () => {
    const body = { "my key": { items: ["a", "b"] } };
    expect(select("$request.body['my key'].items[1]", body)).toBe("b");
    expect(select('$request.body["my key"].items[0]', body)).toBe("a");
  });

  it("joins ${...} parts with static text", () => {
    const expression = "${request.body.service}/${request.body.action}";
    expect(select(expression, { service: "chat", action: "join" })).toBe("chat/join");
    expect(select(expression, { action: "join" })).toBe("/join");
  });

  it("reads \\$default as literal text", () => {
    expect(select("\\$default", { action: "send" })).toBe("$default");
  });

  it("returns static text as is", () => {
    expect(select("always", { action: "send" })).toBe("always");
  });

  it("selects an empty string for a missing path", () => {
    expect(select("$request.body.action", {})).toBe("");
    expect(select("$request.body.message.type", { message: "text" })).toBe("");
    expect(select("$request.body.action", { action: null })).toBe("");
  });

  it("stringifies arrays, objects, numbers and booleans as API Gateway does", () => {
    expect(select("$request.body.action", { action: ["a", "b"] })).toBe("[a, b]");
    expect(select("$request.body.action", { action: { k: "v", n: 1 } })).toBe("{k=v, n=1}");
    expect(select("$request.body.action", { action: 42 })).toBe("42");
    expect(select("$request.body.action", { action: true })).toBe("true");
    expect(select("$request.body.a.b", { a: { b: false } })).toBe("false");
  });

  it("selects an empty string for a path that walks into a string, number or boolean", () => {
    // JSON strings have no members: not "4" (what JavaScript's "text".length would give).
    expect(select("$request.body.message.length", { message: "text" })).toBe("");
    expect(select("$request.body.message[0]", { message: "text" })).toBe("");
    expect(select("$request.body.n.toFixed", { n: 5 })).toBe("");
    expect(select("$request.body.flag.valueOf", { flag: true })).toBe("");
    expect(select("${request.body.message.length}/x", { message: "text" })).toBe("/x");
  });

  it("selects only the body's own members, never what JavaScript objects inherit", () => {
    expect(select("$request.body.constructor", {})).toBe("");
    expect(select("$request.body.toString", { action: "a" })).toBe("");
    expect(select("$request.body.a.hasOwnProperty", { a: {} })).toBe("");
    expect(select("$request.body.__proto__", {})).toBe("");
    expect(select("$request.body.items.length", { items: ["a", "b"] })).toBe("");
    expect(select("$request.body.items[1]", { items: ["a", "b"] })).toBe("b");
    expect(select("$request.body['0']", { "0": "zero" })).toBe("zero");
  });

  it("selects an empty string when the body is not a JSON object", () => {
    expect(select("$request.body.action", undefined)).toBe("");
    expect(select("$request.body.action", "hello")).toBe("");
    expect(select("$request.body.message.type", undefined)).toBe("");
    expect(select("${request.body.service}/${request.body.action}", undefined)).toBe("/");
  });

  it.each([
    ["${request.body.action", 0, "unclosed '${'"],
    ["$request.header.x", 0, "WebSocket route selection supports only $request.body.<path>"],
    ["$request.body", 13, "expected a path after $request.body"],
    ["${request.body}", 14, "expected a path after $request.body"],
    ["${request.body.}", 15, "expected a field name after '.'"],
    ["${context.routeKey}", 2, "expected request.body inside ${...}"],
    ["", 0, "empty expression"],
  ])("rejects %j", (expression, index, message) => {
    let error: unknown;
    try {
      parseRouteSelectionExpression(expression);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RouteSelectionSyntaxError);
    expect(error).toMatchObject({ expression, index });
    expect((error as Error).message).toBe(
      `${message} at character ${index + 1} of ${JSON.stringify(expression)}`,
    );
  });
});
