import { createRequire } from "node:module";
import { problemList, SwitchboardError } from "../errors.js";

// The parts of `@aws-cdk/service-spec-types` read here, declared locally: that package comes in
// through `@aws-cdk/aws-service-spec` and is not a dependency of ours.
type PropertyType =
  | { type: "string"; allowedValues?: string[] }
  | { type: "integer"; allowedValues?: number[] }
  | { type: "number" | "boolean" | "json" | "date-time" | "null" | "tag" }
  | { type: "ref"; reference: { $ref: string } }
  | { type: "array" | "map"; element: PropertyType }
  | { type: "union"; types: PropertyType[] };

interface Property {
  type: PropertyType;
  previousTypes?: PropertyType[];
  required?: boolean;
}

interface Resource {
  cloudFormationType: string;
  properties: Record<string, Property>;
  attributes: Record<string, unknown>;
}

interface TypeDefinition {
  name: string;
  properties: Record<string, Property>;
}

interface SpecDatabase {
  lookup(
    collection: "resource",
    index: "cloudFormationType",
    how: "equals",
    value: string,
  ): Resource[];
  get(collection: "typeDefinition", reference: { $ref: string }): TypeDefinition;
}

/** One problem in a template: where (`Resources.SendRoute.Properties.RouteKey`) and what. */
export interface TemplateIssue {
  path: string;
  message: string;
}

/** A template that does not match the CloudFormation resource specification. */
export class TemplateValidationError extends SwitchboardError {
  readonly issues: TemplateIssue[];
  constructor(issues: TemplateIssue[]) {
    super(
      "SB_ERR_TEMPLATE",
      problemList(
        "the CloudFormation template",
        issues.map((issue) => `${issue.path}: ${issue.message}`),
      ),
    );
    this.name = "TemplateValidationError";
    this.issues = issues;
  }
}

let database: SpecDatabase | undefined;

/**
 * The CloudFormation resource database of `@aws-cdk/aws-service-spec` (the AWS CDK team's
 * build of the CloudFormation registry schemas, published weekly). Loaded once (~1 s).
 */
function spec(): SpecDatabase {
  if (!database) {
    const require = createRequire(import.meta.url);
    const { loadAwsServiceSpecSync } = require("@aws-cdk/aws-service-spec") as {
      loadAwsServiceSpecSync: () => SpecDatabase;
    };
    database = loadAwsServiceSpecSync();
  }
  return database;
}

const PSEUDO_PARAMETERS = new Set([
  "AWS::AccountId",
  "AWS::NotificationARNs",
  "AWS::NoValue",
  "AWS::Partition",
  "AWS::Region",
  "AWS::StackId",
  "AWS::StackName",
  "AWS::URLSuffix",
]);

const RESOURCE_KEYS = new Set([
  "Type",
  "Properties",
  "DependsOn",
  "DeletionPolicy",
  "UpdateReplacePolicy",
  "Condition",
  "Metadata",
  "CreationPolicy",
  "UpdatePolicy",
]);

/** Intrinsic functions and what they produce; `any` may stand for a scalar or a list. */
const INTRINSICS: Record<string, "scalar" | "list" | "any"> = {
  Ref: "any",
  "Fn::GetAtt": "any",
  "Fn::Sub": "scalar",
  "Fn::Join": "scalar",
  "Fn::Select": "any",
  "Fn::Base64": "scalar",
  "Fn::ImportValue": "any",
  "Fn::FindInMap": "any",
  "Fn::If": "any",
  "Fn::GetAZs": "list",
  "Fn::Split": "list",
  "Fn::Cidr": "list",
  "Fn::Length": "scalar",
  "Fn::ToJsonString": "scalar",
};

interface Context {
  db: SpecDatabase;
  template: Record<string, unknown>;
  resources: Record<string, unknown>;
  parameters: Record<string, unknown>;
  issues: TemplateIssue[];
}

/**
 * Check a template against the CloudFormation resource specification: every resource type
 * exists, required properties are present, no property is unknown, values have the declared
 * type (string, integer, number, boolean, list, map, nested structure, allowed values), and
 * intrinsic functions are well formed and point at parameters, resources and attributes that
 * exist. Returns the problems found (none for a valid template).
 *
 * @example
 * ```ts
 * const issues = checkTemplate(template);
 * // [{ path: "Resources.SendRoute.Properties.RouteKy", message: "unknown property of AWS::ApiGatewayV2::Route (did you mean RouteKey?)" }]
 * ```
 */
