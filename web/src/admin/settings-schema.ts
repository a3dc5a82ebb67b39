import { LineSettingsSchema } from '@openlines/contract';

// Forms generated from a settings schema: a line's (contract/src/line-settings.ts) and a channel
// kind's (each connector's, served by GET /channel-kinds). Every field gets a control chosen by its
// type, so a field added to the schema shows up without new UI. A few structured fields (queue
// members, weekly schedules, per-channel texts, user lists) have editors of their own.
//
// Schemas are read as plain JSON Schema, so one that came over the wire (without TypeBox's symbols)
// is described exactly like the same schema in memory.

/** The parts of a JSON Schema (as TypeBox writes it) that choose a control. */
export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  items?: Schema;
  const?: unknown;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  maxItems?: number;
  format?: string;
  pattern?: string;
  writeOnly?: boolean;
}

export type CustomKind =
  | 'queueMembers'
  | 'schedule'
  | 'perChannelKind'
  | 'userList'
  | 'stringList'
  | 'botPicker'
  | 'userPicker';

/** How a text field is typed: plain, a link, a secret never shown again, or a colour. */
export type TextInput = 'text' | 'url' | 'password' | 'color';

export type FieldSpec =
  | { kind: 'group'; path: string; key: string; children: FieldSpec[] }
  | { kind: 'boolean'; path: string; key: string }
  | { kind: 'integer'; path: string; key: string; min?: number; max?: number; seconds: boolean }
  | { kind: 'enum'; path: string; key: string; options: string[] }
  | {
      kind: 'text';
      path: string;
      key: string;
      maxLength?: number;
      multiline: boolean;
      nullable: boolean;
      input: TextInput;
    }
  | { kind: 'multiEnum'; path: string; key: string; options: string[] }
  /** Free strings typed one per line; `required` sends an empty list rather than leaving it out. */
  | { kind: 'list'; path: string; key: string; required: boolean }
  | { kind: 'custom'; path: string; key: string; custom: CustomKind; maxItems?: number };

export interface DescribeOptions {
  /** Fields (by path) that get an editor of their own. */
  custom?: Readonly<Record<string, CustomKind>>;
  /** Property names that are not settings a person edits. */
  hidden?: ReadonlySet<string>;
}

/** The line settings' own editors. */
const LINE_CUSTOM: Record<string, CustomKind> = {
  'queue.members': 'queueMembers',
  'workingHours.weekly': 'schedule',
  'workingHours.widget.custom': 'schedule',
  'workingHours.holidays': 'stringList',
  'automaticActions.perChannelKind': 'perChannelKind',
  'kpi.firstAnswer.recipients': 'userList',
  'kpi.furtherAnswer.recipients': 'userList',
  'bot.welcomeBot.botId': 'botPicker',
  'automaticActions.noAnswer.botId': 'botPicker',
  'crm.responsibleUserId': 'userPicker',
};

/** Fields of the line settings that are not settings a person edits. */
const LINE_HIDDEN: ReadonlySet<string> = new Set(['version']);

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

/** A colour as `#rrggbb`: the pattern the widget's accent colour is checked with. */
const COLOR_PATTERN = '^#[0-9a-fA-F]{6}$';

const isObject = (schema: Schema): boolean => schema.type === 'object' && schema.properties !== undefined;
const isString = (schema: Schema): boolean => schema.type === 'string' && schema.const === undefined;

function literalValues(schema: Schema | undefined): string[] | null {
  if (!schema?.anyOf) return null;
  const values: string[] = [];
  for (const branch of schema.anyOf) {
    if (typeof branch.const !== 'string') return null;
    values.push(branch.const);
  }
  return values;
}

function nullableString(schema: Schema): Schema | null {
  if (schema.anyOf?.length !== 2) return null;
  const [a, b] = schema.anyOf as [Schema, Schema];
  if (isString(a) && b.type === 'null') return a;
  if (a.type === 'null' && isString(b)) return b;
  return null;
}

function textInput(schema: Schema): TextInput {
  if (schema.writeOnly) return 'password';
  if (schema.format === 'uri') return 'url';
  if (schema.pattern === COLOR_PATTERN) return 'color';
  return 'text';
}

