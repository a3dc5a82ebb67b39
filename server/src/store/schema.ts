import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Kysely table types: one PostgreSQL schema for both PGlite and PostgreSQL. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamp column with a database default (`now()`), optional on insert. */
type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string, string>;

export interface PlansTable {
  id: string;
  name: string;
  max_lines: number;
  max_users: number | null;
  max_channels: ColumnType<number | null, number | null | undefined, number | null>;
  max_storage_bytes: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface AccountsTable {
  id: Generated<string>;
  name: string;
  plan_id: string;
  /** The last event cursor handed out; bumped in the same transaction as the event row. */
  event_seq: Generated<number>;
  created_at: DefaultTimestamp;
  /** Messages and files older than this many days are erased (null: kept); docs/privacy.md. */
  message_retention_days: ColumnType<number | null, number | null | undefined, number | null>;
  /** The event log has pruned every cursor up to this one: resuming from before it means resync. */
  events_pruned_through: Generated<number>;
  /** The IANA time zone statistics periods and buckets are read in (issue 13). */
  time_zone: Generated<string>;
  /** Suspended: nobody signs in and its channels take no messages (issue 21). */
  status: Generated<'active' | 'suspended'>;
  suspended_at: NullableTimestamp;
}

export interface RolesTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  built_in: string | null;
  permissions: Json<import('@openlines/contract').Permissions>;
  created_at: DefaultTimestamp;
}

export interface UsersTable {
  id: Generated<string>;
  account_id: string;
  email: string;
  name: string;
  avatar_url: string | null;
  /** the name and photo clients see instead of the profile's (null = the profile's). */
  client_name: string | null;
  client_avatar_url: string | null;
  password_hash: string | null;
  role_id: string;
  active: Generated<boolean>;
  presence: Generated<'online' | 'away' | 'offline'>;
  presence_changed_at: DefaultTimestamp;
  created_at: DefaultTimestamp;
  deactivated_at: NullableTimestamp;
}

export interface DepartmentsTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  parent_id: string | null;
  created_at: DefaultTimestamp;
}

export interface DepartmentMembersTable {
  account_id: string;
  department_id: string;
  user_id: string;
}

export interface AbsencesTable {
  id: Generated<string>;
  account_id: string;
  user_id: string;
  starts_at: Timestamp;
  ends_at: Timestamp;
  reason: string | null;
}

export interface AuthSessionsTable {
  /** SHA-256 of the session token; the token itself lives only in the browser's cookie. */
  token_hash: string;
  user_id: string;
  account_id: string;
  created_at: DefaultTimestamp;
  last_seen_at: DefaultTimestamp;
  expires_at: Timestamp;
  user_agent: string | null;
  ip: string | null;
}

export interface ApiTokensTable {
  id: Generated<string>;
  account_id: string;
  user_id: string;
  name: string;
  prefix: string;
  token_hash: string;
  created_at: DefaultTimestamp;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export interface EventsTable {
  account_id: string;
  cursor: number;
  type: string;
  data: Json<unknown>;
  audience: Json<import('@openlines/contract').EventAudience>;
  /** The dialog the event is about (message, dialog and notification events); null for others. */
  dialog_id: string | null;
  created_at: DefaultTimestamp;
}

export interface LinesTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  active: Generated<boolean>;
  settings: Json<import('@openlines/contract').LineSettings>;
  /** The operator who got the last `strictly` assignment: round-robin continues after them. */
  strict_cursor: string | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

export interface ChannelsTable {
  id: Generated<string>;
  account_id: string;
  line_id: string | null;
  kind: string;
  name: string;
  status: Generated<'connected' | 'disconnected'>;
  settings: Json<Record<string, unknown>>;
  /** Connector secrets (webhook signing key, bot token), encrypted with the server key. */
  secrets: string | null;
  inbound_token_hash: string | null;
  external_key: string | null;
  created_at: DefaultTimestamp;
  /** Why the platform refuses our credentials (a revoked token); null while it accepts them. */
  failure: string | null;
  failure_at: Date | null;
  /** Mirrors the account's suspension, set with it, so the inbound path needs no extra read. */
  account_suspended: Generated<boolean>;
}

export interface ClientsTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  avatar_url: string | null;
  email: string | null;
  phone: string | null;
  created_at: DefaultTimestamp;
  /** OP-3: marked as spam; a new session of this client on any line is stored but not routed. */
  blocked_at: NullableTimestamp;
  blocked_by: string | null;
}

