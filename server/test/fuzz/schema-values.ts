import fc from 'fast-check';

// Values for the fuzz suite, derived from the JSON Schemas of the OpenAPI document: one plausible
// value per schema (so a mutation lands deep inside an otherwise valid request), and the hostile
// values a sloppy integrator or an attacker sends in its place.

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  default?: unknown;
  $ref?: string;
  additionalProperties?: boolean | JsonSchema;
}

export type Resolve = (schema: JsonSchema) => JsonSchema;

/** A resolver of `#/components/schemas/…` references in one document. */
export function resolverOf(components: Record<string, JsonSchema>): Resolve {
  return (schema) => {
    let current = schema;
    for (let guard = 0; current.$ref && guard < 20; guard++) {
      const name = current.$ref.replace(/^#\/components\/schemas\//, '');
      current = components[name] ?? {};
    }
    return current;
  };
}

const SAMPLE_BY_FORMAT: Record<string, string> = {
  email: 'fuzz@example.com',
  uuid: '00000000-0000-4000-8000-000000000000',
  'date-time': '2026-01-01T10:00:00.000Z',
  date: '2026-01-01',
  time: '10:00',
  uri: 'https://example.com/hook',
  url: 'https://example.com/hook',
};

/** A plausible value of the schema: what a careful client would send (valid where it can be). */
export function sampleOf(schema: JsonSchema, resolve: Resolve, depth = 0): unknown {
  const s = resolve(schema);
  if (depth > 8) return null;
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  if (s.default !== undefined) return s.default;
  const options = s.anyOf ?? s.oneOf;
  if (options?.length) {
    const nonNull = options.find((option) => resolve(option).type !== 'null') ?? options[0]!;
    return sampleOf(nonNull, resolve, depth + 1);
  }
  if (s.allOf?.length) return sampleOf(s.allOf[0]!, resolve, depth + 1);
  const type = Array.isArray(s.type) ? (s.type.find((t) => t !== 'null') ?? s.type[0]) : s.type;
  switch (type) {
    case 'object': {
      const value: Record<string, unknown> = {};
      for (const name of s.required ?? []) {
        const property = s.properties?.[name];
        if (property) value[name] = sampleOf(property, resolve, depth + 1);
      }
      return value;
    }
    case 'array':
      return s.minItems && s.items ? [sampleOf(s.items, resolve, depth + 1)] : [];
    case 'string': {
      if (s.format && SAMPLE_BY_FORMAT[s.format]) return SAMPLE_BY_FORMAT[s.format];
      return 'fuzz'.padEnd(Math.max(s.minLength ?? 1, 1), 'z').slice(0, s.maxLength ?? 200);
    }
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return 'fuzz';
  }
}

/** Deeply nested arrays: a parser or a validator that recurses must not fall over. */
function nested(levels: number): unknown {
  let value: unknown = 'deep';
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

/** What arrives in place of a field: wrong types, boundary lengths and numbers, NUL, surrogates. */
export function hostileValue(schema: JsonSchema | undefined, resolve: Resolve): fc.Arbitrary<unknown> {
  const s = schema ? resolve(schema) : {};
  const maxLength = s.maxLength ?? 200;
  return fc.oneof(
    fc.constantFrom<unknown>(
      null,
      true,
      0,
      -1,
      1.5,
      1e20,
      -1e20,
      Number.MAX_SAFE_INTEGER + 2,
      '',
      ' ',
      '\u0000',
      'a\u0000b',
      '\ud800',
      'x\udfffy',
      '\u202e\u200b',
      'x'.repeat(maxLength + 1),
      'x'.repeat(100_000),
      'not-a-uuid',
      '00000000-0000-0000-0000-000000000000',
      '1e20',
      '-1',
      '../../etc/passwd',
      '<script>alert(1)</script>',
      "' or 1=1 --",
      [],
      [null],
      {},
      { __proto__: { polluted: true } },
      JSON.parse('{"__proto__": {"polluted": true}}'),
      { constructor: { prototype: { polluted: true } } },
      nested(200),
    ),
    fc.string({ maxLength: 50, unit: 'binary' }),
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.anything({ maxDepth: 3, maxKeys: 4 }),
  );
}

/**
 * Every path to a value inside a request body, with the schema that describes it: the sample's
 * own fields and the optional ones it leaves out (down to a few levels), so a hostile value can
 * land deep inside, e.g. in a line's queue members.
 */
export function pathsOf(
  value: unknown,
  schema: JsonSchema,
  resolve: Resolve,
  prefix: (string | number)[] = [],
): { path: (string | number)[]; schema: JsonSchema | undefined }[] {
  const s = resolve(schema);
  const out: { path: (string | number)[]; schema: JsonSchema | undefined }[] = [];
  if (prefix.length > 5) return out;
  const objectLike =
    s.properties ?? (value && typeof value === 'object' && !Array.isArray(value) ? {} : null);
  if (objectLike) {
    const own =
      value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
    for (const name of new Set([...Object.keys(objectLike), ...Object.keys(own)])) {
      const child = objectLike[name];
      out.push({ path: [...prefix, name], schema: child });
      if (child)
        out.push(...pathsOf(own[name] ?? sampleOf(child, resolve), child, resolve, [...prefix, name]));
    }
  } else if (s.items) {
    out.push({ path: [...prefix, 0], schema: s.items });
    const first = Array.isArray(value) && value[0] !== undefined ? value[0] : sampleOf(s.items, resolve);
    out.push(...pathsOf(first, s.items, resolve, [...prefix, 0]));
  } else {
    const options = s.anyOf ?? s.oneOf;
    const object = options?.map(resolve).find((option) => option.properties || option.items);
    if (object) out.push(...pathsOf(value, object, resolve, prefix));
  }
  return out;
}

/** A copy of `value` with the value at `path` replaced (created where missing) or removed. */
export function withAt(
  value: unknown,
  path: (string | number)[],
  replacement: unknown,
  remove = false,
): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  const base = (
    value && typeof value === 'object' ? (Array.isArray(value) ? [...value] : { ...value }) : {}
  ) as Record<string | number, unknown>;
  if (rest.length === 0 && remove) {
    delete base[head];
    return base;
  }
  base[head] = withAt(base[head], rest, replacement, remove);
  return base;
}

/** Every path to a value inside a plain JSON value (for payloads without a schema: a platform's). */
export function pathsIn(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (!value || typeof value !== 'object') return [];
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...pathsIn(child, [...prefix, key])]);
}
