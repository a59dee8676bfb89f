import { Compile, parse } from "velocityjs";
import type { WebSocketEvent } from "../runtime/events.js";
import { evaluateJsonPath } from "./json-path.js";

/**
 * The variables API Gateway gives a WebSocket mapping template: `$input` (the payload being
 * mapped), `$context` (the request context), `$util` (escaping and encoding helpers) and
 * `$stageVariables`. See docs/fidelity.md ("Integrations") for the choices where AWS is silent.
 */
export interface VtlVariables {
  input: VtlInput;
  context: Record<string, unknown>;
  util: typeof UTIL;
  stageVariables: Record<string, string>;
}

export interface VtlInput {
  /** The raw payload (the frame on the request side, the backend's answer on the response side). */
  body: string;
  /** The JSON text of what a JSONPath selects (`""` when it selects nothing). */
  json(path: string): string;
  /** What a JSONPath selects, as a value the template can walk (`$input.path('$').items.size()`). */
  path(path: string): unknown;
  /** `$input.params()`: every request parameter; `$input.params(name)`: path, query, then header. */
  params(name?: string): unknown;
}

/** `$input` over a payload, parsed once on first use. */
export function vtlInput(body: string, event: WebSocketEvent): VtlInput {
  let parsed: { value: unknown } | undefined;
  const value = () => {
    if (!parsed) {
      try {
        parsed = { value: JSON.parse(body) };
      } catch {
        // Not JSON: `$` is the text itself, and every deeper path selects nothing.
        parsed = { value: body };
      }
    }
    return parsed.value;
  };
  const header = event.headers ?? {};
  const querystring = event.queryStringParameters ?? {};
  return {
    body,
    json: (path) => {
      const selected = evaluateJsonPath(value(), String(path));
      return selected === undefined ? "" : JSON.stringify(selected);
    },
    path: (path) => evaluateJsonPath(value(), String(path)) ?? "",
    params: (name) => {
      if (name === undefined) return { path: {}, querystring, header };
      const key = String(name);
      if (Object.hasOwn(querystring, key)) return querystring[key];
      const lower = key.toLowerCase();
      for (const [h, v] of Object.entries(header)) if (h.toLowerCase() === lower) return v;
      return "";
    },
  };
}

/** `$context`: the request context the Lambda event carries, plus `error` as templates read it. */
export function vtlContext(event: WebSocketEvent): Record<string, unknown> {
  const rc = event.requestContext as unknown as Record<string, unknown>;
  const authorizer = rc.authorizer as Record<string, unknown> | undefined;
  return {
    ...rc,
    // `$context.authorizer.x` is the stringified value (docs: "numKey" → "1").
    authorizer: authorizer
      ? Object.fromEntries(Object.entries(authorizer).map(([k, v]) => [k, stringified(v)]))
      : {},
    error: { message: "", messageString: '""', validationErrorString: "" },
  };
}

function stringified(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * `$util`, as API Gateway documents it. `escapeJavaScript` follows Java's
 * `StringEscapeUtils.escapeJavaScript` (what API Gateway runs): quotes, backslash, slash and
 * control characters escaped; non-ASCII as `\uXXXX`.
 */
const UTIL = Object.freeze({
  escapeJavaScript: (value: unknown): string =>
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it escapes
    String(value ?? "").replace(/["'\\/\u0000-\u001f\u007f-\uffff]/g, (ch) => {
      switch (ch) {
        case '"':
          return '\\"';
        case "'":
          return "\\'";
        case "\\":
          return "\\\\";
        case "/":
          return "\\/";
        case "\n":
          return "\\n";
        case "\r":
          return "\\r";
        case "\t":
          return "\\t";
        case "\b":
          return "\\b";
        case "\f":
          return "\\f";
        default:
          return `\\u${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
      }
    }),
  parseJson: (value: unknown): unknown => JSON.parse(String(value)),
  // application/x-www-form-urlencoded, as Java's URLEncoder (space → `+`).
  urlEncode: (value: unknown): string =>
    new URLSearchParams({ v: String(value ?? "") }).toString().slice(2),
  urlDecode: (value: unknown): string =>
    new URLSearchParams(`v=${String(value ?? "")}`).get("v") ?? "",
  base64Encode: (value: unknown): string => Buffer.from(String(value ?? "")).toString("base64"),
  base64Decode: (value: unknown): string =>
    Buffer.from(String(value ?? ""), "base64").toString("utf8"),
});

/** The variables of one template evaluation. */
export function vtlVariables(body: string, event: WebSocketEvent): VtlVariables {
  return {
    input: vtlInput(body, event),
    context: vtlContext(event),
    // A copy per render: velocityjs writes into the objects it is given (`eval`).
    util: { ...UTIL },
    stageVariables: { ...event.stageVariables },
  };
}

/** Compiled templates by text (templates come from the app, so the set is small; bounded anyway). */
const compiled = new Map<string, Compile>();
const MAX_COMPILED = 1024;

/**
 * Render a VTL mapping template with velocityjs. Throws when the template does not parse or
 * fails while rendering: the caller answers as AWS answers a failing integration.
 */
export function renderTemplate(template: string, variables: VtlVariables): string {
  let compiledTemplate = compiled.get(template);
  if (!compiledTemplate) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiledTemplate = new Compile(parse(template), { escape: false });
    compiled.set(template, compiledTemplate);
  }
  return compiledTemplate.render(variables as unknown as Record<string, unknown>);
}
