import { KindGuard, type TSchema } from '@sinclair/typebox';

// Forms generated from the line settings schema (contract/src/line-settings.ts): every field of the
// model gets a control chosen by its type, so a field added to the schema shows up without new UI.
// A few structured fields (queue members, weekly schedules, per-channel texts, user lists) have
// editors of their own.

export type CustomKind = 'queueMembers' | 'schedule' | 'perChannelKind' | 'userList' | 'stringList';

export type FieldSpec =
  | { kind: 'group'; path: string; key: string; children: FieldSpec[] }
  | { kind: 'boolean'; path: string; key: string }
  | { kind: 'integer'; path: string; key: string; min?: number; max?: number; seconds: boolean }
  | { kind: 'enum'; path: string; key: string; options: string[] }
  | { kind: 'text'; path: string; key: string; maxLength?: number; multiline: boolean; nullable: boolean }
  | { kind: 'multiEnum'; path: string; key: string; options: string[] }
  | { kind: 'custom'; path: string; key: string; custom: CustomKind; maxItems?: number };

const CUSTOM: Record<string, CustomKind> = {
  'queue.members': 'queueMembers',
  'workingHours.weekly': 'schedule',
  'workingHours.widget.custom': 'schedule',
  'workingHours.holidays': 'stringList',
  'automaticActions.perChannelKind': 'perChannelKind',
  'kpi.firstAnswer.recipients': 'userList',
  'kpi.furtherAnswer.recipients': 'userList',
};

/** Fields that are not settings a person edits. */
const HIDDEN = new Set(['version']);

/** The settings sections in SPEC order (§2 queue … §9 other, with §12 CRM). */
export const SECTIONS = [
  'queue',
  'workingHours',
  'agreement',
  'automaticActions',
  'rating',
  'bot',
  'kpi',
  'crm',
  'other',
] as const;
export type SectionId = (typeof SECTIONS)[number];

function literalValues(schema: TSchema): string[] | null {
  if (!KindGuard.IsUnion(schema)) return null;
  const values: string[] = [];
  for (const branch of schema.anyOf) {
    if (!KindGuard.IsLiteral(branch) || typeof branch.const !== 'string') return null;
    values.push(branch.const);
  }
  return values;
}

function nullableString(schema: TSchema): TSchema | null {
  if (!KindGuard.IsUnion(schema) || schema.anyOf.length !== 2) return null;
  const [a, b] = schema.anyOf;
  if (KindGuard.IsString(a) && KindGuard.IsNull(b)) return a;
  if (KindGuard.IsNull(a) && KindGuard.IsString(b)) return b;
  return null;
}

/** One field's control, chosen from its schema. */
export function describeField(schema: TSchema, path: string): FieldSpec {
  const key = path.split('.').at(-1) ?? path;
  const custom = CUSTOM[path];
  if (custom) {
    const maxItems = KindGuard.IsArray(schema) ? schema.maxItems : undefined;
    return { kind: 'custom', path, key, custom, ...(maxItems !== undefined ? { maxItems } : {}) };
  }
  if (KindGuard.IsObject(schema)) {
    return {
      kind: 'group',
      path,
      key,
      children: Object.entries(schema.properties)
        .filter(([name]) => !HIDDEN.has(name))
        .map(([name, child]) => describeField(child, path ? `${path}.${name}` : name)),
    };
  }
  if (KindGuard.IsBoolean(schema)) return { kind: 'boolean', path, key };
  if (KindGuard.IsInteger(schema) || KindGuard.IsNumber(schema)) {
    return {
      kind: 'integer',
      path,
      key,
      ...(schema.minimum !== undefined ? { min: schema.minimum } : {}),
      ...(schema.maximum !== undefined ? { max: schema.maximum } : {}),
      seconds: /Seconds$/.test(key),
    };
  }
  const options = literalValues(schema);
  if (options) return { kind: 'enum', path, key, options };
  const nullable = nullableString(schema);
  const text = nullable ?? (KindGuard.IsString(schema) ? schema : null);
  if (text && KindGuard.IsString(text)) {
    return {
      kind: 'text',
      path,
      key,
      ...(text.maxLength !== undefined ? { maxLength: text.maxLength } : {}),
      multiline: (text.maxLength ?? 0) > 200,
      nullable: nullable !== null,
    };
  }
  if (KindGuard.IsArray(schema)) {
    const items = literalValues(schema.items);
    if (items) return { kind: 'multiEnum', path, key, options: items };
    return { kind: 'custom', path, key, custom: 'stringList' };
  }
  throw new Error(`No form control for the settings field ${path}`);
}

/** Every leaf field path (for label coverage checks). */
export function leafPaths(spec: FieldSpec): string[] {
  return spec.kind === 'group' ? spec.children.flatMap(leafPaths) : [spec.path];
}

/** Every group path (fieldsets get a legend). */
export function groupPaths(spec: FieldSpec): string[] {
  return spec.kind === 'group' ? [spec.path, ...spec.children.flatMap(groupPaths)] : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function getAt(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.')) {
    if (!isRecord(current)) return undefined;
    current = current[part];
  }
  return current;
}

/** A copy of `value` with `path` set; the objects on the way are copied, the rest is shared. */
export function setAt<T>(value: T, path: string, next: unknown): T {
  const [head, ...rest] = path.split('.');
  const base: Record<string, unknown> = isRecord(value) ? value : {};
  return {
    ...base,
    [head!]: rest.length === 0 ? next : setAt(base[head!], rest.join('.'), next),
  } as T;
}

/**
 * What changed, as a PATCH body for the settings: objects are compared field by field, arrays and
 * maps (records) are sent whole when they differ — the server replaces them wholesale.
 */
export function settingsPatch(schema: TSchema, before: unknown, after: unknown): unknown {
  if (KindGuard.IsObject(schema) && isRecord(before) && isRecord(after)) {
    const patch: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(schema.properties)) {
      if (HIDDEN.has(key)) continue;
      const changed = settingsPatch(child, before[key], after[key]);
      if (changed !== undefined) patch[key] = changed;
    }
    return Object.keys(patch).length > 0 ? patch : undefined;
  }
  return JSON.stringify(before) === JSON.stringify(after) ? undefined : after;
}

/**
 * The server's messages for one control: its own path, and for structured editors everything
 * below it, prefixed with the part of the path inside (`mon.1.to: Must be later than 'from'`).
 */
export function errorsFor(errors: Record<string, string[]>, path: string, includeNested: boolean): string[] {
  const result: string[] = [...(errors[path] ?? [])];
  if (includeNested) {
    for (const [field, messages] of Object.entries(errors)) {
      if (field.startsWith(`${path}.`)) {
        const inner = field.slice(path.length + 1);
        for (const message of messages) result.push(`${inner}: ${message}`);
      }
    }
  }
  return result;
}

/** Which section a server error belongs to (`queue.maxChat` → queue), for the section tabs. */
export function sectionOf(field: string): SectionId | null {
  const head = field.split('.')[0];
  return (SECTIONS as readonly string[]).includes(head ?? '') ? (head as SectionId) : null;
}
