import { describe, expect, it } from 'vitest';
import { fieldErrorsFromSchema } from './field-errors';

describe('fieldErrorsFromSchema', () => {
  it.each([
    [
      'a length bound keeps its rule and limit',
      {
        instancePath: '/email',
        keyword: 'minLength',
        message: 'must NOT have fewer than 3 characters',
        params: { limit: 3 },
      },
      { field: 'body.email', message: 'must NOT have fewer than 3 characters', rule: 'minLength', limit: 3 },
    ],
    [
      'a format names it',
      {
        instancePath: '/email',
        keyword: 'format',
        message: 'must match format "email"',
        params: { format: 'email' },
      },
      { field: 'body.email', message: 'must match format "email"', rule: 'format', format: 'email' },
    ],
    [
      'a missing field is named by its own path',
      { instancePath: '/queue', keyword: 'required', params: { missingProperty: 'maxChat' } },
      { field: 'body.queue.maxChat', message: 'is required', rule: 'required' },
    ],
    [
      'an extra field is unknown',
      { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'x' } },
      { field: 'body.x', message: 'is not an allowed field', rule: 'unknown' },
    ],
    [
      'an enum lists what is allowed',
      {
        instancePath: '/kind',
        keyword: 'enum',
        message: 'must be equal to one of the allowed values',
        params: { allowedValues: ['a', 'b'] },
      },
      {
        field: 'body.kind',
        message: 'must be equal to one of the allowed values',
        rule: 'enum',
        allowed: ['a', 'b'],
      },
    ],
  ])('%s', (_name, error, expected) => {
    expect(fieldErrorsFromSchema(['body'], [error])).toEqual([expected]);
  });

  it('keeps only the anyOf summary of a field, once', () => {
    const errors = fieldErrorsFromSchema(
      ['body'],
      [
        { instancePath: '/at', keyword: 'type', message: 'must be string', params: {} },
        { instancePath: '/at', keyword: 'type', message: 'must be null', params: {} },
        { instancePath: '/at', keyword: 'anyOf', message: 'must match a schema in anyOf', params: {} },
      ],
    );
    expect(errors).toEqual([{ field: 'body.at', message: 'does not match any allowed form', rule: 'anyOf' }]);
  });
});
