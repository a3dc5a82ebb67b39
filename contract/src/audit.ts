import { type Static, Type } from '@sinclair/typebox';
import { IdSchema, Timestamp } from './common';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

// Issue 18: the audit log of privileged actions, and consent records in a dialog's timeline.

/**
 * Every action the audit log records. Settings changes name the keys that changed; the log never
 * holds values, message texts or a client's personal data (a client is named by id only).
 */
export const AUDIT_ACTIONS = [
  'line.created',
  'line.updated',
  'line.deleted',
  'channel.created',
  'channel.updated',
  'channel.secrets_rotated',
  'channel.deleted',
  'user.created',
  'user.updated',
  'role.created',
  'role.updated',
  'role.deleted',
  'department.created',
  'department.updated',
  'department.deleted',
  'api_token.created',
  'api_token.revoked',
  'client.exported',
  'client.erased',
  'client.anonymised',
  'client.unblocked',
  'account.privacy_updated',
  'crm.contacts_merged',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export const AuditActionSchema = Type.Union(AUDIT_ACTIONS.map((action) => Type.Literal(action)));

export const AUDIT_TARGET_TYPES = [
  'line',
  'channel',
  'user',
  'role',
  'department',
  'api_token',
  'client',
  'account',
  'crm_contact',
] as const;
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];
export const AuditTargetTypeSchema = Type.Union(AUDIT_TARGET_TYPES.map((type) => Type.Literal(type)));

export const AuditEntrySchema = Type.Object(
  {
    id: IdSchema,
    at: Timestamp,
    userId: Nullable(IdSchema),
    userName: Type.String({ description: "The acting user's name at the time of the action" }),
    action: AuditActionSchema,
    targetType: AuditTargetTypeSchema,
    targetId: Nullable(Type.String()),
    changedKeys: Type.Array(Type.String(), {
      description: 'Dotted names of the settings that changed (never their values)',
    }),
  },
  { title: 'AuditEntry' },
);
export type AuditEntry = Static<typeof AuditEntrySchema>;

export const AuditListQuery = Type.Object(
  {
    action: Type.Optional(AuditActionSchema),
    userId: Type.Optional(IdSchema),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Entries at or after' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Entries before' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: "The previous page's nextCursor: the next older page",
      }),
    ),
  },
  { additionalProperties: false },
);
export type AuditListQuery = Static<typeof AuditListQuery>;

export const AuditPageSchema = Type.Object(
  {
    items: Type.Array(AuditEntrySchema),
    nextCursor: Nullable(Type.String({ description: 'Pass as cursor for the next page; null on the last' })),
  },
  { title: 'AuditPage' },
);
export type AuditPage = Static<typeof AuditPageSchema>;

// ----- Consent (AG-2) ---------------------------------------------------------------------------

export const ConsentRecordSchema = Type.Object(
  {
    id: IdSchema,
    clientId: IdSchema,
    decision: Type.Union([Type.Literal('given'), Type.Literal('refused')]),
    how: Type.Union([Type.Literal('button'), Type.Literal('reply'), Type.Literal('api')], {
      description:
        "button: the widget's agree/decline button; reply: the client's next message in a messenger; api: the sender's own system said so (API channel)",
    }),
    channelId: Nullable(IdSchema),
    sessionId: Nullable(IdSchema),
    at: Timestamp,
    agreement: Type.Object({
      lineId: IdSchema,
      version: Type.Integer({ minimum: 1, description: "The line's agreement text version" }),
      textSha256: Type.String({ description: 'SHA-256 (hex) of the agreement text of that version' }),
    }),
  },
  { title: 'ConsentRecord' },
);
export type ConsentRecord = Static<typeof ConsentRecordSchema>;