/** One field's control, chosen from its schema. */
export function describeField(
  schema: Schema,
  path: string,
  options: DescribeOptions = {},
  required = false,
): FieldSpec {
  const key = path.split('.').at(-1) ?? path;
  const custom = options.custom?.[path];
  if (custom) {
    const maxItems = schema.type === 'array' ? schema.maxItems : undefined;
    return { kind: 'custom', path, key, custom, ...(maxItems !== undefined ? { maxItems } : {}) };
  }
  if (isObject(schema)) {
    const own = new Set(schema.required ?? []);
    return {
      kind: 'group',
      path,
      key,
      children: Object.entries(schema.properties ?? {})
        .filter(([name]) => !options.hidden?.has(name))
        .map(([name, child]) =>
          describeField(child, path ? `${path}.${name}` : name, options, own.has(name)),
        ),
    };
  }
  if (schema.type === 'boolean') return { kind: 'boolean', path, key };
  if (schema.type === 'integer' || schema.type === 'number') {
    return {
      kind: 'integer',
      path,
      key,
      ...(schema.minimum !== undefined ? { min: schema.minimum } : {}),
      ...(schema.maximum !== undefined ? { max: schema.maximum } : {}),
      seconds: /Seconds$/.test(key),
    };
  }
  const enumOptions = literalValues(schema);
  if (enumOptions) return { kind: 'enum', path, key, options: enumOptions };
  const nullable = nullableString(schema);
  const text = nullable ?? (isString(schema) ? schema : null);
  if (text) {
    const input = textInput(text);
    return {
      kind: 'text',
      path,
      key,
      ...(text.maxLength !== undefined ? { maxLength: text.maxLength } : {}),
      multiline: input === 'text' && (text.maxLength ?? 0) > 200,
      nullable: nullable !== null,
      input,
    };
  }
  if (schema.type === 'array') {
    const items = literalValues(schema.items);
    if (items) return { kind: 'multiEnum', path, key, options: items };
    if (schema.items && isString(schema.items)) return { kind: 'list', path, key, required };
  }
  throw new Error(`No form control for the settings field ${path}`);
}

/** How the line settings form is described: its own editors, and the fields nobody edits. */
export const LINE_SETTINGS_FORM: DescribeOptions = { custom: LINE_CUSTOM, hidden: LINE_HIDDEN };

/** One section of the line settings form. */
export function describeSection(section: SectionId): FieldSpec {
  return describeField(LineSettingsSchema.properties[section], section, LINE_SETTINGS_FORM);
}

/**
 * The controls for the given fields of an object schema, in that order (a form that shows some
 * fields of a schema, such as a channel kind's). Throws when a field is not in the schema.
 */
export function describeFields(schema: Schema, paths: readonly string[]): FieldSpec[] {
  return paths.map((path) => {
    let parent = schema;
    const parts = path.split('.');
    for (const part of parts.slice(0, -1)) {
      const next = parent.properties?.[part];
      if (!next) throw new Error(`No settings field ${path}`);
      parent = next;
    }
    const name = parts.at(-1)!;
    const own = parent.properties?.[name];
    if (!own) throw new Error(`No settings field ${path}`);
    return describeField(own, path, {}, parent.required?.includes(name) === true);
  });
}

/**
 * The settings a form of some fields sends (the channel form): only those fields, text trimmed,
 * lists split by line or comma; an empty field is left out, so the server keeps its default, except
 * a required list, which goes as it is for the server to say what is missing.
 */
export function collectSettings(specs: readonly FieldSpec[], draft: unknown): Record<string, unknown> {
  let settings: Record<string, unknown> = {};
  for (const spec of specs) {
    const value = getAt(draft, spec.path);
    if (spec.kind === 'list') {
      const raw = Array.isArray(value) ? value.join('\n') : typeof value === 'string' ? value : '';
      const items = raw
        .split(/[\n,]/)
        .map((item) => item.trim())
        .filter(Boolean);
      if (items.length > 0 || spec.required) settings = setAt(settings, spec.path, items);
    } else if (typeof value === 'string') {
      if (value.trim() !== '') settings = setAt(settings, spec.path, value.trim());
    } else if (value !== undefined && value !== null) {
      settings = setAt(settings, spec.path, value);
    }
  }
  return settings;
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
export function settingsPatch(schema: Schema, before: unknown, after: unknown): unknown {
  if (isObject(schema) && isRecord(before) && isRecord(after)) {
    const patch: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      if (LINE_HIDDEN.has(key)) continue;
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