export interface ClientIdentitiesTable {
  account_id: string;
  client_id: string;
  channel_id: string;
  external_id: string;
  /** Widget: the page the visitor is on and where they came from, as the widget last reported. */
  page_url: ColumnType<string | null, string | null | undefined, string | null>;
  page_referrer: ColumnType<string | null, string | null | undefined, string | null>;
  page_at: NullableTimestamp;
}

export interface DialogsTable {
  id: Generated<string>;
  account_id: string;
  line_id: string;
  channel_id: string;
  client_id: string;
  pinned_operator_id: string | null;
  spam: Generated<boolean>;
  last_message_at: NullableTimestamp;
  last_message_preview: string | null;
  unreachable_at: NullableTimestamp;
  created_at: DefaultTimestamp;
  /** Labels operators put on the dialog (issue 19), in name order; the list filters by them. */
  tags: ColumnType<string[], string | undefined, string>;
}

export interface SessionsTable {
  id: Generated<string>;
  /** Creation order: the latest session of a dialog even when two share a timestamp. */
  seq: Generated<number>;
  account_id: string;
  dialog_id: string;
  line_id: string;
  status: import('@openlines/contract').SessionStatus;
  operator_id: string | null;
  passed_by: Json<string[]>;
  offered_to: Json<string[]>;
  pinned: Generated<boolean>;
  unanswered: Generated<boolean>;
  created_at: DefaultTimestamp;
  queued_at: NullableTimestamp;
  assigned_at: NullableTimestamp;
  first_answer_at: NullableTimestamp;
  last_client_message_at: NullableTimestamp;
  last_operator_message_at: NullableTimestamp;
  closed_at: NullableTimestamp;
  close_reason: string | null;
  opened_off_hours: Generated<boolean>;
  off_hours_reply_sent: Generated<boolean>;
  /** The first client message the operator has not answered yet (KPI, no-answer rule). */
  waiting_since: NullableTimestamp;
  consent_requested_at: NullableTimestamp;
  consent_given_at: NullableTimestamp;
  rating_requested_at: NullableTimestamp;
  rating: 'like' | 'dislike' | null;
  rating_comment: string | null;
  rated_at: NullableTimestamp;
  supervisor_rating: number | null;
  supervisor_comment: string | null;
  supervisor_rated_by: string | null;
  supervisor_rated_at: NullableTimestamp;
  /** CRM-3: the client's contact and lead or deal this session is an activity of. */
  crm_contact_id: string | null;
  crm_lead_id: string | null;
  crm_deal_id: string | null;
  /** BOT-1/BOT-4: the bot that holds or held the session, the definition version it started with,
   * the built-in bot's place in its menu, and when the bot took and left the session. */
  bot_id: ColumnType<string | null, string | null | undefined, string | null>;
  bot_version: ColumnType<number | null, number | null | undefined, number | null>;
  bot_state: ColumnType<import('../core/bots').BotState | null, string | null | undefined, string | null>;
  bot_started_at: NullableTimestamp;
  bot_ended_at: NullableTimestamp;
}

