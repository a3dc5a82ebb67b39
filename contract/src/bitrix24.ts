import { type Static, Type } from '@sinclair/typebox';
import { IdSchema, Name, Timestamp } from './common';

/**
 * Administration of the Bitrix24-compatible REST surface (PL-4, docs/bitrix24-compat.md): local
 * applications (`auth=<access token>`) and incoming webhooks (`/rest/<user id>/<secret>/`), each
 * acting as a user of the account. Needs `manageIntegrations`. Secrets are shown once.
 */
export const BitrixCredentialBody = Type.Object(
  {
    name: Name,
    /** The user whose permissions the calls have; the administrator creating it by default. */
    userId: Type.Optional(IdSchema),
  },
  { additionalProperties: false },
);
export type BitrixCredentialBody = Static<typeof BitrixCredentialBody>;

export const BitrixAppSchema = Type.Object(
  { id: Type.Integer(), name: Type.String(), userId: IdSchema, createdAt: Timestamp },
  { title: 'BitrixApp' },
);
export type BitrixApp = Static<typeof BitrixAppSchema>;

export const CreatedBitrixAppSchema = Type.Object({
  app: BitrixAppSchema,
  /** `auth=` of every REST call; shown once, stored hashed. */
  accessToken: Type.String(),
  /** Sent with every event as `auth[application_token]`, for the application to verify it is ours. */
  applicationToken: Type.String(),
});
export type CreatedBitrixApp = Static<typeof CreatedBitrixAppSchema>;

export const BitrixWebhookSchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    userId: IdSchema,
    /** The `<user id>` of the webhook's URL. */
    numericUserId: Type.Integer(),
    createdAt: Timestamp,
  },
  { title: 'BitrixWebhook' },
);
export type BitrixWebhook = Static<typeof BitrixWebhookSchema>;

export const CreatedBitrixWebhookSchema = Type.Object({
  webhook: BitrixWebhookSchema,
  secret: Type.String(),
  /** `/rest/<user id>/<secret>/`: append the method name. Shown once; the secret is stored hashed. */
  path: Type.String(),
});
export type CreatedBitrixWebhook = Static<typeof CreatedBitrixWebhookSchema>;

export const NumericIdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });
