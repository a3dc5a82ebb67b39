/**
 * PostgreSQL cannot store every JavaScript string: a NUL character fails in text and jsonb, and an
 * unpaired UTF-16 surrogate fails in jsonb (JSON.stringify writes it as a lone `\ud800` escape).
 * The boundary decides once (http/app.ts): input that people or integrators send is refused with
 * the field named; what a channel platform delivers is repaired, since refusing it would only make
 * the platform send it again.
 */
const PATTERN = '\\u0000|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';
// Built from a string: the NUL in it is exactly what is looked for (a literal would trip the lint).
const UNSTORABLE = new RegExp(PATTERN);
const UNSTORABLE_ALL = new RegExp(PATTERN, 'g');

/** Deeper than any body we accept; a deeper value is left to the schema to refuse. */
const MAX_DEPTH = 64;

/** The path of the first string (value or key) in `value` that cannot be stored, or null. */
export function firstUnstorableText(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? path : null;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return null;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = firstUnstorableText(item, `${path}.${index}`, depth + 1);
      if (found) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    if (UNSTORABLE.test(key)) return `${path}.${key.replace(UNSTORABLE_ALL, '\ufffd')}`;
    const found = firstUnstorableText(item, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return null;
}

/** The same value with every unstorable character (in values and keys) replaced by U+FFFD. */
export function repairUnstorableText<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return value.replace(UNSTORABLE_ALL, '\ufffd') as T;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => repairUnstorableText(item, depth + 1)) as T;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key.replace(UNSTORABLE_ALL, '\ufffd'),
      repairUnstorableText(item, depth + 1),
    ]),
  ) as T;
}