export function checkTemplate(template: unknown): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  if (!isObject(template)) return [{ path: "(root)", message: "expected an object" }];
  const resources = isObject(template.Resources) ? template.Resources : {};
  const parameters = isObject(template.Parameters) ? template.Parameters : {};
  const ctx: Context = { db: spec(), template, resources, parameters, issues };
  if (!isObject(template.Resources) || Object.keys(resources).length === 0) {
    issues.push({ path: "Resources", message: "expected at least one resource" });
  }
  for (const [id, resource] of Object.entries(resources)) {
    checkResource(ctx, id, resource);
  }
  if (isObject(template.Outputs)) {
    for (const [name, output] of Object.entries(template.Outputs)) {
      if (!isObject(output) || !("Value" in output)) {
        issues.push({ path: `Outputs.${name}`, message: "expected an object with a Value" });
        continue;
      }
      checkValue(ctx, `Outputs.${name}.Value`, output.Value, { type: "string" });
    }
  }
  return issues;
}

/**
 * {@link checkTemplate}, throwing a {@link TemplateValidationError} listing every problem.
 *
 * @example
 * ```ts
 * validateTemplate(compileTemplate(app, keys)); // throws if the compiler produced something invalid
 * ```
 */
export function validateTemplate(template: unknown): void {
  const issues = checkTemplate(template);
  if (issues.length > 0) throw new TemplateValidationError(issues);
}

function checkResource(ctx: Context, id: string, resource: unknown): void {
  const at = `Resources.${id}`;
  if (!/^[A-Za-z0-9]+$/.test(id)) {
    ctx.issues.push({ path: at, message: "logical ids must be alphanumeric" });
  }
  if (!isObject(resource)) {
    ctx.issues.push({ path: at, message: "expected an object with Type and Properties" });
    return;
  }
  for (const key of Object.keys(resource)) {
    if (!RESOURCE_KEYS.has(key)) {
      ctx.issues.push({
        path: `${at}.${key}`,
        message: `unknown resource attribute${suggest(key, RESOURCE_KEYS)}`,
      });
    }
  }
  if (resource.DependsOn !== undefined) {
    const list = Array.isArray(resource.DependsOn) ? resource.DependsOn : [resource.DependsOn];
    for (const dependency of list) {
      if (typeof dependency !== "string" || !(dependency in ctx.resources)) {
        ctx.issues.push({
          path: `${at}.DependsOn`,
          message: `no resource ${JSON.stringify(dependency)}`,
        });
      }
    }
  }
  if (typeof resource.Type !== "string") {
    ctx.issues.push({ path: `${at}.Type`, message: "expected a resource type name" });
    return;
  }
  // Custom resources (`Custom::<Name>`, AWS::CloudFormation::CustomResource): any properties,
  // as CloudFormation hands them to the provider, and a required ServiceToken.
  if (resource.Type.startsWith("Custom::")) {
    const properties = isObject(resource.Properties) ? resource.Properties : {};
    if (!("ServiceToken" in properties)) {
      ctx.issues.push({
        path: `${at}.Properties`,
        message: `missing required property ServiceToken of ${resource.Type}`,
      });
    }
    for (const [name, value] of Object.entries(properties)) {
      checkValue(
        ctx,
        `${at}.Properties.${name}`,
        value,
        name === "ServiceToken" ? { type: "string" } : { type: "json" },
      );
    }
    return;
  }
  const type = lookupResource(ctx.db, resource.Type);
  if (!type) {
    ctx.issues.push({ path: `${at}.Type`, message: `unknown resource type ${resource.Type}` });
    return;
  }
  const properties = resource.Properties === undefined ? {} : resource.Properties;
  if (!isObject(properties)) {
    ctx.issues.push({ path: `${at}.Properties`, message: "expected an object" });
    return;
  }
  checkProperties(ctx, `${at}.Properties`, properties, type.properties, type.cloudFormationType);
}

function checkProperties(
  ctx: Context,
  at: string,
  value: Record<string, unknown>,
  declared: Record<string, Property>,
  owner: string,
): void {
  for (const [name, property] of Object.entries(declared)) {
    if (property.required && !(name in value)) {
      ctx.issues.push({ path: at, message: `missing required property ${name} of ${owner}` });
    }
  }
  for (const [name, child] of Object.entries(value)) {
    const property = declared[name];
    if (!property) {
      ctx.issues.push({
        path: `${at}.${name}`,
        message: `unknown property of ${owner}${suggest(name, Object.keys(declared))}`,
      });
      continue;
    }
    checkValue(ctx, `${at}.${name}`, child, property.type, property.previousTypes);
  }
}

function checkValue(
  ctx: Context,
  at: string,
  value: unknown,
  type: PropertyType,
  previousTypes: PropertyType[] = [],
): void {
  // A value may match the current type or, as CloudFormation still accepts, an earlier one.
  const candidates = [type, ...previousTypes];
  let best: TemplateIssue[] | undefined;
  for (const candidate of candidates) {
    const found: TemplateIssue[] = [];
    checkAgainst({ ...ctx, issues: found }, at, value, candidate);
    if (found.length === 0) return;
    best ??= found;
  }
  ctx.issues.push(...(best ?? []));
}

