import { describe, expect, it } from 'vitest';
import { catalogues, LOCALES } from './catalogue';
import { fieldMessage } from './errors';
import { describeSeconds, formatDuration } from './format';
import { detectLocale, interpolate, makeTranslate } from './i18n';
import { quickQuery, searchQuickAnswers } from './quick-answers';
import { isInlineImage, safeUrl } from './safe-url';

describe('i18n', () => {
  it('chooses the saved language, else the browser’s, else English', () => {
    expect(detectLocale('ru', ['en-US'])).toBe('ru');
    expect(detectLocale(null, ['de-DE', 'ru-RU'])).toBe('ru');
    expect(detectLocale('xx', ['fr'])).toBe('en');
  });

  it('has every text in Russian, with the same placeholders', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, text] of Object.entries(catalogues.en)) {
      const ru = catalogues.ru[key as keyof typeof catalogues.en];
      expect(typeof ru, key).toBe('string');
      if (text !== '') expect(ru, key).not.toBe('');
      expect(placeholders(ru), key).toEqual(placeholders(text));
    }
    expect(LOCALES).toEqual(['en', 'ru']);
  });

  it('fills placeholders and leaves unknown ones', () => {
    expect(interpolate('{a} and {b}', { a: 1 })).toBe('1 and {b}');
    const members = '{n, plural, one {# участник} few {# участника} many {# участников} other {# участника}}';
    expect([1, 2, 5, 11, 21, 1.5].map((n) => interpolate(members, { n }, 'ru'))).toEqual([
      '1 участник',
      '2 участника',
      '5 участников',
      '11 участников',
      '21 участник',
      '1.5 участника',
    ]);
    expect([1, 2].map((n) => interpolate('{n, plural, one {# member} other {# members}}', { n }))).toEqual([
      '1 member',
      '2 members',
    ]);
    const t = makeTranslate('ru');
    expect(t('list.unread', { count: 3 })).toBe('Непрочитанных: 3');
    expect(t.has('status.queued')).toBe(true);
    expect(t.has('status.nope')).toBe(false);
  });
});

describe('formatting', () => {
  it('writes waiting times compactly', () => {
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(12 * 60_000)).toBe('12m');
    expect(formatDuration(3 * 3600_000 + 5 * 60_000)).toBe('3h 05m');
    expect(formatDuration(50 * 3600_000)).toBe('2d 2h');
    expect(formatDuration(12 * 60_000, 'ru')).toBe('12 мин');
    expect(describeSeconds(14400)).toBe('4h');
    expect(describeSeconds(90)).toBe('1m 30s');
    expect(describeSeconds(90, 'ru')).toBe('1 мин 30 с');
    expect(describeSeconds(90_000, 'ru')).toBe('1 д 1 ч');
  });
});

describe('quick answers from the message box', () => {
  const answers = [
    {
      id: '1',
      title: 'Greeting',
      text: 'Hello! How can I help?',
      createdAt: '',
      updatedAt: '',
      personal: false,
      lineId: null,
    },
    {
      id: '2',
      title: 'Delivery',
      text: 'Delivery takes 3 days; greetings from the team',
      createdAt: '',
      updatedAt: '',
      personal: false,
      lineId: null,
    },
  ];

  it('opens on a slash at the start of a word', () => {
    expect(quickQuery('/gre', 4)).toEqual({ start: 0, query: 'gre' });
    expect(quickQuery('Hi /', 4)).toEqual({ start: 3, query: '' });
    expect(quickQuery('a/b', 3)).toBeNull();
    expect(quickQuery('http://x', 8)).toBeNull();
  });

  it('finds titles first, then texts', () => {
    expect(searchQuickAnswers(answers, 'GREET').map((a) => a.id)).toEqual(['1', '2']);
    expect(searchQuickAnswers(answers, 'days').map((a) => a.id)).toEqual(['2']);
  });
});

describe('safe URLs', () => {
  it('allows http(s) only', () => {
    expect(safeUrl('https://example.com/a.png')).toBe('https://example.com/a.png');
    expect(safeUrl('/api/v1/files/x', 'https://ol.example/')).toBe('https://ol.example/api/v1/files/x');
    expect(safeUrl('javascript:alert(1)')).toBeNull();
    expect(safeUrl('data:text/html,<script>')).toBeNull();
    expect(safeUrl(null)).toBeNull();
  });

  it('shows raster images inline, never SVG', () => {
    expect(isInlineImage('image/png')).toBe(true);
    expect(isInlineImage('image/svg+xml')).toBe(false);
  });
});

describe('fieldMessage', () => {
  const en = makeTranslate('en');
  const ru = makeTranslate('ru');
  it.each([
    [
      { field: 'body.email', message: 'must NOT have fewer than 3 characters', rule: 'minLength', limit: 3 },
      'At least 3 characters.',
      'Не короче 3 символов.',
    ],
    [
      { field: 'body.email', message: 'must match format "email"', rule: 'format', format: 'email' },
      'Enter an e-mail address, such as name@example.com.',
      'Введите адрес e-mail, например name@example.com.',
    ],
    [{ field: 'body.name', message: 'is required', rule: 'required' }, 'Required.', 'Обязательное поле.'],
    [
      { field: 'body.lineId', message: 'no such line in this account', rule: 'invalid' },
      'no such line in this account',
      'no such line in this account',
    ],
    [{ field: 'body.x', message: 'is odd' }, 'is odd', 'is odd'],
  ])('%o', (error, english, russian) => {
    expect(fieldMessage(error, en)).toBe(english);
    expect(fieldMessage(error, ru)).toBe(russian);
  });
});
