import { Pair, Scalar, type Tags, YAMLMap } from "yaml";
import { describeValue, quote } from "../describe-value.js";
import type { DocumentPath } from "../issue-location.js";
import { isRecord } from "./app-draft.js";
import type { SourceIssues } from "./source-issues.js";

const FUNCTIONS: Record<string, string> = {
  Ref: "Ref",
  Sub: "Fn::Sub",
  GetAtt: "Fn::GetAtt",
  Join: "Fn::Join",
  Select: "Fn::Select",
  Split: "Fn::Split",
  If: "Fn::If",
  Equals: "Fn::Equals",
  Not: "Fn::Not",
  And: "Fn::And",
  Or: "Fn::Or",
  FindInMap: "Fn::FindInMap",
  Base64: "Fn::Base64",
  ImportValue: "Fn::ImportValue",
  GetAZs: "Fn::GetAZs",
  Cidr: "Fn::Cidr",
  Condition: "Condition",
};

/**
 * CloudFormation's short-form YAML tags (`!Ref X`, `!Sub '...'`, `!GetAtt A.Arn`, `!Join [...]`)
 * as their long forms (`{ Ref: X }`, `{ "Fn::Sub": ... }`), for the `yaml` package.
 * Collections keep their nodes, so issues inside them still have line numbers.
 */
export const CLOUDFORMATION_TAGS: Tags = Object.entries(FUNCTIONS).flatMap(([name, key]) => [
  { tag: `!${name}`, resolve: (text: string) => ({ [key]: text }) },
  ...(["seq", "map"] as const).map((collection) => ({
    tag: `!${name}`,
    collection,
    resolve: (node: unknown) => {
      const wrapper = new YAMLMap();
      const keyNode = new Scalar(key);
      keyNode.range = (node as { range?: [number, number, number] }).range;
      wrapper.items.push(new Pair(keyNode, node));
      return wrapper;
    },
  })),
]) as Tags;

/** A resource's `Ref` or attribute, kept symbolic inside resolved strings. */
export interface ResourceRef {
  id: string;
  attribute?: string;
}

const MARK_OPEN = "\u27ea";
const MARK_CLOSE = "\u27eb";
const MARKER = /\u27ea([^\u27eb.]+)(?:\.([^\u27eb]+))?\u27eb/g;

function marker(ref: ResourceRef): string {
  return `${MARK_OPEN}${ref.id}${ref.attribute ? `.${ref.attribute}` : ""}${MARK_CLOSE}`;
}

/**
 * The resources a resolved string refers to (`!Ref Fn`, `!GetAtt Fn.Arn`, `${Fn.Arn}` in a
 * `!Sub`), in order.
 *
 * @example
 * ```ts
 * resourceRefsIn(resolver.resolve({ "Fn::GetAtt": ["Chat", "Arn"] }, at)); // [{ id: "Chat", attribute: "Arn" }]
 * ```
 */
export function resourceRefsIn(value: unknown): ResourceRef[] {
  if (typeof value !== "string") return [];
  return [...value.matchAll(MARKER)].map((m) => ({
    id: m[1] as string,
    ...(m[2] ? { attribute: m[2] } : {}),
  }));
}

/** Replace every resource reference in a resolved string with a concrete local value. */
export function replaceResourceRefs(value: string, local: (ref: ResourceRef) => string): string {
  return value.replace(MARKER, (_m, id: string, attribute: string | undefined) =>
    local({ id, ...(attribute ? { attribute } : {}) }),
  );
}

export interface IntrinsicContext {
  /** Template `Parameters` (their `Default`s are the values). */
  parameters: Record<string, unknown>;
  resources: Record<string, unknown>;
  mappings?: Record<string, unknown>;
  conditions?: Record<string, unknown>;
  region: string;
  accountId: string;
  stackName: string;
  issues: SourceIssues;
  /** Where `Parameters` sits in the document (for parameters without a default). */
  parametersAt?: DocumentPath;
}

const NO_VALUE = Symbol("AWS::NoValue");
const UNRESOLVED = Symbol("unresolved");
const UNSUPPORTED =
  "Ref, Fn::Sub, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split, Fn::If, Fn::FindInMap or Fn::Base64";

/**
 * Resolves CloudFormation intrinsic functions the way a deployment would, for the values a
 * local run needs (handlers, environment, route wiring). Parameters take their defaults;
 * resources stay symbolic (see {@link resourceRefsIn}). Each problem is reported once at the
 * path of the value that has it.
 */
