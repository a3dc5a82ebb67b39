import { type Static, Type } from '@sinclair/typebox';
import { Email, IdSchema, Name, Timestamp } from './common';
import { PasswordSchema } from './users';

/**
 * The server operator's API (`/api/v1/admin/…`, issue 21): accounts (tenants) and their plans.
 * It is reached with ADMIN_TOKEN, the server operator's secret, never with an account user's
 * session or token.
 */

/** A limit: a whole number, or null for none. */
const Limit = (description: string, maximum = 1_000_000) =>
  Type.Union([Type.Integer({ minimum: 0, maximum }), Type.Null()], { description });

export const PlanIdSchema = Type.String({
  pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
  description: 'Lower-case letters, digits, `-` and `_`; up to 63 characters',
});

export const PlanSchema = Type.Object(
  {
    id: PlanIdSchema,
    name: Type.String(),
    maxLines: Type.Integer({ minimum: 0 }),
    maxOperators: Limit('Active users (operators, supervisors, administrators); null: no limit'),
    maxChannels: Limit('Connected channels of every kind; null: no limit'),
    maxStorageBytes: Limit('Bytes of stored attachments; null: no limit', Number.MAX_SAFE_INTEGER),
  },
  { title: 'Plan' },
);
export type Plan = Static<typeof PlanSchema>;

export const PutPlanBody = Type.Object(
  {
    name: Name,
    maxLines: Type.Integer({ minimum: 0, maximum: 100_000 }),
    maxOperators: Limit('Active users; null: no limit'),
    maxChannels: Limit('Channels; null: no limit'),
    maxStorageBytes: Limit('Bytes of attachments; null: no limit', Number.MAX_SAFE_INTEGER),
  },
  { additionalProperties: false },
);
export type PutPlanBody = Static<typeof PutPlanBody>;

export const AccountStatusSchema = Type.Union([Type.Literal('active'), Type.Literal('suspended')]);
export type AccountStatus = Static<typeof AccountStatusSchema>;

export const AccountUsageSchema = Type.Object({
  lines: Type.Integer(),
  operators: Type.Integer({ description: 'Active users' }),
  channels: Type.Integer(),
  storageBytes: Type.Integer(),
});
export type AccountUsage = Static<typeof AccountUsageSchema>;

export const AdminAccountSchema = Type.Object(
  {
    id: IdSchema,
    name: Type.String(),
    status: AccountStatusSchema,
    suspendedAt: Type.Union([Timestamp, Type.Null()]),
    plan: PlanSchema,
    usage: AccountUsageSchema,
    createdAt: Timestamp,
  },
  { title: 'AdminAccount' },
);
export type AdminAccount = Static<typeof AdminAccountSchema>;

export const CreateAccountBody = Type.Object(
  {
    name: Name,
    planId: Type.Optional(PlanIdSchema),
    admin: Type.Object(
      {
        email: Email,
        name: Name,
        password: Type.Optional(PasswordSchema),
      },
      { additionalProperties: false, description: "The account's first administrator" },
    ),
  },
  { additionalProperties: false },
);
export type CreateAccountBody = Static<typeof CreateAccountBody>;

export const CreatedAccountSchema = Type.Object({
  account: AdminAccountSchema,
  admin: Type.Object({
    id: IdSchema,
    email: Type.String(),
    password: Type.Optional(
      Type.String({ description: 'Generated when none was given; shown only in this answer' }),
    ),
  }),
});
export type CreatedAccount = Static<typeof CreatedAccountSchema>;

export const UpdateAccountBody = Type.Object(
  { name: Type.Optional(Name), planId: Type.Optional(PlanIdSchema) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateAccountBody = Static<typeof UpdateAccountBody>;

export const PlanResourceSchema = Type.Union([
  Type.Literal('lines'),
  Type.Literal('operators'),
  Type.Literal('channels'),
  Type.Literal('storage'),
]);
export type PlanResource = Static<typeof PlanResourceSchema>;
