import { AppError } from '../errors';

/**
 * The request body parser for `application/json`: JSON.parse, then a refusal that names where a
 * prototype key sits (`body.items.0.__proto__`) instead of a bare "invalid JSON". JSON.parse
 * keeps such a key as a plain own property, so nothing is polluted before it is refused; the walk
 * runs only when the text contains one of the two words, and iterates, so a deeply nested body
 * cannot exhaust the stack.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') {
    throw new AppError('invalid_json', 'The request body is empty', [{ field: 'body', message: 'is empty' }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = (error as Error).message;
    throw new AppError('invalid_json', detail, [{ field: 'body', message: 'is not valid JSON' }]);
  }
  if (text.includes('__proto__') || text.includes('constructor')) {
    const field = prototypeKeyIn(value);
    if (field) {
      throw new AppError('invalid_json', `${field} is a key the API does not take`, [
        { field, message: 'is a prototype key, which the API does not take', rule: 'forbidden' },
      ]);
    }
  }
  return value;
}

/** The path of the first `__proto__` key, or `constructor.prototype`, in a parsed JSON value. */
export function prototypeKeyIn(value: unknown): string | null {
  const stack: { value: unknown; path: string }[] = [{ value, path: 'body' }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (!current || typeof current !== 'object') continue;
    if (Array.isArray(current)) {
      for (const [index, item] of current.entries()) stack.push({ value: item, path: `${path}.${index}` });
      continue;
    }
    if (Object.hasOwn(current, '__proto__')) return `${path}.__proto__`;
    const record = current as Record<string, unknown>;
    const ctor = Object.hasOwn(current, 'constructor') ? record.constructor : undefined;
    if (ctor && typeof ctor === 'object' && Object.hasOwn(ctor, 'prototype'))
      return `${path}.constructor.prototype`;
    for (const key of Object.keys(record)) stack.push({ value: record[key], path: `${path}.${key}` });
  }
  return null;
}
