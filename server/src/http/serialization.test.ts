import { describe, expect, it } from 'vitest';
import { buildSerializer } from './serialization';

const route = (schema: object) => ({ method: 'GET', url: '/x', httpStatus: '200', schema });

describe('response serializers kept per schema', () => {
  const schema = {
    type: 'object',
    properties: { id: { type: 'integer' }, name: { type: 'string' } },
    required: ['id'],
  };

  it('reuses the serializer of a schema object across apps, and it serializes by that schema', () => {
    const first = buildSerializer({}, {})(route(schema));
    const second = buildSerializer(undefined, undefined)(route(schema));
    expect(second).toBe(first);
    // Only the schema's properties go out.
    expect(first({ id: 7, name: 'Olga', secret: 'never' })).toBe('{"id":7,"name":"Olga"}');
  });

  it('builds a new one for another schema object, or when shared schemas or options are given', () => {
    const first = buildSerializer()(route(schema));
    expect(buildSerializer()(route({ ...schema }))).not.toBe(first);
    expect(buildSerializer({ 'other#': { $id: 'other#', type: 'string' } })(route(schema))).not.toBe(first);
    expect(buildSerializer({}, { rounding: 'floor' })(route(schema))).not.toBe(first);
  });
});
