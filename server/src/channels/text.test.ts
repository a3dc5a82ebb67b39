import { describe, expect, it } from 'vitest';
import { optionKey, signatureOf, withNumberedOptions, withOptionsInText } from './text';
import type { OutboundMessage } from './types';

describe('options in channels without buttons', () => {
  it.each([
    [
      'a bot’s buttons, by position (ru)',
      'Выберите тему',
      ['Доставка', 'Цены'],
      'Выберите тему\n\n1. Доставка\n2. Цены',
    ],
    [
      'a bot’s buttons, by position (en)',
      'Pick one',
      ['Delivery', 'Prices'],
      'Pick one\n\n1. Delivery\n2. Prices',
    ],
    ['no text: the list alone', null, ['A'], '1. A'],
    ['no options: the text as it is', 'Hello', [], 'Hello'],
  ])('%s', (_name, text, titles, expected) => {
    const replies = titles.map((title) => ({ title, reply: title }));
    expect(withNumberedOptions(text, replies)).toBe(expected);
  });

  it('shows a reply that is a number with that number (the rating’s 1 and 0)', () => {
    const rating = [
      { title: '👍 Good', reply: '1' },
      { title: '👎 Bad', reply: '0' },
    ];
    expect(rating.map(optionKey)).toEqual(['1', '0']);
    expect(withNumberedOptions('Rate us', rating)).toBe('Rate us\n\n1. 👍 Good\n0. 👎 Bad');
  });

  it('moves the options into the text and drops them as buttons', () => {
    const message = {
      text: 'Pick',
      quickReplies: [{ title: 'A', reply: 'A' }],
    } as OutboundMessage;
    expect(withOptionsInText(message)).toEqual({ text: 'Pick\n\n1. A' });
  });

  it.each([
    ['operator', 'Anna', 'Anna'],
    ['bot', 'Помощник', 'Помощник'],
    ['system', 'Shop', null],
    ['operator', null, null],
  ] as const)('signs a message of a %s named %s with %s', (authorKind, authorName, expected) => {
    expect(signatureOf({ authorKind, authorName })).toBe(expected);
  });
});
