import { describe, expect, it } from 'vitest';
import { HIT_END as E, MAX_SEARCH_WORDS, prefixQuery, HIT_START as S, splitHeadline } from './search';

describe('prefixQuery', () => {
  it.each([
    ['заказ', "'заказ':*"],
    ['Заказы  ДОСТ', "'заказы':* & 'дост':*"],
    ["o'neil & | ! <-> :* (x)", "'o':* & 'neil':* & 'x':*"],
    ['+7 999 123', "'7':* & '999':* & '123':*"],
    ['   ', null],
    ['!!! ---', null],
    ['', null],
  ])('%j → %j', (typed, expected) => {
    expect(prefixQuery(typed)).toBe(expected);
  });

  it(`keeps at most ${MAX_SEARCH_WORDS} words`, () => {
    const query = prefixQuery(Array.from({ length: 20 }, (_, i) => `w${i}`).join(' '));
    expect(query?.split(' & ')).toHaveLength(MAX_SEARCH_WORDS);
  });
});

describe('splitHeadline', () => {
  it.each([
    ['no hit at all', [{ text: 'no hit at all', hit: false }]],
    [
      `my ${S}order${E} is late`,
      [
        { text: 'my ', hit: false },
        { text: 'order', hit: true },
        { text: ' is late', hit: false },
      ],
    ],
    [`${S}a${E}${S}b${E}`, [{ text: 'ab', hit: true }]],
    [`${S}${E}x`, [{ text: 'x', hit: false }]],
    [
      `open ${S}end`,
      [
        { text: 'open ', hit: false },
        { text: 'end', hit: true },
      ],
    ],
    ['', []],
  ])('%j', (headline, expected) => {
    expect(splitHeadline(headline)).toEqual(expected);
  });
});