export class IntrinsicResolver {
  readonly #context: IntrinsicContext;
  readonly #conditionCache = new Map<string, boolean>();

  constructor(context: IntrinsicContext) {
    this.#context = context;
  }

  /** The resolved value, or `undefined` (with an issue) when it cannot be resolved. */
  resolve(value: unknown, at: DocumentPath): unknown {
    const result = this.#resolve(value, at);
    return result === NO_VALUE || result === UNRESOLVED ? undefined : result;
  }

  /** A resolved string, or `undefined` with an issue naming what was expected. */
  string(value: unknown, at: DocumentPath, expected = "a string"): string | undefined {
    const result = this.#resolve(value, at);
    if (result === UNRESOLVED || result === NO_VALUE) return undefined;
    if (typeof result === "number" || typeof result === "boolean") return String(result);
    if (typeof result !== "string") {
      this.#context.issues.add(at, expected, describeValue(result));
      return undefined;
    }
    return result;
  }

  #resolve(value: unknown, at: DocumentPath): unknown {
    // Every item is resolved even after one fails, so that one run reports every problem.
    let failed = false;
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      for (const [index, item] of value.entries()) {
        const resolved = this.#resolve(item, [...at, index]);
        if (resolved === UNRESOLVED) failed = true;
        else if (resolved !== NO_VALUE) out.push(resolved);
      }
      return failed ? UNRESOLVED : out;
    }
    if (!isRecord(value)) return value;
    const keys = Object.keys(value);
    const [fn] = keys;
    if (keys.length === 1 && fn !== undefined && (fn === "Ref" || fn.startsWith("Fn::"))) {
      return this.#call(fn, value[fn], [...at, fn]);
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const resolved = this.#resolve(item, [...at, key]);
      if (resolved === UNRESOLVED) failed = true;
      else if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return failed ? UNRESOLVED : out;
  }

  #fail(at: DocumentPath, expected: string, found: string): typeof UNRESOLVED {
    this.#context.issues.add(at, expected, found);
    return UNRESOLVED;
  }

  #call(fn: string, arg: unknown, at: DocumentPath): unknown {
    switch (fn) {
      case "Ref":
        return typeof arg === "string"
          ? this.#name(arg, at, false)
          : this.#fail(at, "the name of a parameter or resource", describeValue(arg));
      case "Fn::GetAtt": {
        const parts =
          typeof arg === "string" ? splitOnce(arg, ".") : Array.isArray(arg) ? arg : undefined;
        const [id, attribute] = parts ?? [];
        if (typeof id !== "string" || typeof attribute !== "string") {
          return this.#fail(
            at,
            '[resource, attribute] or "Resource.Attribute"',
            describeValue(arg),
          );
        }
        if (!Object.hasOwn(this.#context.resources, id)) {
          return this.#fail(at, "the name of a resource in this template", quote(id));
        }
        return marker({ id, attribute });
      }
      case "Fn::Sub":
        return this.#sub(arg, at);
      case "Fn::Join": {
        if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== "string") {
          return this.#fail(at, "[delimiter, [values]]", describeValue(arg));
        }
        const list = this.#resolve(arg[1], [...at, 1]);
        if (list === UNRESOLVED) return UNRESOLVED;
        if (!Array.isArray(list) || !list.every((item) => isScalarValue(item))) {
          return this.#fail([...at, 1], "a list of strings", describeValue(list));
        }
        return list.map(String).join(arg[0]);
      }
      case "Fn::Select": {
        if (!Array.isArray(arg) || arg.length !== 2)
          return this.#fail(at, "[index, [values]]", describeValue(arg));
        const index = Number(this.#resolve(arg[0], [...at, 0]));
        const list = this.#resolve(arg[1], [...at, 1]);
        if (list === UNRESOLVED) return UNRESOLVED;
        if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
          return this.#fail(at, "an index inside the list", describeValue(arg[0]));
        }
        return list[index];
      }
      case "Fn::Split": {
        if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== "string") {
          return this.#fail(at, "[delimiter, string]", describeValue(arg));
        }
        const text = this.#resolve(arg[1], [...at, 1]);
        if (text === UNRESOLVED) return UNRESOLVED;
        if (typeof text !== "string")
          return this.#fail([...at, 1], "a string", describeValue(text));
        return text.split(arg[0]);
      }
      case "Fn::If": {
        if (!Array.isArray(arg) || arg.length !== 3 || typeof arg[0] !== "string") {
          return this.#fail(at, "[condition, value if true, value if false]", describeValue(arg));
        }
        const holds = this.#condition(arg[0], [...at, 0]);
        if (holds === undefined) return UNRESOLVED;
        return this.#resolve(holds ? arg[1] : arg[2], [...at, holds ? 1 : 2]);
      }
      case "Fn::FindInMap": {
        if (!Array.isArray(arg) || arg.length < 3) {
          return this.#fail(at, "[map, top-level key, second-level key]", describeValue(arg));
        }
        const keys = arg.slice(0, 3).map((item, index) => this.#resolve(item, [...at, index]));
        if (keys.includes(UNRESOLVED)) return UNRESOLVED;
        const [map, top, second] = keys.map(String) as [string, string, string];
        const found = (
          this.#context.mappings?.[map] as Record<string, Record<string, unknown>> | undefined
        )?.[top]?.[second];
        if (found === undefined) {
          return this.#fail(at, "a key path present in Mappings", quote(`${map}.${top}.${second}`));
        }
        return found;
      }
      case "Fn::Base64": {
        const text = this.#resolve(arg, [...at]);
        if (text === UNRESOLVED) return UNRESOLVED;
        return Buffer.from(String(text)).toString("base64");
      }
      default:
        return this.#fail(
          at,
          `an intrinsic function Switchboard resolves locally (${UNSUPPORTED})`,
          fn,
        );
    }
  }

  /** What `Ref Name` or `${Name}` stands for. */
  #name(name: string, at: DocumentPath, inSub: boolean): unknown {
    const { parameters, resources } = this.#context;
    const pseudo = this.#pseudo(name);
    if (pseudo !== undefined) return pseudo;
    if (Object.hasOwn(parameters, name)) {
      const parameter = parameters[name];
      const fallback = isRecord(parameter) ? parameter.Default : undefined;
      if (fallback === undefined) {
        return this.#fail(
          at,
          `a Default for parameter ${name} (a local run has no parameter overrides)`,
          "none",
        );
      }
      const type = isRecord(parameter) ? parameter.Type : undefined;
      if (
        !inSub &&
        typeof type === "string" &&
        type.includes("List") &&
        typeof fallback === "string"
      ) {
        return fallback.split(",").map((item) => item.trim());
      }
      return fallback;
    }
    if (Object.hasOwn(resources, name)) return marker({ id: name });
    return this.#fail(
      at,
      "the name of a parameter, pseudo parameter or resource in this template",
      quote(name),
    );
  }

  #pseudo(name: string): unknown {
    const { region, accountId, stackName } = this.#context;
    switch (name) {
      case "AWS::Region":
        return region;
      case "AWS::AccountId":
        return accountId;
      case "AWS::StackName":
        return stackName;
      case "AWS::StackId":
        return `arn:aws:cloudformation:${region}:${accountId}:stack/${stackName}/local`;
      case "AWS::Partition":
        return "aws";
      case "AWS::URLSuffix":
        return "amazonaws.com";
      case "AWS::NotificationARNs":
        return [];
      case "AWS::NoValue":
        return NO_VALUE;
      default:
        return undefined;
    }
  }

  #sub(arg: unknown, at: DocumentPath): unknown {
    let template: unknown = arg;
    let variables: Record<string, unknown> = {};
    if (Array.isArray(arg)) {
      [template] = arg;
      const given = arg[1];
      if (arg.length !== 2 || !isRecord(given)) {
        return this.#fail(at, "a string or [string, { variables }]", describeValue(arg));
      }
      const resolved = this.#resolve(given, [...at, 1]);
      if (resolved === UNRESOLVED) return UNRESOLVED;
      variables = resolved as Record<string, unknown>;
    }
    if (typeof template !== "string")
      return this.#fail(at, "a string to substitute into", describeValue(template));
    const textAt = Array.isArray(arg) ? [...at, 0] : at;
    let failed = false;
    const text = template.replace(/\$\{([^}]*)\}/g, (whole, inner: string) => {
      if (inner.startsWith("!")) return `\${${inner.slice(1)}}`;
      const name = inner.trim();
      if (Object.hasOwn(variables, name)) return String(variables[name]);
      const [id, attribute] = splitOnce(name, ".") ?? [name];
      if (attribute !== undefined && !name.startsWith("AWS::")) {
        if (!Object.hasOwn(this.#context.resources, id)) {
          failed = true;
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, shown to the user
          this.#fail(textAt, "a resource of this template in ${Resource.Attribute}", quote(whole));
          return whole;
        }
        return marker({ id, attribute });
      }
      const value = this.#name(name, textAt, true);
      if (value === UNRESOLVED) {
        failed = true;
        return whole;
      }
      return value === NO_VALUE ? "" : String(value);
    });
    return failed ? UNRESOLVED : text;
  }

  #condition(name: string, at: DocumentPath): boolean | undefined {
    const cached = this.#conditionCache.get(name);
    if (cached !== undefined) return cached;
    const definition = this.#context.conditions?.[name];
    if (definition === undefined) {
      this.#fail(at, "the name of a condition in Conditions", quote(name));
      return undefined;
    }
    const holds = this.#evaluate(definition, ["Conditions", name]);
    if (holds !== undefined) this.#conditionCache.set(name, holds);
    return holds;
  }

  #evaluate(value: unknown, at: DocumentPath): boolean | undefined {
    if (typeof value === "boolean") return value;
    if (!isRecord(value)) {
      this.#fail(
        at,
        "a condition (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition)",
        describeValue(value),
      );
      return undefined;
    }
    const [fn] = Object.keys(value);
    const arg = fn === undefined ? undefined : value[fn];
    const list = Array.isArray(arg) ? arg : [];
    switch (fn) {
      case "Fn::Equals": {
        const [a, b] = list.map((item, index) => this.#resolve(item, [...at, fn, index]));
        if (a === UNRESOLVED || b === UNRESOLVED) return undefined;
        return String(a) === String(b);
      }
      case "Fn::Not": {
        const inner = this.#evaluate(list[0], [...at, fn, 0]);
        return inner === undefined ? undefined : !inner;
      }
      case "Fn::And":
      case "Fn::Or": {
        const results = list.map((item, index) => this.#evaluate(item, [...at, fn, index]));
        if (results.includes(undefined)) return undefined;
        return fn === "Fn::And" ? results.every(Boolean) : results.some(Boolean);
      }
      case "Condition":
        return typeof arg === "string" ? this.#condition(arg, [...at, fn]) : undefined;
      default:
        this.#fail(
          at,
          "a condition (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition)",
          describeValue(value),
        );
        return undefined;
    }
  }
}

