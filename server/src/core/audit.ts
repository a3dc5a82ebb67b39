/**
 * What an audit entry says about a settings change: the dotted NAMES of the leaves that differ
 * between the old and the new value, never the values themselves (a secret, an agreement text or a
 * welcome message must not reach the audit log). Arrays are compared whole and named as one key.
 */
export function changedKeys(before: unknown, after: unknown, prefix = ''): string[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return names.flatMap((name) =>
      changedKeys(before[name], after[name], prefix ? `${prefix}.${name}` : name),
    );
  }
  if (isPlainObject(before) !== isPlainObject(after) || !sameValue(before, after)) {
    return [prefix || '(value)'];
  }
  return [];
}

/** At most this many keys are kept per entry: the log is a short diff, not a copy. */
export const MAX_AUDIT_KEYS = 50;

export function shortKeyList(keys: readonly string[]): string[] {
  return keys.length <= MAX_AUDIT_KEYS ? [...keys] : [...keys.slice(0, MAX_AUDIT_KEYS - 1), '…'];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b) || isPlainObject(a) || isPlainObject(b)) {
    return JSON.stringify(a) === JSON.stringify(b);
  }
  return Object.is(a, b);
}