function checkAgainst(ctx: Context, at: string, value: unknown, type: PropertyType): void {
  const intrinsic = intrinsicName(value);
  if (intrinsic) {
    checkIntrinsic(ctx, at, intrinsic, (value as Record<string, unknown>)[intrinsic]);
    const produces = INTRINSICS[intrinsic];
    const wantsList = type.type === "array";
    if (produces === "list" && !wantsList && type.type !== "json" && type.type !== "union") {
      ctx.issues.push({
        path: at,
        message: `${intrinsic} returns a list, expected ${describeType(ctx, type)}`,
      });
    }
    if (produces === "scalar" && wantsList) {
      ctx.issues.push({
        path: at,
        message: `${intrinsic} returns a string, expected ${describeType(ctx, type)}`,
      });
    }
    return;
  }
  const wrong = (): void => {
    ctx.issues.push({
      path: at,
      message: `expected ${describeType(ctx, type)}, found ${describeValue(value)}`,
    });
  };
  switch (type.type) {
    case "string":
    case "date-time":
      if (typeof value !== "string") {
        wrong();
        return;
      }
      if (type.type === "string" && type.allowedValues && !type.allowedValues.includes(value)) {
        ctx.issues.push({
          path: at,
          message: `expected one of ${type.allowedValues.join(", ")}, found ${JSON.stringify(value)}`,
        });
      }
      return;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) {
        wrong();
        return;
      }
      if (type.allowedValues && !type.allowedValues.includes(value)) {
        ctx.issues.push({
          path: at,
          message: `expected one of ${type.allowedValues.join(", ")}, found ${value}`,
        });
      }
      return;
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) wrong();
      return;
    case "boolean":
      if (typeof value !== "boolean") wrong();
      return;
    case "null":
      if (value !== null) wrong();
      return;
    case "json":
      if (!isObject(value) && !Array.isArray(value) && typeof value !== "string") {
        wrong();
        return;
      }
      checkNestedIntrinsics(ctx, at, value);
      return;
    case "tag":
      if (!isObject(value)) {
        wrong();
        return;
      }
      checkProperties(
        ctx,
        at,
        value,
        {
          Key: { type: { type: "string" }, required: true },
          Value: { type: { type: "string" }, required: true },
        },
        "Tag",
      );
      return;
    case "array":
      if (!Array.isArray(value)) {
        wrong();
        return;
      }
      for (const [index, element] of value.entries())
        checkValue(ctx, `${at}[${index}]`, element, type.element);
      return;
    case "map":
      if (!isObject(value)) {
        wrong();
        return;
      }
      for (const [key, element] of Object.entries(value))
        checkValue(ctx, `${at}.${key}`, element, type.element);
      return;
    case "ref": {
      if (!isObject(value)) {
        wrong();
        return;
      }
      const definition = ctx.db.get("typeDefinition", type.reference);
      checkProperties(ctx, at, value, definition.properties, definition.name);
      return;
    }
    case "union": {
      const structured = type.types.filter((member) => member.type !== "json");
      for (const member of structured) {
        const found: TemplateIssue[] = [];
        checkAgainst({ ...ctx, issues: found }, at, value, member);
        if (found.length === 0) return;
      }
      // A value shaped like a structured member is held to it, even when the union also
      // admits free JSON (the registry schemas add `json` to many structured properties).
      const sameShape = structured.find((member) => hasShape(member, value));
      if (sameShape) {
        checkAgainst(ctx, at, value, sameShape);
        return;
      }
      if (
        type.types.some((member) => member.type === "json") &&
        (isObject(value) || Array.isArray(value))
      )
        return;
      wrong();
      return;
    }
  }
}

/** Inside free-form JSON (policies, route settings) only the intrinsics themselves are checked. */
function checkNestedIntrinsics(ctx: Context, at: string, value: unknown): void {
  const intrinsic = intrinsicName(value);
  if (intrinsic) {
    checkIntrinsic(ctx, at, intrinsic, (value as Record<string, unknown>)[intrinsic]);
    return;
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) checkNestedIntrinsics(ctx, `${at}[${i}]`, v);
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) checkNestedIntrinsics(ctx, `${at}.${k}`, v);
  }
}

