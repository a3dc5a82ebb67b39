import { type Static, type TSchema, Type } from '@sinclair/typebox';

/** A UUID in its canonical text form, in either case: what the database's uuid columns take. */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const UUID = new RegExp(UUID_PATTERN);

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export const IdSchema = Type.String({ format: 'uuid', description: 'Identifier' });
export const IdParams = Type.Object({ id: IdSchema }, { additionalProperties: false });
export const Timestamp = Type.String({ format: 'date-time' });
export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
export const Name = Type.String({ minLength: 1, maxLength: 200 });

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          field: Type.String(),
          message: Type.String(),
          rule: Type.Optional(Type.String()),
          limit: Type.Optional(Type.Number()),
          format: Type.Optional(Type.String()),
          allowed: Type.Optional(
            Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
          ),
        }),
      ),
    ),
  },
  { title: 'Problem', description: 'RFC 9457 problem details' },
);

/**
 * The largest whole number a query may carry: exact in JavaScript, and inside PostgreSQL's bigint
 * (offsets and cursors go to the database; a larger one was a 500 "bigint out of range").
 */
export const MAX_WHOLE_NUMBER = Number.MAX_SAFE_INTEGER;

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_WHOLE_NUMBER, default: 0 })),
  },
  { additionalProperties: false },
);

export function List<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), total: Type.Integer() });
}

export type Id = Static<typeof IdSchema>;
