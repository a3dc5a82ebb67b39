import { type Static, Type } from '@sinclair/typebox';
import { IdSchema, Name, Timestamp } from './common';
import { LineSettingsPatchSchema, LineSettingsSchema } from './line-settings';

// Lines, channels, dialogs, sessions and messages (SPEC §1, §2, §11, §15).

export const SESSION_STATUSES = [
  'new',
  'bot',
  'queued',
  'assigned',
  'answered',
  'client_waiting',
  'closed',
  'spam',
  'closed_silently',
  'auto_closed',
] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
export const SessionStatusSchema = Type.Union(SESSION_STATUSES.map((s) => Type.Literal(s)));

// The groups of statuses the server and the web app reason with; one definition for both.

export const OPEN_STATUSES = [
  'new',
  'bot',
  'queued',
  'assigned',
  'answered',
  'client_waiting',
] as const satisfies readonly SessionStatus[];
export type OpenStatus = (typeof OPEN_STATUSES)[number];

export const CLOSED_STATUSES = [
  'closed',
  'spam',
  'closed_silently',
  'auto_closed',
] as const satisfies readonly SessionStatus[];
export type ClosedStatus = (typeof CLOSED_STATUSES)[number];

/** Open statuses in which the session is held by an operator (`operatorId` is set). */
export const OPERATOR_STATUSES = [
  'assigned',
  'answered',
  'client_waiting',
] as const satisfies readonly OpenStatus[];
export type OperatorStatus = (typeof OPERATOR_STATUSES)[number];

export function isOpen(status: SessionStatus): status is OpenStatus {
  return (OPEN_STATUSES as readonly SessionStatus[]).includes(status);
}

export function isClosed(status: SessionStatus): status is ClosedStatus {
  return (CLOSED_STATUSES as readonly SessionStatus[]).includes(status);
}

export function hasOperator(status: SessionStatus): status is OperatorStatus {
  return (OPERATOR_STATUSES as readonly SessionStatus[]).includes(status);
}

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

// ----- Lines ------------------------------------------------------------------------------------

export const LineSchema = Type.Object(
  {
    id: IdSchema,
    name: Type.String(),
    active: Type.Boolean({
      description: 'An inactive line stores messages but neither routes nor shows them (LN-4)',
    }),
    settings: LineSettingsSchema,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: 'Line' },
);
export type Line = Static<typeof LineSchema>;

export const CreateLineBody = Type.Object(
  {
    name: Name,
    active: Type.Optional(Type.Boolean()),
    settings: Type.Optional(LineSettingsPatchSchema),
  },
  { additionalProperties: false },
);
export type CreateLineBody = Static<typeof CreateLineBody>;

