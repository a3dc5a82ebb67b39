/**
 * The one definition of "a client's personal data" (issue 18, docs/privacy.md): which tables and
 * columns hold it, how the rows of one client, dialog, session or message are found, and what
 * erasing them means. The erasure routine (services/erasure) executes this table and nothing else,
 * for every path: history saving off, line and channel deletion, client erasure, retention expiry and
 * account deletion. A test (server/test/personal-data-coverage.test.ts) reads every text, json and
 * bytea column of the live schema and fails when one is in neither list below, so a new column is
 * classified before it can keep a client's data nobody erases.
 *
 * Pure data: no imports from store, services or I/O.
 */

import type { LineLanguage } from '@openlines/contract';

/** What an erasure is about: everything of these clients, dialogs, sessions or messages. */
export type ErasureScope = 'client' | 'dialog' | 'session' | 'message';

/**
 * How the rows of a scope are found: `columns` of this table equal to the scope's ids, or (with
 * `via`) equal to `via.columns` of the rows of `via.table` whose `via.key` is one of the ids.
 */
export interface Reach {
  columns: readonly string[];
  via?: { table: string; key: string; columns: readonly string[] };
}

/** A value an erased column gets; arrays and objects are written as JSON. */
export type ErasedValue = string | number | boolean | null | readonly unknown[];

export interface PersonalDataEntry {
  table: string;
  /** What it is, in words (docs/privacy.md lists the same). */
  holds: string;
  /** The columns that carry personal data. */
  columns: readonly string[];
  reach: Partial<Record<ErasureScope, Reach>>;
  /**
   * Erasing the content of a scope (history off, retention, a deleted dialog's rows before they go):
   * `set` blanks these columns and keeps the row; `delete` removes the row. Absent: the content
   * scopes leave this table alone (e.g. a client's card survives history saving off).
   */
  content?: { set: Record<string, ErasedValue> } | 'delete';
  /** Anonymising a client (the dialogs stay, as "Deleted client"): `set` these, or delete the row. */
  anonymise?: { set: Record<string, ErasedValue> } | 'delete';
  /** JSON arrays of attachments (`[{ url }]`) whose files (rows and bytes) go with the content. */
  attachments?: string;
  /** Columns holding one URL that may be one of our stored files (an avatar). */
  fileUrls?: readonly string[];
  /** Rows in this state keep their content until they leave it (an outbox row not yet sent). */
  keepWhile?: { column: string; value: string; scopes: readonly ErasureScope[] };
  /** Handled by its own step of the routine rather than by `set`/`delete` (the event log, files). */
  handledBy?: 'event-log' | 'files';
}

/**
 * The name an anonymised client, CRM contact, lead or deal is shown under, as written in the
 * definitions below; the erasure writes it in the account's language (`deletedClientName`).
 */
export const DELETED_CLIENT_NAME = 'Deleted client';

/** "Deleted client" in each language an account's lines speak (OT-1 notification languages). */
export const DELETED_CLIENT_NAMES = {
  en: DELETED_CLIENT_NAME,
  ru: 'Удалённый клиент',
} as const satisfies Record<LineLanguage, string>;

export function deletedClientName(language: LineLanguage): string {
  return DELETED_CLIENT_NAMES[language];
}

/** An entry's `set` with the deleted client's name in `language` in place of DELETED_CLIENT_NAME. */
export function localisedSet(
  set: Record<string, ErasedValue>,
  language: LineLanguage,
): Record<string, ErasedValue> {
  return Object.fromEntries(
    Object.entries(set).map(([column, value]) => [
      column,
      value === DELETED_CLIENT_NAME ? deletedClientName(language) : value,
    ]),
  );
}

const byClient: Reach = { columns: ['client_id'] };
const byDialog: Reach = { columns: ['dialog_id'] };
const bySession: Reach = { columns: ['session_id'] };
const contactOf = (key: ErasureScope, column: string): Reach => ({
  columns: [column],
  via: {
    table: 'crm_contacts',
    key: key === 'client' ? 'client_id' : 'id',
    columns: ['id'],
  },
});

/**
 * In execution order: rows found through another table come before the rows they are found by
 * (a visitor through the client's identities, a CRM identity through the contact).
 */
