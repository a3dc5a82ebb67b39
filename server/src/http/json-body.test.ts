import { describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import { parseJsonBody, prototypeKeyIn } from './json-body';

describe('parseJsonBody', () => {
  it.each([
    ['{"a":1}', { a: 1 }],
    ['[1,"x"]', [1, 'x']],
    ['{"constructor":"a name"}', { constructor: 'a name' }],
    ['{"text":"__proto__ is a word"}', { text: '__proto__ is a word' }],
  ])('parses %s', (text, expected) => {
    expect(parseJsonBody(text)).toEqual(expected);
  });

  it.each([
    ['', 'body'],
    ['  ', 'body'],
    ['{"a":', 'body'],
    ['{"__proto__":{"x":1}}', 'body.__proto__'],
    ['{"items":[{"ok":1},{"__proto__":null}]}', 'body.items.1.__proto__'],
    ['{"a":{"constructor":{"prototype":{}}}}', 'body.a.constructor.prototype'],
  ])('refuses %s naming %s', (text, field) => {
    try {
      parseJsonBody(text);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('invalid_json');
      expect((error as AppError).fields?.map((f) => f.field)).toEqual([field]);
    }
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('walks a deeply nested body without exhausting the stack', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(() => prototypeKeyIn(JSON.parse(deep))).not.toThrow();
  });
});