export const UpdateLineBody = Type.Object(
  {
    name: Type.Optional(Name),
    active: Type.Optional(Type.Boolean()),
    settings: Type.Optional(LineSettingsPatchSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateLineBody = Static<typeof UpdateLineBody>;

export const DeleteLineQuery = Type.Object(
  {
    confirm: Type.Optional(
      Type.String({
        description: "Must equal the line's name: deleting removes its dialogs and history (LN-2)",
      }),
    ),
  },
  { additionalProperties: false },
);

export const LinesOverviewSchema = Type.Object({
  items: Type.Array(LineSchema),
  limit: Type.Integer({ description: 'How many lines the plan allows (LN-1)' }),
});

// ----- Channels ---------------------------------------------------------------------------------

export const ChannelSchema = Type.Object(
  {
    id: IdSchema,
    kind: Type.String({ description: 'api, widget, telegram, …' }),
    name: Type.String(),
    lineId: Nullable(IdSchema),
    status: Type.Union([Type.Literal('connected'), Type.Literal('disconnected')]),
    settings: Type.Record(Type.String(), Type.Unknown(), { description: "The connector's public settings" }),
    createdAt: Timestamp,
    failure: Type.Optional(
      Type.String({
        description:
          'Present while the platform refuses our credentials (a revoked token): why. Outgoing messages wait in the outbox until the settings are saved with a working token.',
      }),
    ),
  },
  { title: 'Channel' },
);
export type Channel = Static<typeof ChannelSchema>;

export const CreateChannelBody = Type.Object(
  {
    kind: Type.String({ minLength: 1, maxLength: 32 }),
    name: Name,
    lineId: IdSchema,
    settings: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);
export type CreateChannelBody = Static<typeof CreateChannelBody>;

export const UpdateChannelBody = Type.Object(
  {
    name: Type.Optional(Name),
    lineId: Type.Optional(IdSchema),
    settings: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    status: Type.Optional(Type.Union([Type.Literal('connected'), Type.Literal('disconnected')])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateChannelBody = Static<typeof UpdateChannelBody>;

export const ChannelKindSchema = Type.Object(
  {
    kind: Type.String(),
    title: Type.String(),
    answersBy: Type.Union([Type.Literal('button'), Type.Literal('reply')], {
      description: 'How clients answer consent and rating requests on this channel',
    }),
    settingsSchema: Type.Unknown({ description: "JSON Schema of the channel's settings" }),
    formFields: Type.Array(Type.String(), {
      description:
        'The settings an administrator edits, as dotted paths into settingsSchema, in form order ' +
        '(what the server fills in itself, such as a bot name, is not among them)',
    }),
    inboundPath: Type.Union([Type.String(), Type.Null()], {
      description:
        'Where an integrator sends this kind of channel its messages, as a path under the server, ' +
        "shown with the channel (`{channelId}` stands for the channel's id); null when the server " +
        'sets it up itself or the channel has none',
    }),
    installSnippet: Type.Boolean({
      description: 'The channel has a snippet to paste into a website (GET /channels/{id}/snippet)',
    }),
    replyWindowHours: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'Free-form replies are accepted only this long after the client last wrote (WhatsApp: 24); after that only a template',
      }),
    ),
    templates: Type.Optional(
      Type.Boolean({
        description: 'Approved message templates can be listed (GET /channels/{id}/templates) and sent',
      }),
    ),
    createdByIntegration: Type.Optional(
      Type.Boolean({
        description:
          'Channels of this kind are created by an integration (a Bitrix24 connector activated over /rest), not with POST /channels',
      }),
    ),
  },
  { title: 'ChannelKind' },
);
export type ChannelKind = Static<typeof ChannelKindSchema>;

export const ChannelSecretsSchema = Type.Object({
  channel: ChannelSchema,
  secrets: Type.Record(Type.String(), Type.String(), {
    description: 'Tokens and signing secrets; shown only when created or rotated',
  }),
});

// ----- Clients, dialogs, sessions ----------------------------------------------------------------

export const ClientSchema = Type.Object(
  {
    id: IdSchema,
    name: Type.String(),
    avatarUrl: Nullable(Type.String()),
    email: Nullable(Type.String()),
    phone: Nullable(Type.String()),
    identities: Type.Array(
      Type.Object({
        channelId: IdSchema,
        externalId: Type.String(),
        /** Widget: the page the visitor is on and the page they came from, as last reported. */
        page: Type.Optional(
          Type.Object({
            url: Type.String(),
            referrer: Nullable(Type.String()),
            at: Type.String({ format: 'date-time' }),
          }),
        ),
      }),
    ),
    /** OP-3: set when the client was marked as spam; their new sessions are not routed. */
    blockedAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { title: 'Client' },
);
export type Client = Static<typeof ClientSchema>;

/** KPI-3: the state of the answer the client is waiting for (or of the last one). */
export const SessionKpiSchema = Type.Object({
  state: Type.Union(
    [Type.Literal('none'), Type.Literal('on_time'), Type.Literal('overdue'), Type.Literal('missed')],
    {
      description:
        'none: no target; on_time: answered or waiting within the target; overdue: waiting past it; missed: answered late',
    },
  ),
  waitingSince: Nullable(Timestamp),
  dueAt: Nullable(Timestamp),
  firstAnswerSeconds: Nullable(Type.Integer()),
  breaches: Type.Integer({ description: 'Targets missed in this session' }),
});

export const SessionSchema = Type.Object(
  {
    id: IdSchema,
    dialogId: IdSchema,
    lineId: IdSchema,
    status: SessionStatusSchema,
    operatorId: Nullable(IdSchema),
    offeredTo: Type.Array(IdSchema),
    participantIds: Type.Array(IdSchema, { description: 'Colleagues invited to consult' }),
    pinned: Type.Boolean(),
    unanswered: Type.Boolean(),
    createdAt: Timestamp,
    queuedAt: Nullable(Timestamp),
    assignedAt: Nullable(Timestamp),
    firstAnswerAt: Nullable(Timestamp),
    lastClientMessageAt: Nullable(Timestamp),
    closedAt: Nullable(Timestamp),
    closeReason: Nullable(Type.String()),
    openedOffHours: Type.Boolean({ description: 'The session started outside working hours (WH-2)' }),
    consent: Type.Union([Type.Literal('not_required'), Type.Literal('pending'), Type.Literal('given')], {
      description: 'AG: pending = the agreement was sent and the client has not consented yet',
    }),
    kpi: SessionKpiSchema,
    rating: Nullable(
      Type.Object({
        value: Type.Union([Type.Literal('like'), Type.Literal('dislike')]),
        comment: Nullable(Type.String()),
        at: Timestamp,
      }),
    ),
    ratingRequestedAt: Nullable(Timestamp),
    supervisorRating: Nullable(
      Type.Object({
        value: Nullable(Type.Integer({ minimum: 1, maximum: 5 })),
        comment: Nullable(Type.String()),
        by: Nullable(IdSchema),
        at: Timestamp,
      }),
    ),
  },
  { title: 'Session' },
);
export type Session = Static<typeof SessionSchema>;

export const SearchHitSchema = Type.Object(
  {
    messageId: IdSchema,
    at: Timestamp,
    fragments: Type.Array(Type.Object({ text: Type.String(), hit: Type.Boolean() }), {
      description: 'A short excerpt of the message; the fragments with hit=true are the matching words',
    }),
  },
  {
    title: 'SearchHit',
    description: "The dialog's latest message that matches the list's `search`, its matching words marked",
  },
);
export type SearchHit = Static<typeof SearchHitSchema>;

/** A label on a dialog: trimmed, 1–40 characters, compared as given. */
export const DialogTag = Type.String({ minLength: 1, maxLength: 40, pattern: '^\\S(.*\\S)?$' });

export const DialogSchema = Type.Object(
  {
    id: IdSchema,
    lineId: IdSchema,
    channelId: IdSchema,
    channelKind: Type.String(),
    client: ClientSchema,
    pinnedOperatorId: Nullable(IdSchema),
    spam: Type.Boolean({
      description: 'The client is marked as spam: their messages are stored but not routed',
    }),
    unreachable: Type.Boolean({
      description: 'The channel says the client cannot be reached (e.g. blocked the bot)',
    }),
    session: Nullable(SessionSchema),
    lastMessageAt: Nullable(Timestamp),
    lastMessagePreview: Nullable(Type.String()),
    createdAt: Timestamp,
    searchHit: Type.Optional(SearchHitSchema),
    tags: Type.Array(DialogTag, { description: 'Labels operators put on the dialog, in name order' }),
  },
  { title: 'Dialog' },
);
export type Dialog = Static<typeof DialogSchema>;

export const DialogListQuery = Type.Object(
  {
    view: Type.Optional(
      Type.Union([Type.Literal('queue'), Type.Literal('mine'), Type.Literal('all')], {
        description:
          'queue: waiting or offered to me; mine: held by me or consulting; all: everything I may see',
      }),
    ),
    lineId: Type.Optional(IdSchema),
    channelId: Type.Optional(IdSchema),
    operatorId: Type.Optional(IdSchema),
    status: Type.Optional(SessionStatusSchema),
    search: Type.Optional(
      Type.String({
        maxLength: 200,
        description:
          "Words to find in the client's name, e-mail or phone, or in any message of the dialog (each word a stemmed prefix, Russian and English; all required)",
      }),
    ),
    rating: Type.Optional(
      Type.Union([Type.Literal('like'), Type.Literal('dislike'), Type.Literal('none')], {
        description: "The client's rating of the latest session; none = not rated",
      }),
    ),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    periodBy: Type.Optional(
      Type.Union([Type.Literal('activity'), Type.Literal('created'), Type.Literal('closed')], {
        description:
          "What from/to bound: activity = the dialog's last message (default); created = when the latest session started; closed = when the latest session closed",
      }),
    ),
    tag: Type.Optional(
      Type.String({ minLength: 1, maxLength: 40, description: 'Only dialogs with this tag' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: "The previous page's nextCursor: the page after it, in the same order",
      }),
    ),
  },
  { additionalProperties: false },
);
export type DialogListQuery = Static<typeof DialogListQuery>;

/**
 * A page of dialogs, newest activity first (ties by id). Pages follow by keyset (the cursor is the
 * last row's place in that order), so a dialog that stays put is never skipped or repeated
 * between pages; one with new activity moves to the top, where the realtime events bring it.
 * There is no total, which would cost a count of every visible dialog on each request.
 */
export const DialogPageSchema = Type.Object(
  {
    items: Type.Array(DialogSchema),
    nextCursor: Nullable(
      Type.String({ description: 'Pass as cursor for the next page; null on the last page' }),
    ),
  },
  { title: 'DialogPage' },
);
export type DialogPage = Static<typeof DialogPageSchema>;

export const TransitionSchema = Type.Object(
  {
    sessionId: IdSchema,
    from: Nullable(SessionStatusSchema),
    to: SessionStatusSchema,
    operatorId: Nullable(IdSchema),
    actorKind: Type.String(),
    actorId: Nullable(Type.String()),
    reason: Type.String(),
    at: Timestamp,
    comment: Type.Optional(
      Nullable(
        Type.String({ description: 'What the operator wrote for the colleague receiving a transfer' }),
      ),
    ),
  },
  { title: 'SessionTransition' },
);
export type SessionTransition = Static<typeof TransitionSchema>;

// ----- Messages ---------------------------------------------------------------------------------

export const AuthorKindSchema = Type.Union([
  Type.Literal('client'),
  Type.Literal('operator'),
  Type.Literal('bot'),
  Type.Literal('system'),
]);
export type AuthorKind = Static<typeof AuthorKindSchema>;

export const DeliveryStateSchema = Type.Union(
  [
    Type.Literal('received'),
    Type.Literal('pending'),
    Type.Literal('sent'),
    Type.Literal('failed'),
    Type.Literal('none'),
    Type.Literal('delivered'),
    Type.Literal('read'),
  ],
  {
    description:
      'received: inbound; pending/sent/failed: outbound to the channel; delivered/read: the channel reported it reached or was read by the client (WhatsApp, Messenger); none: never leaves (private)',
  },
);

export const AttachmentSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    url: Type.String({ format: 'uri', maxLength: 2048 }),
    mimeType: Type.String({ minLength: 1, maxLength: 255 }),
    size: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type Attachment = Static<typeof AttachmentSchema>;

/** What an automatic (system) message is, so apps can render it (rating buttons, a form). */
export const SYSTEM_KINDS = [
  'welcome',
  'off_hours',
  'consent_request',
  'contact_form_request',
  'no_answer',
  'close',
  'auto_close',
  'rating_request',
  'rating_reply',
] as const;
export type SystemKind = (typeof SYSTEM_KINDS)[number];
export const SystemKindSchema = Type.Union(SYSTEM_KINDS.map((kind) => Type.Literal(kind)));

export const MessageSchema = Type.Object(
  {
    id: IdSchema,
    dialogId: IdSchema,
    sessionId: Nullable(IdSchema),
    authorKind: AuthorKindSchema,
    authorId: Nullable(Type.String()),
    text: Nullable(Type.String({ description: 'null once erased (line history saving off)' })),
    attachments: Type.Array(AttachmentSchema),
    private: Type.Boolean({ description: 'Consultation or note: never delivered to the client' }),
    spam: Type.Boolean(),
    deliveryState: DeliveryStateSchema,
    deliveryError: Nullable(Type.String()),
    externalId: Nullable(Type.String()),
    clientMessageId: Nullable(Type.String()),
    systemKind: Nullable(SystemKindSchema),
    createdAt: Timestamp,
    editedAt: Type.Union([Timestamp, Type.Null()], {
      description:
        'The text was changed after it was written (by its operator, or by the client in the channel)',
    }),
    deletedAt: Type.Union([Timestamp, Type.Null()], {
      description: 'Withdrawn by its operator or deleted by the client: text and attachments are gone',
    }),
    mentions: Type.Optional(
      Type.Array(IdSchema, { description: 'A private note: the colleagues it mentions (user ids)' }),
    ),
  },
  { title: 'Message' },
);
export type Message = Static<typeof MessageSchema>;

export const MaxMessageText = 10_000;

/** Colleagues one private note may mention. */
export const MaxMentions = 20;

export const MessageTemplateRefSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 512, pattern: '^[a-z0-9_]+$' }),
    language: Type.String({ minLength: 2, maxLength: 15, pattern: '^[A-Za-z_]+$' }),
    parameters: Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), {
      maxItems: 20,
      description: "The values of the template body's {{1}}, {{2}}, … in order",
    }),
  },
  {
    additionalProperties: false,
    description:
      "An approved template of the channel (GET /channels/{id}/templates) instead of free text: what a channel with a reply window (WhatsApp's 24 hours) accepts outside it. `text` is then what the client will read, for the history.",
  },
);
export type MessageTemplateRef = Static<typeof MessageTemplateRefSchema>;