function splitOnce(text: string, separator: string): [string, string] | undefined {
  const index = text.indexOf(separator);
  return index < 0 ? undefined : [text.slice(0, index), text.slice(index + 1)];
}

function isScalarValue(value: unknown): boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

/** Names a local run gives deployed things (the dev gateway's API id, the stack name, ...). */
export interface LocalNames {
  region: string;
  accountId: string;
  stackName: string;
  /** The id the gateway reports as `requestContext.apiId` for this app. */
  apiId: string;
}

/**
 * A concrete value for a resource reference inside an environment variable, as the deployed
 * stack would give it: a table's name, a function's name or ARN, the WebSocket API's id (the
 * one the dev gateway puts in events). Other resources give their logical id.
 *
 * @example
 * ```ts
 * localResourceValue({ id: "Connections" }, { Type: "AWS::DynamoDB::Table", Properties: { TableName: "conns" } }, names, name);
 * // "conns"
 * ```
 */
export function localResourceValue(
  ref: ResourceRef,
  resource: unknown,
  names: LocalNames,
  /** A resolved name property of the resource (`TableName`, `FunctionName`), if it has one. */
  nameProperty: (property: string) => string | undefined,
): string {
  const { region, accountId, stackName, apiId } = names;
  const type = isRecord(resource) ? resource.Type : undefined;
  const { id, attribute } = ref;
  switch (type) {
    case "AWS::ApiGatewayV2::Api":
      if (attribute === "ApiEndpoint") return `wss://${apiId}.execute-api.${region}.amazonaws.com`;
      return apiId;
    case "AWS::DynamoDB::Table":
    case "AWS::Serverless::SimpleTable": {
      const table = nameProperty("TableName") ?? `${stackName}-${id}`;
      if (attribute === "Arn") return `arn:aws:dynamodb:${region}:${accountId}:table/${table}`;
      if (attribute === "StreamArn")
        return `arn:aws:dynamodb:${region}:${accountId}:table/${table}/stream/local`;
      return table;
    }
    case "AWS::Lambda::Function":
    case "AWS::Serverless::Function": {
      const fn = nameProperty("FunctionName") ?? `${stackName}-${id}`;
      return attribute === "Arn" ? `arn:aws:lambda:${region}:${accountId}:function:${fn}` : fn;
    }
    default:
      if (attribute === undefined) return id;
      return attribute === "Arn"
        ? `arn:aws:local:${region}:${accountId}:${id}`
        : `${id}.${attribute}`;
  }
}
