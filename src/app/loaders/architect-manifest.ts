import { describeValue } from "../describe-value.js";
import type { DocumentPath, Position } from "../issue-location.js";
import { isRecord } from "./app-draft.js";
import type { SourceIssues } from "./source-issues.js";

export type ArcValue = string | number | boolean;

/** One item of a pragma: `chat`, `timeout 10`, or a map (`custom-src` with `src lib/custom` under it). */
export interface ArcItem {
  name: string;
  values: ArcValue[];
  /** Indented settings under the item. */
  settings: Map<string, ArcValue[]>;
  /** Where the settings are written (the item itself in `.arc`, `{ name: {...} }` in JSON). */
  settingsAt?: DocumentPath;
  /** Where it is written: a path (JSON/YAML forms), and a position (`.arc` text). */
  at: DocumentPath;
  position?: Position;
}

/** An Architect manifest: pragma name (without `@`) → its items. */
export type ArcManifest = Map<string, { at: DocumentPath; position?: Position; items: ArcItem[] }>;

/**
 * Parse `.arc` text: `@pragma` lines, items (first word the name, the rest values), indented
 * settings under an item, `#` comments. Only what Switchboard reads needs to be exact.
 *
 * @example
 * ```ts
 * parseArc("@app\nchat\n@ws\njoin\n").get("ws")?.items[0]?.name; // "join"
 * ```
 */
export function parseArc(text: string): ArcManifest {
  const manifest: ArcManifest = new Map();
  let pragma: { at: DocumentPath; position?: Position; items: ArcItem[] } | undefined;
  let pragmaName = "";
  let item: ArcItem | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/(^|\s)#.*$/, "").trimEnd();
    if (line.trim() === "") return;
    const indent = line.length - line.trimStart().length;
    const words = line.trim().split(/\s+/);
    const [first = "", ...rest] = words;
    const position = { line: index + 1, column: indent + 1 };
    if (indent === 0 && first.startsWith("@")) {
      pragmaName = first.slice(1);
      pragma = manifest.get(pragmaName) ?? { at: [pragmaName], position, items: [] };
      manifest.set(pragmaName, pragma);
      item = undefined;
      return;
    }
    if (!pragma) return;
    if (indent > 0 && item) {
      item.settings.set(first, rest.map(arcValue));
      return;
    }
    item = {
      name: first,
      values: rest.map(arcValue),
      settings: new Map(),
      at: [pragmaName, first],
      position,
    };
    pragma.items.push(item);
  });
  return manifest;
}

function arcValue(word: string): ArcValue {
  if (word === "true" || word === "false") return word === "true";
  if (/^-?\d+(\.\d+)?$/.test(word)) return Number(word);
  return word;
}

/**
 * The same manifest from its JSON or YAML form (`arc.json`, `arc.yaml`, `package.json#arc`):
 * `{ "app": "name", "ws": ["chat", { "custom": { "src": "lib/custom" } }], "aws": { "timeout": 10 } }`.
 * `base` is where the manifest sits in the document (`["arc"]` in package.json).
 */
export function manifestFromData(
  data: unknown,
  base: DocumentPath,
  issues: SourceIssues,
): ArcManifest {
  const manifest: ArcManifest = new Map();
  if (!isRecord(data)) {
    issues.add(base, "an Architect manifest object (app, ws, ...)", describeValue(data));
    return manifest;
  }
  for (const [pragma, value] of Object.entries(data)) {
    const at = [...base, pragma];
    const items: ArcItem[] = [];
    const settingsOf = (settings: unknown, settingsAt: DocumentPath): Map<string, ArcValue[]> => {
      const map = new Map<string, ArcValue[]>();
      if (isRecord(settings)) {
        for (const [key, item] of Object.entries(settings)) map.set(key, toValues(item));
      } else if (settings !== undefined && settings !== null) {
        issues.add(settingsAt, "an object of settings (src, ...)", describeValue(settings));
      }
      return map;
    };
    if (Array.isArray(value)) {
      value.forEach((entry, index) => {
        const entryAt = [...at, index];
        if (typeof entry === "string" || typeof entry === "number" || typeof entry === "boolean") {
          items.push({ name: String(entry), values: [], settings: new Map(), at: entryAt });
        } else if (Array.isArray(entry) && entry.length > 0) {
          items.push({
            name: String(entry[0]),
            values: toValues(entry.slice(1)),
            settings: new Map(),
            at: entryAt,
          });
        } else if (isRecord(entry) && Object.keys(entry).length === 1) {
          const [name, settings] = Object.entries(entry)[0] as [string, unknown];
          const settingsAt = [...entryAt, name];
          items.push({
            name,
            values: [],
            settings: settingsOf(settings, settingsAt),
            at: entryAt,
            settingsAt,
          });
        } else {
          issues.add(
            entryAt,
            "a name, [name, values...] or { name: { settings } }",
            describeValue(entry),
          );
        }
      });
    } else if (isRecord(value)) {
      for (const [name, entry] of Object.entries(value)) {
        if (isRecord(entry)) {
          items.push({
            name,
            values: [],
            settings: settingsOf(entry, [...at, name]),
            at: [...at, name],
          });
        } else
          items.push({ name, values: toValues(entry), settings: new Map(), at: [...at, name] });
      }
    } else if (typeof value === "string" || typeof value === "number") {
      items.push({ name: String(value), values: [], settings: new Map(), at });
    } else if (value !== null && value !== undefined) {
      issues.add(at, "a list or an object", describeValue(value));
    }
    manifest.set(pragma, { at, items });
  }
  return manifest;
}

function toValues(value: unknown): ArcValue[] {
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list.filter((v): v is ArcValue => ["string", "number", "boolean"].includes(typeof v));
}