export const ChannelTemplateSchema = Type.Object(
  {
    name: Type.String(),
    language: Type.String(),
    category: Type.String(),
    body: Type.String({ description: 'The body text with {{1}}, {{2}}, … placeholders' }),
    parameterCount: Type.Integer({ minimum: 0 }),
  },
  { title: 'ChannelTemplate' },
);
export type ChannelTemplate = Static<typeof ChannelTemplateSchema>;

export const SendMessageBody = Type.Object(
  {
    template: Type.Optional(MessageTemplateRefSchema),
    text: Type.Optional(Type.String({ minLength: 1, maxLength: MaxMessageText })),
    attachments: Type.Optional(Type.Array(AttachmentSchema, { maxItems: 10 })),
    private: Type.Optional(Type.Boolean({ description: 'A private note: seen by colleagues only' })),
    mentions: Type.Optional(
      Type.Array(IdSchema, {
        maxItems: MaxMentions,
        uniqueItems: true,
        description: 'A private note only: colleagues (user ids of the account) to notify',
      }),
    ),
    clientMessageId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Idempotency key' }),
    ),
  },
  { additionalProperties: false },
);
export type SendMessageBody = Static<typeof SendMessageBody>;

/** An operator's correction of their own message (issue 19). */
export const EditMessageBody = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: MaxMessageText }) },
  { additionalProperties: false },
);
export type EditMessageBody = Static<typeof EditMessageBody>;