export const PERSONAL_DATA: readonly PersonalDataEntry[] = [
  {
    table: 'widget_visitors',
    holds:
      "a website visitor's site id, name and e-mail, their token's hash, and the page they are on and came from",
    columns: ['external_id', 'user_id', 'name', 'email', 'token_hash', 'page_url', 'page_referrer'],
    reach: {
      client: {
        columns: ['channel_id', 'external_id'],
        via: { table: 'client_identities', key: 'client_id', columns: ['channel_id', 'external_id'] },
      },
    },
    anonymise: 'delete',
  },
  {
    table: 'crm_contact_identities',
    holds: "the CRM contact's phones, e-mails and messenger ids",
    columns: ['value'],
    reach: { client: contactOf('client', 'contact_id') },
    anonymise: 'delete',
  },
  {
    table: 'crm_leads',
    holds: "a lead's title (usually the client's name)",
    columns: ['title'],
    reach: { client: contactOf('client', 'contact_id') },
    anonymise: { set: { title: DELETED_CLIENT_NAME } },
  },
  {
    table: 'crm_deals',
    holds: "a deal's title (usually the client's name)",
    columns: ['title'],
    reach: { client: contactOf('client', 'contact_id') },
    anonymise: { set: { title: DELETED_CLIENT_NAME } },
  },
  {
    table: 'crm_contacts',
    holds: "the CRM contact's name, photo and notes",
    columns: ['name', 'photo_url', 'notes'],
    reach: { client: byClient },
    anonymise: { set: { name: DELETED_CLIENT_NAME, photo_url: null, notes: '' } },
    fileUrls: ['photo_url'],
  },
  {
    table: 'consents',
    holds: 'when the client consented to the processing of their data, in which channel',
    columns: ['how'],
    reach: { client: byClient },
    anonymise: 'delete',
  },
  {
    table: 'client_identities',
    holds:
      "the client's ids in the channels (messenger user ids, e-mail addresses, phone numbers), and a widget visitor's current page and referrer",
    columns: ['external_id', 'page_url', 'page_referrer'],
    reach: { client: byClient },
    anonymise: 'delete',
  },
  {
    table: 'clients',
    holds: "the client's name, avatar, e-mail and phone (also what the contact form collects)",
    columns: ['name', 'avatar_url', 'email', 'phone'],
    reach: { client: { columns: ['id'] } },
    anonymise: { set: { name: DELETED_CLIENT_NAME, avatar_url: null, email: null, phone: null } },
    fileUrls: ['avatar_url'],
  },
  {
    table: 'events',
    holds: 'the realtime event log: message texts, previews and the client card of each dialog event',
    columns: ['data'],
    reach: { dialog: byDialog },
    handledBy: 'event-log',
  },
  {
    table: 'outbox',
    holds: 'the copy of an outgoing message a channel is sent (text, attachments, recipient id)',
    columns: ['payload', 'last_error'],
    reach: {
      dialog: { columns: ['message_id'], via: { table: 'messages', key: 'dialog_id', columns: ['id'] } },
      session: { columns: ['message_id'], via: { table: 'messages', key: 'session_id', columns: ['id'] } },
      message: { columns: ['message_id'] },
    },
    content: 'delete',
    // History saving off: a goodbye queued at the close still reaches the client; the worker drops
    // its content once it is delivered (retainedOutboxPayload).
    keepWhile: { column: 'state', value: 'pending', scopes: ['session', 'message'] },
  },
  {
    table: 'bot_deliveries',
    holds: "the events sent to an external bot (the client's messages, their name)",
    columns: ['payload', 'last_error'],
    reach: {
      dialog: { columns: ['session_id'], via: { table: 'sessions', key: 'dialog_id', columns: ['id'] } },
      session: bySession,
    },
    content: 'delete',
    // A session's events still waiting reach the bot first (the history-off close included).
    keepWhile: { column: 'state', value: 'pending', scopes: ['session'] },
  },
  {
    table: 'webhook_deliveries',
    holds: 'copies of events sent to event webhooks (message texts, client names)',
    columns: ['body', 'last_error'],
    reach: {},
    // Deleted with the events of erased dialogs (store/personal-data forgetWebhookDeliveries).
    handledBy: 'event-log',
  },
  {
    table: 'files',
    holds: "attachments' names, and their bytes on disk under DATA_DIR/files",
    columns: ['name', 'sha256'],
    reach: {},
    handledBy: 'files',
  },
  {
    table: 'messages',
    holds: 'message texts and attachments (client, operator, bot and system messages)',
    columns: ['text', 'attachments', 'delivery_error'],
    reach: { dialog: byDialog, session: bySession, message: { columns: ['id'] } },
    content: { set: { text: null, attachments: [], delivery_error: null } },
    attachments: 'attachments',
  },
  {
    table: 'sessions',
    holds: "the client's rating comment and the supervisor's comment on the session",
    columns: ['rating_comment', 'supervisor_comment'],
    reach: { dialog: byDialog, session: { columns: ['id'] } },
    content: { set: { rating_comment: null, supervisor_comment: null } },
  },
  {
    table: 'dialogs',
    holds: "the dialog's last message preview",
    columns: ['last_message_preview'],
    reach: { dialog: { columns: ['id'] }, client: byClient },
    content: { set: { last_message_preview: null } },
  },
];