export interface SessionTransitionsTable {
  id: Generated<number>;
  account_id: string;
  session_id: string;
  /** The session's dialog, so "the dialogs a user handled" is one index lookup. */
  dialog_id: string;
  from_status: string | null;
  to_status: string;
  operator_id: string | null;
  actor_kind: 'client' | 'operator' | 'system' | 'bot';
  actor_id: string | null;
  reason: string;
  at: Timestamp;
  /** What the operator said about a transfer, for the colleague who receives the dialog. */
  comment: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface SessionParticipantsTable {
  session_id: string;
  user_id: string;
  joined_at: Timestamp;
}

export interface MessagesTable {
  id: Generated<string>;
  /** Insertion order: breaks ties between messages stored in the same millisecond. */
  seq: Generated<number>;
  account_id: string;
  dialog_id: string;
  session_id: string | null;
  channel_id: string;
  author_kind: 'client' | 'operator' | 'bot' | 'system';
  author_id: string | null;
  text: string | null;
  attachments: Json<import('@openlines/contract').Attachment[]>;
  private: Generated<boolean>;
  spam: Generated<boolean>;
  delivery_state: 'received' | 'pending' | 'sent' | 'delivered' | 'read' | 'failed' | 'none';
  delivery_error: string | null;
  external_id: string | null;
  client_message_id: string | null;
  system_kind: string | null;
  created_at: Timestamp;
  /** The text was changed after it was written (an operator's edit, a client's edit in the channel). */
  edited_at: NullableTimestamp;
  /** Withdrawn: the row stays so the timeline shows where it was; text and attachments are emptied. */
  deleted_at: NullableTimestamp;
  /** Colleagues mentioned in a private note (user ids); null on every other message. */
  mentions: ColumnType<string[] | null, string | null | undefined, string | null>;
}

export interface OutboxTable {
  id: Generated<number>;
  account_id: string;
  channel_id: string;
  message_id: string | null;
  payload: Json<unknown>;
  state: Generated<'pending' | 'sent' | 'failed'>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  last_error: string | null;
  /** W3C traceparent of the step that queued it, when tracing is on (its delivery span links to it). */
  trace_parent: Generated<string | null>;
  created_at: DefaultTimestamp;
}

export interface TimersTable {
  id: Generated<number>;
  account_id: string;
  kind: string;
  session_id: string | null;
  due_at: Timestamp;
  payload: Json<Record<string, unknown>>;
}

export interface QuickAnswersTable {
  id: Generated<string>;
  account_id: string;
  title: string;
  text: string;
  created_by: string | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  /** A personal quick answer: only its owner sees it; null for the shared list. */
  owner_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** A quick answer of one line: offered only in that line's dialogs; null for every line. */
  line_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface OperatorConnectionsTable {
  id: string;
  account_id: string;
  user_id: string;
  node_id: string;
  connected_at: Timestamp;
  last_seen_at: Timestamp;
}

export interface FilesTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  mime_type: string;
  size: number;
  sha256: string;
  uploaded_by_kind: 'user' | 'client' | 'channel';
  uploaded_by_id: string | null;
  created_at: DefaultTimestamp;
}

export interface ChannelStateTable {
  channel_id: string;
  data: Json<Record<string, unknown>>;
  updated_at: DefaultTimestamp;
}

export interface AgreementVersionsTable {
  id: Generated<string>;
  account_id: string;
  line_id: string;
  version: number;
  text: string;
  created_at: Timestamp;
}

export interface ConsentsTable {
  id: Generated<string>;
  account_id: string;
  client_id: string;
  agreement_version_id: string;
  channel_id: string | null;
  session_id: string | null;
  how: 'button' | 'reply' | 'api';
  /** Refusals are recorded too (issue 18); only 'given' counts as consent. */
  decision: Generated<'given' | 'refused'>;
  given_at: Timestamp;
}

/** Privileged actions (issue 18), apart from personal data: no values, no texts. */
export interface AuditLogTable {
  id: Generated<string>;
  account_id: string;
  user_id: string | null;
  user_name: string;
  action: string;
  target_type: string;
  target_id: string | null;
  changed_keys: Json<string[]>;
  at: Timestamp;
}

export interface KpiBreachesTable {
  id: Generated<string>;
  account_id: string;
  session_id: string;
  kind: 'first_answer' | 'further_answer';
  operator_id: string | null;
  waiting_since: Timestamp;
  due_at: Timestamp;
  answered_at: NullableTimestamp;
}

export interface WidgetVisitorsTable {
  id: Generated<string>;
  account_id: string;
  channel_id: string;
  /** SHA-256 of the visitor token; the token itself lives only in the visitor's browser. */
  token_hash: string;
  /** The visitor's client identity in the channel: `v:<visitor id>`, or `u:<site user id>` once identified. */
  external_id: string;
  user_id: string | null;
  name: string | null;
  email: string | null;
  created_at: DefaultTimestamp;
  last_seen_at: DefaultTimestamp;
  /** AG-2 before the first message: the visitor's decision, written to `consents` with that message. */
  consent_decision: ColumnType<'given' | 'refused' | null, 'given' | 'refused' | null | undefined>;
  consent_at: NullableTimestamp;
  page_url: ColumnType<string | null, string | null | undefined, string | null>;
  page_referrer: ColumnType<string | null, string | null | undefined, string | null>;
  page_at: NullableTimestamp;
}

/** Attachment bytes to remove from disk (the durable part of an erasure, workers/privacy). */
export interface FileErasuresTable {
  file_id: string;
  account_id: string;
  queued_at: DefaultTimestamp;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export type CrmSourceColumns = {
  responsible_id: string | null;
  source_channel_id: string | null;
  /** The channel kind the record came from, or `manual` / `import` / `api`. */
  source_kind: string;
  /** `CRM_SOURCE`: the line's name when the line creates its source, else the chosen source id. */
  source: Generated<string>;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
};

export interface CrmPipelinesTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  is_default: Generated<boolean>;
  position: number;
  created_at: DefaultTimestamp;
}

export interface CrmStagesTable {
  id: Generated<string>;
  account_id: string;
  pipeline_id: string;
  name: string;
  position: number;
  semantics: ColumnType<
    'open' | 'won' | 'lost',
    'open' | 'won' | 'lost' | undefined,
    'open' | 'won' | 'lost'
  >;
}

export interface CrmCompaniesTable extends CrmSourceColumns {
  id: Generated<string>;
  account_id: string;
  name: string;
  notes: Generated<string>;
}

export interface CrmContactsTable extends CrmSourceColumns {
  id: Generated<string>;
  account_id: string;
  client_id: string | null;
  company_id: string | null;
  name: string;
  photo_url: string | null;
  notes: Generated<string>;
  consent_missing: Generated<boolean>;
}

export interface CrmContactIdentitiesTable {
  account_id: string;
  contact_id: string;
  kind: 'channel' | 'phone' | 'email';
  /** `channel`: `<channel id>:<external id>`; `phone`: E.164; `email`: case-folded. */
  value: string;
}

export type CrmLeadStatus = 'new' | 'in_progress' | 'converted' | 'junk';

export interface CrmLeadsTable extends CrmSourceColumns {
  id: Generated<string>;
  account_id: string;
  contact_id: string | null;
  title: string;
  status: ColumnType<CrmLeadStatus, CrmLeadStatus | undefined, CrmLeadStatus>;
  consent_missing: Generated<boolean>;
  /** The company a converted lead became (migration 0031). */
  company_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface CrmDealsTable extends CrmSourceColumns {
  id: Generated<string>;
  account_id: string;
  contact_id: string | null;
  company_id: string | null;
  pipeline_id: string;
  stage_id: string;
  title: string;
  consent_missing: Generated<boolean>;
  closed_at: NullableTimestamp;
  /** The lead this deal was converted from (migration 0031). */
  lead_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Event webhooks (migration 0022): subscriptions, the per-account feed, its state and the outbox. */
export interface WebhookSubscriptionsTable {
  id: Generated<string>;
  account_id: string;
  url: string;
  description: Generated<string>;
  events: Json<import('@openlines/contract').WebhookEventType[]>;
  line_ids: Json<string[]>;
  /** The signing secret, sealed with the server key (associated data: the subscription id). */
  secret: string;
  status: Generated<'active' | 'paused'>;
  paused_reason: string | null;
  paused_at: NullableTimestamp;
  consecutive_failures: Generated<number>;
  start_cursor: number;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

/** CRM-4: the external CRM an account uses instead of the built-in one (migration 0042). */
export interface CrmAdaptersTable {
  account_id: string;
  kind: string;
  base_url: string;
  /** The API token, sealed (services/secret-box) with the account id as associated data. */
  token: string;
  /** The last event of the account's log turned into sync jobs. */
  cursor: Generated<number>;
  /** Sessions started before this are not sent. */
  enabled_at: Timestamp;
  updated_at: Timestamp;
}

/** CRM-4: one call (or a few) to make to the external CRM, retried until done. */
export interface CrmSyncJobsTable {
  id: Generated<number>;
  account_id: string;
  key: string;
  kind: 'session' | 'responsible';
  session_id: string;
  operator_id: string | null;
  state: Generated<'pending' | 'done'>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  last_status: number | null;
  last_error: string | null;
  result: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  created_at: Timestamp;
  done_at: Timestamp | null;
}

export interface WebhookFeedsTable {
  account_id: string;
  cursor: number;
}

export interface WebhookStateTable {
  account_id: string;
  key: string;
  value: Json<Record<string, unknown>>;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  account_id: string;
  subscription_id: string;
  event_id: string;
  event_type: string;
  ordering_key: string;
  content_type: Generated<string>;
  body: string;
  state: Generated<'pending' | 'delivered'>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  last_attempt_at: NullableTimestamp;
  last_status: number | null;
  last_error: string | null;
  delivered_at: NullableTimestamp;
  created_at: Timestamp;
  /** The dialog's history was erased while this waited: the body goes once it is delivered. */
  forget_body: Generated<boolean>;
}

/** One closed session's figures (core/analytics sessionFacts), filled by the report path. */
export interface SessionFactsTable {
  session_id: string;
  account_id: string;
  /** FACTS_VERSION of the definitions the row was computed with. */
  version: number;
  /** The session's `closed_at` when computed: a reopened or re-closed session is recomputed. */
  closed_at: Timestamp;
  started_at: Timestamp;
  is_returning: boolean;
  messages_in: number;
  messages_out: number;
  bot_messages: number;
  first_answer_seconds: number | null;
  answers: Json<{ operatorId: string | null; seconds: number }[]>;
  close_seconds: number | null;
  bot_seconds: number;
  queue_seconds: number;
  unanswered: boolean;
  missed: boolean;
  kpi_breaches: number;
  spam: boolean;
  operator_id: string | null;
  /** What the row's roll-up contribution depends on (migration 0032): kept in step by triggers. */
  time_zone: Generated<string>;
  day: string | null;
  line_id: string | null;
  channel_id: string | null;
  rating: 'like' | 'dislike' | null;
  supervisor_rating: number | null;
  off_hours: Generated<boolean>;
}

/** Additive figures per account, local day, line, channel and holding operator (migration 0032). */
export interface StatisticsDailyTable {
  account_id: string;
  time_zone: string;
  version: number;
  day: string;
  line_id: string;
  channel_id: string;
  operator_id: string;
  sessions: number;
  returning_sessions: number;
  messages_in: number;
  messages_out: number;
  bot_messages: number;
  bot_ms: number;
  unanswered: number;
  missed: number;
  kpi_breaches: number;
  spam: number;
  likes: number;
  dislikes: number;
  supervisor_sum: number;
  supervisor_count: number;
  outside_hours: number;
}

export interface BotsTable {
  id: Generated<string>;
  account_id: string;
  kind: 'external' | 'builtin';
  name: string;
  avatar_url: string | null;
  webhook_url: string | null;
  token_prefix: string | null;
  /** SHA-256 of the bot's API token (`olb_…`); the token itself is shown once. */
  token_hash: string | null;
  /** The webhook signing secret, encrypted with the server key (services/secret-box). */
  secrets: string | null;
  version: Generated<number>;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

export interface BotVersionsTable {
  bot_id: string;
  version: number;
  definition: Json<import('@openlines/contract').BuiltinBotDefinition>;
  created_at: DefaultTimestamp;
}

export interface BotDeliveriesTable {
  id: Generated<number>;
  account_id: string;
  bot_id: string;
  session_id: string | null;
  payload: Json<unknown>;
  state: Generated<'pending' | 'sent' | 'failed'>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  last_error: string | null;
  created_at: DefaultTimestamp;
}

export interface DB {
  plans: PlansTable;
  accounts: AccountsTable;
  roles: RolesTable;
  users: UsersTable;
  departments: DepartmentsTable;
  department_members: DepartmentMembersTable;
  absences: AbsencesTable;
  auth_sessions: AuthSessionsTable;
  api_tokens: ApiTokensTable;
  events: EventsTable;
  server_settings: SettingsTable;
  lines: LinesTable;
  channels: ChannelsTable;
  clients: ClientsTable;
  client_identities: ClientIdentitiesTable;
  dialogs: DialogsTable;
  sessions: SessionsTable;
  session_transitions: SessionTransitionsTable;
  session_participants: SessionParticipantsTable;
  messages: MessagesTable;
  outbox: OutboxTable;
  timers: TimersTable;
  quick_answers: QuickAnswersTable;
  operator_connections: OperatorConnectionsTable;
  files: FilesTable;
  file_erasures: FileErasuresTable;
  channel_state: ChannelStateTable;
  widget_visitors: WidgetVisitorsTable;
  agreement_versions: AgreementVersionsTable;
  consents: ConsentsTable;
  audit_log: AuditLogTable;
  kpi_breaches: KpiBreachesTable;
  crm_pipelines: CrmPipelinesTable;
  crm_stages: CrmStagesTable;
  crm_companies: CrmCompaniesTable;
  crm_contacts: CrmContactsTable;
  crm_contact_identities: CrmContactIdentitiesTable;
  bots: BotsTable;
  bot_versions: BotVersionsTable;
  bot_deliveries: BotDeliveriesTable;
  crm_leads: CrmLeadsTable;
  crm_deals: CrmDealsTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_feeds: WebhookFeedsTable;
  crm_adapters: CrmAdaptersTable;
  crm_sync_jobs: CrmSyncJobsTable;
  webhook_state: WebhookStateTable;
  webhook_deliveries: WebhookDeliveriesTable;
  session_facts: SessionFactsTable;
  statistics_daily: StatisticsDailyTable;
  bitrix_ids: import('./bitrix-schema').BitrixIdsTable;
  bitrix_apps: import('./bitrix-schema').BitrixAppsTable;
  bitrix_webhooks: import('./bitrix-schema').BitrixWebhooksTable;
  bitrix_connectors: import('./bitrix-schema').BitrixConnectorsTable;
  bitrix_event_handlers: import('./bitrix-schema').BitrixEventHandlersTable;
  bitrix_bots: import('./bitrix-schema').BitrixBotsTable;
  bitrix_bot_commands: import('./bitrix-schema').BitrixBotCommandsTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type RoleRow = Selectable<RolesTable>;
export type AccountRow = Selectable<AccountsTable>;
export type DepartmentRow = Selectable<DepartmentsTable>;
export type AbsenceRow = Selectable<AbsencesTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type EventRow = Selectable<EventsTable>;
export type LineRow = Selectable<LinesTable>;
export type CrmAdapterRow = Selectable<CrmAdaptersTable>;
export type CrmSyncJobRow = Selectable<CrmSyncJobsTable>;
export type BotRow = Selectable<BotsTable>;
export type ChannelRow = Selectable<ChannelsTable>;
export type ClientRow = Selectable<ClientsTable>;
export type DialogRow = Selectable<DialogsTable>;
export type SessionRow = Selectable<SessionsTable>;
export type MessageRow = Selectable<MessagesTable>;
export type WidgetVisitorRow = Selectable<WidgetVisitorsTable>;
export type QuickAnswerRow = Selectable<QuickAnswersTable>;
export type WebhookSubscriptionRow = Selectable<WebhookSubscriptionsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