export const MessageParams = Type.Object(
  { id: IdSchema, messageId: IdSchema },
  { additionalProperties: false },
);

export const MessageListQuery = Type.Object(
  {
    before: Type.Optional(Type.String({ format: 'date-time' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);

// ----- Operator actions -------------------------------------------------------------------------

/** A note for whoever receives a transferred dialog; shown in the dialog's history. */
export const TransferComment = Type.String({ minLength: 1, maxLength: 1000 });

export const TransferBody = Type.Union(
  [
    Type.Object(
      { operatorId: IdSchema, comment: Type.Optional(TransferComment) },
      { additionalProperties: false },
    ),
    Type.Object(
      { lineId: IdSchema, comment: Type.Optional(TransferComment) },
      { additionalProperties: false },
    ),
  ],
  { description: 'Transfer to an operator or to another line' },
);
export type TransferBody = Static<typeof TransferBody>;

export const InviteBody = Type.Object(
  {
    userId: IdSchema,
    mode: Type.Union([Type.Literal('consult'), Type.Literal('handover')], {
      description:
        'consult: the colleague joins, their messages are private; handover: the dialog passes to them',
    }),
  },
  { additionalProperties: false },
);

export const DialogTagsBody = Type.Object(
  {
    tags: Type.Array(DialogTag, {
      maxItems: 20,
      description: "The dialog's labels, replacing the ones it had",
    }),
  },
  { additionalProperties: false },
);
export type DialogTagsBody = Static<typeof DialogTagsBody>;

export const CloseBody = Type.Object(
  {
    confirmed: Type.Optional(Type.Boolean({ description: 'Required when the line asks to confirm closing' })),
  },
  { additionalProperties: false },
);

export const TypingBody = Type.Object(
  { text: Type.Optional(Type.String({ maxLength: MaxMessageText })) },
  { additionalProperties: false },
);

// ----- Quick answers (AA-7) ---------------------------------------------------------------------

export const QuickAnswerSchema = Type.Object(
  {
    id: IdSchema,
    title: Type.String(),
    text: Type.String(),
    personal: Type.Boolean({ description: 'Only its author sees it' }),
    lineId: Nullable(IdSchema),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: 'QuickAnswer' },
);
export type QuickAnswer = Static<typeof QuickAnswerSchema>;

export const QuickAnswerBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    text: Type.String({ minLength: 1, maxLength: 5000 }),
    personal: Type.Optional(
      Type.Boolean({
        description: 'A personal quick answer: only you see it (no permission needed); default false',
      }),
    ),
    lineId: Type.Optional(Nullable(IdSchema)),
  },
  { additionalProperties: false },
);
export const UpdateQuickAnswerBody = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    text: Type.Optional(Type.String({ minLength: 1, maxLength: 5000 })),
    lineId: Type.Optional(Nullable(IdSchema)),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const QuickAnswerQuery = Type.Object(
  {
    search: Type.Optional(Type.String({ maxLength: 200 })),
    lineId: Type.Optional(IdSchema),
  },
  { additionalProperties: false },
);

// ----- The API channel (LN-6) -------------------------------------------------------------------

export const ApiInboundMessageBody = Type.Object(
  {
    externalId: Type.String({
      minLength: 1,
      maxLength: 200,
      description: "The sender's message id: a retry is stored once",
    }),
    user: Type.Object(
      {
        id: Type.String({ minLength: 1, maxLength: 200 }),
        name: Type.Optional(Type.String({ maxLength: 200 })),
        avatarUrl: Type.Optional(Type.String({ format: 'uri', maxLength: 2048 })),
        email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
        phone: Type.Optional(Type.String({ maxLength: 50 })),
      },
      { additionalProperties: false },
    ),
    text: Type.Optional(Type.String({ minLength: 1, maxLength: MaxMessageText })),
    attachments: Type.Optional(Type.Array(AttachmentSchema, { maxItems: 10 })),
    consent: Type.Optional(
      Type.Union([Type.Literal('given'), Type.Literal('refused')], {
        description:
          "The client's decision on processing their personal data, taken on the sender's side (AG-2): recorded against the line's current agreement text version and shown in the dialog's timeline; 'given' also means the line does not send its agreement text to this client",
      }),
    ),
  },
  { additionalProperties: false },
);
export type ApiInboundMessageBody = Static<typeof ApiInboundMessageBody>;

export const ApiInboundResultSchema = Type.Object({
  messageId: IdSchema,
  dialogId: IdSchema,
  sessionId: Nullable(IdSchema),
  duplicate: Type.Boolean({ description: 'True when this externalId was already stored' }),
});

// ----- Automation (working hours, rating) -------------------------------------------------------

export const ScheduleStatusSchema = Type.Object(
  {
    open: Type.Boolean(),
    nextOpenAt: Nullable(Timestamp),
    closesAt: Nullable(Timestamp),
    timeZone: Type.String(),
  },
  { title: 'ScheduleStatus' },
);
export type ScheduleStatus = Static<typeof ScheduleStatusSchema>;

export const LineScheduleSchema = Type.Object({
  line: ScheduleStatusSchema,
  widget: ScheduleStatusSchema,
});

export const SupervisorRatingBody = Type.Object(
  {
    rating: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
    comment: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

// ----- Blocked clients (OP-3) ----------------------------------------------------------------------

/** A client blocked by a spam mark: their new sessions, on any line, are stored but not routed. */
export const BlockedClientSchema = Type.Object(
  {
    id: IdSchema,
    name: Type.String(),
    email: Nullable(Type.String()),
    phone: Nullable(Type.String()),
    blockedAt: Type.String({ format: 'date-time' }),
    /** Who marked the spam; null when that user was deleted. */
    blockedBy: Nullable(IdSchema),
    blockedByName: Nullable(Type.String()),
    identities: Type.Array(
      Type.Object({
        channelId: IdSchema,
        channelName: Type.String(),
        channelKind: Type.String(),
        externalId: Type.String(),
      }),
    ),
  },
  { title: 'BlockedClient' },
);
export type BlockedClient = Static<typeof BlockedClientSchema>;

export const BlockedClientListSchema = Type.Object(
  {
    items: Type.Array(BlockedClientSchema),
    /** More blocked clients exist than this list shows (newest first). */
    hasMore: Type.Boolean(),
  },
  { title: 'BlockedClientList' },
);
export type BlockedClientList = Static<typeof BlockedClientListSchema>;
