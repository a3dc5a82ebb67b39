import { describe, expect, it } from 'vitest';
import { changedKeys, MAX_AUDIT_KEYS, shortKeyList } from './audit';

describe('changedKeys', () => {
  const cases: [string, unknown, unknown, string[]][] = [
    ['nothing changed', { a: 1, b: { c: 'x' } }, { a: 1, b: { c: 'x' } }, []],
    ['a top-level value', { name: 'A' }, { name: 'B' }, ['name']],
    [
      'a nested leaf',
      { agreement: { text: 'v1', required: true } },
      { agreement: { text: 'v2', required: true } },
      ['agreement.text'],
    ],
    ['a key added', { a: 1 }, { a: 1, b: 2 }, ['b']],
    ['a key removed', { a: 1, b: 2 }, { a: 1 }, ['b']],
    ['an array changed is one key', { queue: ['u1', 'u2'] }, { queue: ['u2', 'u1'] }, ['queue']],
    ['an array unchanged', { queue: ['u1'] }, { queue: ['u1'] }, []],
    ['an object replaced by a value', { x: { y: 1 } }, { x: null }, ['x']],
    ['several, sorted', { b: 1, a: { z: 1, y: 1 } }, { b: 2, a: { z: 2, y: 2 } }, ['a.y', 'a.z', 'b']],
    ['whole values', 1, 2, ['(value)']],
  ];
  it.each(cases)('%s', (_name, before, after, expected) => {
    expect(changedKeys(before, after)).toEqual(expected);
  });

  it('never returns the values themselves', () => {
    const keys = changedKeys({ secret: 'old-secret-value' }, { secret: 'new-secret-value' });
    expect(JSON.stringify(keys)).not.toContain('secret-value');
  });
});

describe('shortKeyList', () => {
  it('keeps short lists and cuts long ones with a marker', () => {
    expect(shortKeyList(['a', 'b'])).toEqual(['a', 'b']);
    const long = Array.from({ length: MAX_AUDIT_KEYS + 5 }, (_, i) => `k${i}`);
    const cut = shortKeyList(long);
    expect(cut).toHaveLength(MAX_AUDIT_KEYS);
    expect(cut.at(-1)).toBe('…');
  });
});