/**
 * Text, json and bytea columns that hold no client's personal data, with the reason. The coverage
 * test fails on a column in neither list.
 */
export const NOT_CLIENT_DATA: Readonly<Record<string, string>> = {
  'plans.*': "the server operator's plan names",
  'accounts.*': "the company's own name and counters",
  'roles.*': 'role names and permissions',
  'users.*':
    "the company's own users (operators), with the name and photo they are shown to clients under: kept and erased with the user account",
  'departments.*': 'department names',
  'absences.*': "operators' absence reasons",
  'auth_sessions.*': "operators' sign-in sessions (their user agent and address); expire by SESSION_TTL_DAYS",
  'api_tokens.*': 'token names and hashes',
  'server_settings.*': 'server-wide settings',
  'lines.*': "the line's name and settings (texts written by the company)",
  'channels.*': "the channel's name, settings and encrypted secrets",
  'channel_state.*': "a connector's cursors (update offsets, IMAP UIDs): no message content",
  'quick_answers.*': 'canned answers written by the company',
  'operator_connections.*': "operators' socket connections",
  'agreement_versions.*': 'the agreement texts the company wrote',
  'kpi_breaches.*': 'timestamps and kinds',
  'timers.*': 'a timer kind and an operator id; erased with the session',
  'session_transitions.*': 'status changes with a machine reason; erased with the session',
  'events.type': 'an event type name',
  'events.audience': 'user ids and permission names',
  'outbox.state': 'a delivery state',
  'outbox.trace_parent': 'a trace id and span id (W3C traceparent)',
  'files.mime_type': 'a media type',
  'files.uploaded_by_kind': 'user, client or channel',
  'files.uploaded_by_id': 'an id',
  'file_erasures.*': 'ids of files whose bytes are being removed',
  'sessions.status': 'a state name',
  'sessions.passed_by': 'operator ids',
  'sessions.offered_to': 'operator ids',
  'sessions.close_reason': 'a machine reason',
  'sessions.rating': 'like or dislike',
  'dialogs.tags': "labels from the company's own vocabulary (up to 40 characters each)",
  'session_facts.rating': 'like or dislike',
  'session_facts.time_zone': "the account's reporting time zone",
  'statistics_daily.time_zone': "the account's reporting time zone",
  'messages.author_kind': 'client, operator, bot or system',
  'messages.author_id': 'an id',
  'messages.delivery_state': 'a delivery state',
  'messages.external_id': "the channel's message id, meaningless without the message",
  'messages.client_message_id': "the sender's idempotency key",
  'messages.system_kind': 'which automatic text a message is',
  'messages.mentions': 'ids of the colleagues a private note mentions',
  'client_identities.channel_id': 'an id',
  'widget_visitors.channel_id': 'an id',
  'crm_pipelines.*': 'pipeline names',
  'crm_stages.*': 'stage names',
  'crm_companies.*': "companies (legal entities); a person's data belongs in a contact",
  'crm_contacts.source_kind': 'where the record came from',
  'crm_contact_identities.kind': 'channel, phone or email',
  'crm_leads.status': 'a status name',
  'crm_leads.source_kind': 'where the record came from',
  'crm_deals.source_kind': 'where the record came from',
  'audit_log.*':
    "who did what to which record: ids, action names and setting keys, never values or a client's data",
  'consents.decision': 'given or refused',
  'widget_visitors.consent_decision': 'given or refused',
  'webhook_subscriptions.*': "the company's webhook URLs, event names and encrypted secrets",
  'crm_adapters.*': "the company's external CRM: its kind, URL, encrypted API token and feed cursor",
  'crm_sync_jobs.*':
    "ids of sessions and operators, the external CRM's record ids, and our own error texts (status codes)",
  'webhook_state.*': 'per dialog, the last session status, operator and line ids sent to webhooks',
  'webhook_deliveries.event_id': 'an id',
  'webhook_deliveries.event_type': 'an event type name',
  'webhook_deliveries.ordering_key': 'a dialog or channel id',
  'webhook_deliveries.content_type': 'a media type',
  'webhook_deliveries.state': 'a delivery state',
  'bots.*': "the company's bots: names, avatars, webhook URLs, hashed tokens, encrypted secrets",
  'bot_versions.*': "the built-in bot's steps and texts, written by the company",
  'bot_deliveries.state': 'a delivery state',
  'sessions.bot_state': "the built-in bot's step and count of unmatched messages",
  'crm_contacts.source': "where the record came from (a line's name)",
  'crm_leads.source': "where the record came from (a line's name)",
  'crm_deals.source': "where the record came from (a line's name)",
  'session_facts.answers': 'answer times in seconds',
  'bitrix_apps.*': "the company's REST applications: names, hashed and encrypted tokens",
  'bitrix_webhooks.*': "the company's incoming webhooks: names and hashed secrets",
  'bitrix_connectors.*': "registered connectors' codes, names and handler URLs",
  'bitrix_event_handlers.*': 'event names and the handler URLs bound to them',
  'bitrix_bots.*': 'bots registered through imbot.*: codes, types, client ids and handler URLs',
  'bitrix_bot_commands.*': 'slash commands of those bots: names, titles, client ids and handler URLs',
  'bitrix_ids.*': 'numeric ids mapped to ours, with the kind of record',
  'kysely_migration.*': 'migration names',
  'kysely_migration_lock.*': 'the migration lock',
};

