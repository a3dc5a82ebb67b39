import { describe, expect, it } from 'vitest';
import { firstUnstorableText, repairUnstorableText } from './storable-text';

describe('storable text', () => {
  it.each([
    ['plain text and emoji', { text: 'Привет 👋', n: 1 }, null],
    ['a NUL in a value', { text: 'a\u0000b' }, 'body.text'],
    ['a lone high surrogate', { items: ['ok', 'x\ud800'] }, 'body.items.1'],
    ['a lone low surrogate', { a: { b: '\udc00' } }, 'body.a.b'],
    ['a surrogate pair is fine', { text: '\ud83d\ude00' }, null],
    ['a NUL in a key', { 'a\u0000': 1 }, 'body.a\ufffd'],
    ['not a string at all', [1, true, null], null],
  ])('%s', (_name, value, expected) => {
    expect(firstUnstorableText(value, 'body')).toBe(expected);
  });

  it('repairs values and keys, and leaves everything else as it was', () => {
    expect(
      repairUnstorableText({
        text: 'a\u0000b',
        list: ['\ud800', '\ud83d\ude00'],
        n: 2,
        k: { 'x\u0000': null },
      }),
    ).toEqual({ text: 'a\ufffdb', list: ['\ufffd', '\ud83d\ude00'], n: 2, k: { 'x\ufffd': null } });
  });
});
