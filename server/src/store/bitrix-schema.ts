import type { ColumnType, Generated, Selectable } from 'kysely';

/** Tables of the Bitrix24-compatible REST surface (migration 0027, server/src/bitrix). */

export interface BitrixIdsTable {
  id: Generated<number>;
  account_id: string;
  kind: string;
  ref: string;
}

export interface BitrixAppsTable {
  id: Generated<number>;
  account_id: string;
  user_id: string;
  name: string;
  access_token_hash: string;
  /** Sealed with the server key (secret-box): sent with every event, so it must be readable. */
  application_token: string;
  created_at: Date;
  revoked_at: Date | null;
}

export interface BitrixWebhooksTable {
  id: Generated<number>;
  account_id: string;
  user_id: string;
  name: string;
  secret_hash: string;
  created_at: Date;
  revoked_at: Date | null;
}

export interface BitrixConnectorsTable {
  id: Generated<number>;
  account_id: string;
  app_id: number;
  code: string;
  name: string;
  chat_group: Generated<boolean>;
  placement_handler: string | null;
  created_at: Date;
}

export interface BitrixEventHandlersTable {
  id: Generated<number>;
  account_id: string;
  app_id: number;
  event: string;
  handler: string;
  created_at: Date;
}

/** What Bitrix24 keeps of a bot registered with imbot.register (migration 0033); the bot is a `bots` row. */
export interface BitrixBotHandlers {
  messageAdd: string;
  welcome: string | null;
  botDelete: string | null;
  messageUpdate: string | null;
  messageDelete: string | null;
}

export interface BitrixBotsTable {
  id: Generated<number>;
  account_id: string;
  app_id: number;
  bot_id: string;
  code: string;
  /** B, O, H or S, as registered. */
  type: string;
  openline: boolean;
  handlers: ColumnType<BitrixBotHandlers, string, string>; // jsonb
  client_id: string | null;
  created_at: Date;
}

/** imbot.command.register: a title (and parameter hint) per language, as registered. */
export interface BitrixCommandLang {
  language: string;
  title: string;
  params: string;
}

export interface BitrixBotCommandsTable {
  id: Generated<number>;
  account_id: string;
  bitrix_bot_id: number;
  /** Lower-case, without the slash. */
  command: string;
  common: boolean;
  hidden: boolean;
  /** EVENT_COMMAND_ADD: where ONIMCOMMANDADD is posted. */
  handler: string;
  lang: ColumnType<BitrixCommandLang[], string, string>; // jsonb
  client_id: string | null;
  created_at: Date;
}

export interface BitrixTables {
  bitrix_ids: BitrixIdsTable;
  bitrix_apps: BitrixAppsTable;
  bitrix_webhooks: BitrixWebhooksTable;
  bitrix_connectors: BitrixConnectorsTable;
  bitrix_event_handlers: BitrixEventHandlersTable;
  bitrix_bots: BitrixBotsTable;
  bitrix_bot_commands: BitrixBotCommandsTable;
}

export type BitrixAppRow = Selectable<BitrixAppsTable>;
export type BitrixWebhookRow = Selectable<BitrixWebhooksTable>;
export type BitrixConnectorRow = Selectable<BitrixConnectorsTable>;
export type BitrixBotRow = Selectable<BitrixBotsTable>;
export type BitrixBotCommandRow = Selectable<BitrixBotCommandsTable>;