/** Whether a column is classified: holds personal data (above) or is listed as not holding any. */
export function classification(table: string, column: string): 'personal' | 'not_personal' | null {
  if (PERSONAL_DATA.some((entry) => entry.table === table && entry.columns.includes(column)))
    return 'personal';
  if (NOT_CLIENT_DATA[`${table}.${column}`] || NOT_CLIENT_DATA[`${table}.*`]) return 'not_personal';
  return null;
}

/** The entries that take part in erasing `scope` the given way, in execution order. */
export function entriesFor(
  scope: ErasureScope,
  how: 'content' | 'anonymise',
): (PersonalDataEntry & { reach: Record<ErasureScope, Reach> })[] {
  return PERSONAL_DATA.filter(
    (entry) => entry.reach[scope] !== undefined && entry[how] !== undefined,
  ) as (PersonalDataEntry & { reach: Record<ErasureScope, Reach> })[];
}

/**
 * What stays of an outbox row once its message is delivered (or given up on): the author as the
 * client was shown them and the quick replies, which the widget still presents, and no text,
 * attachments or recipient id. The widget's rows are stored delivered, so this is all they keep.
 */
export function retainedOutboxPayload(payload: unknown): unknown {
  if (typeof payload !== 'object' || payload === null) return payload;
  const { message, ...rest } = payload as { message?: Record<string, unknown> };
  if (!message || typeof message !== 'object') return rest;
  const {
    text: _text,
    attachments: _attachments,
    recipientId: _recipient,
    template: _template,
    ...kept
  } = message;
  return { ...rest, message: kept };
}

/** The SQL expression the outbox worker uses to the same effect when it records a delivery. */
export const RETAINED_OUTBOX_PATHS = [
  ['message', 'text'],
  ['message', 'attachments'],
  ['message', 'recipientId'],
  ['message', 'template'],
] as const;

/**
 * History saving off (OT-1): when a closed session is final, i.e. nothing more will be written to
 * it, so its texts can go. A rating request may still be sent (`delaySeconds` after the close) and
 * answered (within `timeLimitSeconds`, or `UNLIMITED_RATING_WAIT_SECONDS` when the line sets no
 * limit); the session is final once the last of these is over, or at once when it is rated.
 */
export const UNLIMITED_RATING_WAIT_SECONDS = 24 * 60 * 60;

export function historyFinalAt(
  rating: { enabled: boolean; when: string; delaySeconds: number; timeLimitSeconds: number },
  session: { closedAt: Date; rated: boolean; ratingRequestedAt: Date | null },
): Date {
  if (!rating.enabled || session.rated) return session.closedAt;
  const wait = rating.timeLimitSeconds > 0 ? rating.timeLimitSeconds : UNLIMITED_RATING_WAIT_SECONDS;
  const requestedAt =
    session.ratingRequestedAt ??
    new Date(session.closedAt.getTime() + (rating.when === 'on_close' ? 0 : rating.delaySeconds * 1000));
  return new Date(requestedAt.getTime() + wait * 1000);
}

/** How many days a line's messages are kept: the line's own setting, else the account's; null: kept. */
export function retentionDaysOf(lineDays: number | undefined, accountDays: number | null): number | null {
  if (lineDays && lineDays > 0) return lineDays;
  return accountDays && accountDays > 0 ? accountDays : null;
}