function checkIntrinsic(ctx: Context, at: string, name: string, args: unknown): void {
  const here = `${at}.${name}`;
  const bad = (message: string): void => {
    ctx.issues.push({ path: here, message });
  };
  switch (name) {
    case "Ref":
      if (typeof args !== "string") {
        bad("expected the name of a parameter or resource");
        return;
      }
      if (!(args in ctx.resources) && !(args in ctx.parameters) && !PSEUDO_PARAMETERS.has(args)) {
        bad(`no parameter or resource ${JSON.stringify(args)}`);
      }
      return;
    case "Fn::GetAtt": {
      const parts = typeof args === "string" ? splitOnce(args, ".") : args;
      if (!Array.isArray(parts) || parts.length !== 2 || typeof parts[0] !== "string") {
        bad('expected ["LogicalId", "Attribute"]');
        return;
      }
      const [id, attribute] = parts as [string, unknown];
      if (typeof attribute !== "string") {
        checkNestedIntrinsics(ctx, here, attribute);
        return;
      }
      checkAttribute(ctx, here, id, attribute);
      return;
    }
    case "Fn::Sub": {
      const [text, vars] = Array.isArray(args) ? args : [args, {}];
      if (typeof text !== "string" || !isObject(vars)) {
        bad("expected a string or [string, {variables}]");
        return;
      }
      for (const v of Object.values(vars)) checkNestedIntrinsics(ctx, here, v);
      for (const match of text.matchAll(/\$\{([^}!][^}]*)\}/g)) {
        const variable = (match[1] as string).trim();
        if (variable in vars) continue;
        const [id, attribute] = splitOnce(variable, ".");
        if (
          attribute !== undefined &&
          !(id in ctx.parameters) &&
          !PSEUDO_PARAMETERS.has(variable)
        ) {
          checkAttribute(ctx, here, id, attribute);
        } else if (
          !(id in ctx.resources) &&
          !(id in ctx.parameters) &&
          !PSEUDO_PARAMETERS.has(variable)
        ) {
          bad(`\${${variable}} names no parameter, resource or pseudo parameter`);
        }
      }
      return;
    }
    case "Fn::Join":
      if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== "string") {
        bad('expected ["delimiter", [values]]');
        return;
      }
      checkNestedIntrinsics(ctx, here, args[1]);
      return;
    default:
      checkNestedIntrinsics(ctx, here, args);
  }
}

function checkAttribute(ctx: Context, at: string, id: string, attribute: string): void {
  const resource = ctx.resources[id];
  if (!isObject(resource)) {
    ctx.issues.push({ path: at, message: `no resource ${JSON.stringify(id)}` });
    return;
  }
  const type =
    typeof resource.Type === "string" ? lookupResource(ctx.db, resource.Type) : undefined;
  if (type && !(attribute in type.attributes)) {
    ctx.issues.push({
      path: at,
      message: `${type.cloudFormationType} has no attribute ${attribute}${suggest(attribute, Object.keys(type.attributes))}`,
    });
  }
}

function lookupResource(db: SpecDatabase, type: string): Resource | undefined {
  return db.lookup("resource", "cloudFormationType", "equals", type)[0];
}

function intrinsicName(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const key = keys[0] as string;
  return key in INTRINSICS || key.startsWith("Fn::") ? key : undefined;
}

/** Whether a value has the outer shape of a type (list, object, scalar kind). */
function hasShape(type: PropertyType, value: unknown): boolean {
  switch (type.type) {
    case "array":
      return Array.isArray(value);
    case "ref":
    case "map":
    case "tag":
      return isObject(value);
    case "integer":
    case "number":
      return typeof value === "number";
    case "string":
    case "date-time":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    default:
      return false;
  }
}

function describeType(ctx: Context, type: PropertyType): string {
  const noun = (t: PropertyType): string => {
    switch (t.type) {
      case "array":
        return `list of ${plural(t.element)}`;
      case "map":
        return `map of ${plural(t.element)}`;
      case "ref":
        return `${ctx.db.get("typeDefinition", t.reference).name} object`;
      case "union":
        return t.types.map(noun).join(" or ");
      case "json":
        return "JSON object";
      case "tag":
        return "tag {Key, Value}";
      default:
        return t.type;
    }
  };
  const plural = (t: PropertyType): string =>
    t.type === "ref" ? `${ctx.db.get("typeDefinition", t.reference).name} objects` : `${noun(t)}s`;
  const text = noun(type);
  return `${/^[aeiou]/i.test(text) ? "an" : "a"} ${text}`;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

function suggest(name: string, candidates: Iterable<string>): string {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean ${best}?)` : "";
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number;
      row[j] = Math.min(
        current + 1,
        (row[j - 1] as number) + 1,
        previous + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      previous = current;
    }
  }
  return row[b.length] as number;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const index = text.indexOf(separator);
  return index < 0 ? [text, undefined] : [text.slice(0, index), text.slice(index + 1)];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
