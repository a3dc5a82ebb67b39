import { type Static, Type } from '@sinclair/typebox';

// A client's rights and the account's retention (issue 18, docs/privacy.md).

export const ERASE_MODES = ['anonymise', 'delete'] as const;
export type EraseMode = (typeof ERASE_MODES)[number];

export const EraseClientBody = Type.Object(
  {
    mode: Type.Union(
      ERASE_MODES.map((mode) => Type.Literal(mode)),
      {
        description:
          'anonymise: the dialogs stay as "Deleted client" with every text and file removed; delete: the dialogs go too. CRM records are anonymised either way.',
      },
    ),
    confirm: Type.String({
      minLength: 1,
      maxLength: 200,
      description: "Must equal the client's current name: erasing cannot be undone",
    }),
  },
  { additionalProperties: false, title: 'EraseClientBody' },
);
export type EraseClientBody = Static<typeof EraseClientBody>;

export const ErasureSummarySchema = Type.Object(
  {
    messages: Type.Integer({ description: 'Messages whose text and attachments were erased' }),
    files: Type.Integer({ description: 'Stored files removed (their bytes leave the disk shortly after)' }),
    dialogs: Type.Integer({ description: 'Dialogs anonymised or deleted' }),
    clients: Type.Integer(),
  },
  { title: 'ErasureSummary' },
);
export type ErasureSummary = Static<typeof ErasureSummarySchema>;

export const RETENTION_LIMITS = { minDays: 1, maxDays: 36500 } as const;

export const PrivacySettingsSchema = Type.Object(
  {
    messageRetentionDays: Type.Union(
      [Type.Integer({ minimum: RETENTION_LIMITS.minDays, maximum: RETENTION_LIMITS.maxDays }), Type.Null()],
      {
        description:
          "Messages and files older than this many days are erased; null: kept until erased otherwise. A line's own `settings.other.retentionDays` (when not 0) applies to it instead.",
      },
    ),
    eventRetentionHours: Type.Integer({
      description:
        'How long realtime events are kept for sockets to resume (EVENT_RETENTION_HOURS); a socket resuming from before gets `resync`',
    }),
  },
  { title: 'PrivacySettings' },
);
export type PrivacySettings = Static<typeof PrivacySettingsSchema>;

export const UpdatePrivacySettingsBody = Type.Object(
  {
    messageRetentionDays: Type.Union([
      Type.Integer({ minimum: RETENTION_LIMITS.minDays, maximum: RETENTION_LIMITS.maxDays }),
      Type.Null(),
    ]),
  },
  { additionalProperties: false, title: 'UpdatePrivacySettingsBody' },
);
export type UpdatePrivacySettingsBody = Static<typeof UpdatePrivacySettingsBody>;
