import { randomBytes } from 'node:crypto';
import type {
  Bot,
  BotPreview,
  BuiltinBotDefinition,
  CreateBotInput,
  FieldError,
  UpdateBotInput,
} from '@openlines/contract';
import type { AppContext } from '../context';
import { answerBuiltinBot, definitionErrors, startBuiltinBot } from '../core/bots';
import { AppError, notFound } from '../errors';
import type { BotRow } from '../store/schema';
import { type Actor, authorize } from './actor';
import { releaseBotSessions } from './bot-sessions';
import { openJson, sealJson } from './secret-box';
import { hashToken } from './secrets';
import { runInTransaction, type Tx } from './transaction';

/**
 * The account's chatbots (SPEC §7): external bots (a webhook URL, a token for the bot API, a
 * secret that signs their events) and built-in no-code bots (a versioned definition). Managed with
 * `manageIntegrations`; listed also for `manageLines`, whose line settings pick a bot.
 *
 * This is the one place that knows what a bot is: the bot API, the line settings check, and a
 * Bitrix24-compatible `imbot.*` surface would all call these functions rather than the tables.
 */

/** The bot a bot-API request acts as (resolved from its token). */
export type ActingBot = BotRow;

/** Prefix of a bot's API token (`Authorization: Bearer olb_…`). */
export const BOT_TOKEN_PREFIX = 'olb_';
/** Prefix of the secret that signs a bot's events. */
export const BOT_SECRET_PREFIX = 'obs_';

interface BotSecrets {
  webhookSecret: string;
}

const newSecret = (prefix: string) => prefix + randomBytes(32).toString('base64url');

export function presentBot(row: BotRow, definition: BuiltinBotDefinition | null): Bot {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    avatarUrl: row.avatar_url,
    webhookUrl: row.webhook_url,
    tokenPrefix: row.token_prefix,
    definition,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function checkWebhookUrl(value: string, field: string): FieldError[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [{ field, message: 'must be a valid URL' }];
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return [{ field, message: 'must be an http or https URL' }];
  if (url.username || url.password) {
    return [{ field, message: 'must not contain credentials; verify the signature instead' }];
  }
  return [];
}

function checkAvatarUrl(value: string | null | undefined): FieldError[] {
  if (value === null || value === undefined) return [];
  return /^https?:\/\//i.test(value)
    ? []
    : [{ field: 'body.avatarUrl', message: 'must be an http or https URL' }];
}

function checkDefinition(definition: BuiltinBotDefinition | undefined): FieldError[] {
  if (!definition) return [];
  return definitionErrors(definition).map((error) => ({ ...error, field: `body.definition.${error.field}` }));
}

function refuse(errors: FieldError[]): void {
  if (errors.length > 0) {
    throw new AppError('validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
  }
}

async function definitionsOf(tx: Pick<Tx, 'selectFrom'>, rows: BotRow[]) {
  const builtin = rows.filter((row) => row.kind === 'builtin');
  if (builtin.length === 0) return new Map<string, BuiltinBotDefinition>();
  const versions = await tx
    .selectFrom('bot_versions')
    .innerJoin('bots', (join) =>
      join.onRef('bots.id', '=', 'bot_versions.bot_id').onRef('bots.version', '=', 'bot_versions.version'),
    )
    .select(['bot_versions.bot_id', 'bot_versions.definition'])
    .where(
      'bot_versions.bot_id',
      'in',
      builtin.map((row) => row.id),
    )
    .execute();
  return new Map(versions.map((v) => [v.bot_id, v.definition]));
}

export async function listBots(ctx: AppContext, actor: Actor): Promise<Bot[]> {
  if (!actor.permissions.manageIntegrations && !actor.permissions.manageLines)
    authorize(actor, 'manageIntegrations');
  const rows = await ctx.store.db
    .selectFrom('bots')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .orderBy('name')
    .orderBy('id')
    .execute();
  const definitions = await definitionsOf(ctx.store.db, rows);
  return rows.map((row) => presentBot(row, definitions.get(row.id) ?? null));
}

async function loadBot(tx: Pick<Tx, 'selectFrom'>, accountId: string, id: string, lock = false) {
  const query = tx.selectFrom('bots').selectAll().where('account_id', '=', accountId).where('id', '=', id);
  const row = await (lock ? query.forUpdate() : query).executeTakeFirst();
  if (!row) throw notFound('The bot');
  return row;
}

export async function getBot(ctx: AppContext, actor: Actor, id: string): Promise<Bot> {
  authorize(actor, 'manageIntegrations');
  const row = await loadBot(ctx.store.db, actor.accountId, id);
  return presentBot(row, (await definitionsOf(ctx.store.db, [row])).get(row.id) ?? null);
}

export async function createBot(
  ctx: AppContext,
  actor: Actor,
  input: CreateBotInput,
  /** More rows about the bot, written in its transaction (the Bitrix24 surface's imbot.register). */
  within?: (tx: Tx, bot: BotRow) => Promise<void>,
): Promise<{ bot: Bot; secrets: { token: string; webhookSecret: string } | null }> {
  authorize(actor, 'manageIntegrations');
  refuse([
    ...(input.kind === 'external' ? checkWebhookUrl(input.webhookUrl, 'body.webhookUrl') : []),
    ...checkAvatarUrl(input.avatarUrl),
    ...(input.kind === 'builtin' ? checkDefinition(input.definition) : []),
  ]);
  return runInTransaction(ctx, async ({ tx }) => {
    const now = ctx.clock.now();
    const id = crypto.randomUUID();
    const token = input.kind === 'external' ? newSecret(BOT_TOKEN_PREFIX) : null;
    const webhookSecret = input.kind === 'external' ? newSecret(BOT_SECRET_PREFIX) : null;
    const row = await tx
      .insertInto('bots')
      .values({
        id,
        account_id: actor.accountId,
        kind: input.kind,
        name: input.name,
        avatar_url: input.avatarUrl ?? null,
        webhook_url: input.kind === 'external' ? input.webhookUrl : null,
        token_prefix: token ? token.slice(0, 10) : null,
        token_hash: token ? hashToken(token) : null,
        secrets: webhookSecret
          ? sealJson(ctx.encryptionKey, { webhookSecret } satisfies BotSecrets, id)
          : null,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    if (input.kind === 'builtin') {
      await tx
        .insertInto('bot_versions')
        .values({ bot_id: id, version: 1, definition: JSON.stringify(input.definition), created_at: now })
        .execute();
    }
    if (within) await within(tx, row);
    return {
      bot: presentBot(row, input.kind === 'builtin' ? input.definition : null),
      secrets: token && webhookSecret ? { token, webhookSecret } : null,
    };
  });
}

/** Edits a bot; a new built-in definition is a new version (sessions in progress keep theirs). */
export async function updateBot(
  ctx: AppContext,
  actor: Actor,
  id: string,
  input: UpdateBotInput,
  /** More rows about the bot, written in its transaction (the Bitrix24 surface's imbot.update). */
  within?: (tx: Tx, bot: BotRow) => Promise<void>,
): Promise<Bot> {
  authorize(actor, 'manageIntegrations');
  return runInTransaction(ctx, async ({ tx }) => {
    const row = await loadBot(tx, actor.accountId, id, true);
    refuse([
      ...(input.webhookUrl !== undefined
        ? row.kind === 'external'
          ? checkWebhookUrl(input.webhookUrl, 'body.webhookUrl')
          : [{ field: 'body.webhookUrl', message: 'A built-in bot has no webhook' }]
        : []),
      ...(input.definition !== undefined && row.kind === 'external'
        ? [{ field: 'body.definition', message: 'An external bot has no definition' }]
        : []),
      ...checkAvatarUrl(input.avatarUrl),
      ...checkDefinition(input.definition),
    ]);
    const now = ctx.clock.now();
    const version = input.definition ? row.version + 1 : row.version;
    const updated = await tx
      .updateTable('bots')
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.avatarUrl !== undefined ? { avatar_url: input.avatarUrl } : {}),
        ...(input.webhookUrl !== undefined ? { webhook_url: input.webhookUrl } : {}),
        version,
        updated_at: now,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (input.definition) {
      await tx
        .insertInto('bot_versions')
        .values({ bot_id: id, version, definition: JSON.stringify(input.definition), created_at: now })
        .execute();
    }
    if (within) await within(tx, updated);
    return presentBot(updated, (await definitionsOf(tx, [updated])).get(id) ?? null);
  });
}

/** New token and webhook secret for an external bot; the old ones stop working at once. */
export async function rotateBotSecrets(ctx: AppContext, actor: Actor, id: string) {
  authorize(actor, 'manageIntegrations');
  return runInTransaction(ctx, async ({ tx }) => {
    const row = await loadBot(tx, actor.accountId, id, true);
    if (row.kind !== 'external') throw new AppError('invalid_state', 'A built-in bot has no token');
    const token = newSecret(BOT_TOKEN_PREFIX);
    const webhookSecret = newSecret(BOT_SECRET_PREFIX);
    const updated = await tx
      .updateTable('bots')
      .set({
        token_prefix: token.slice(0, 10),
        token_hash: hashToken(token),
        secrets: sealJson(ctx.encryptionKey, { webhookSecret } satisfies BotSecrets, id),
        updated_at: ctx.clock.now(),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { bot: presentBot(updated, null), secrets: { token, webhookSecret } };
  });
}

/**
 * Deletes a bot. Lines that name it are refused first (409 naming them), so no line points at a
 * bot that is gone; sessions it holds go to their line's queue (services/bot-sessions).
 */
export async function deleteBot(ctx: AppContext, actor: Actor, id: string): Promise<void> {
  authorize(actor, 'manageIntegrations');
  await runInTransaction(ctx, async (uow) => {
    await loadBot(uow.tx, actor.accountId, id, true);
    const lines = await uow.tx
      .selectFrom('lines')
      .select(['id', 'name', 'settings'])
      .where('account_id', '=', actor.accountId)
      .execute();
    const using = lines.filter(
      (line) =>
        line.settings.bot.welcomeBot.botId === id || line.settings.automaticActions.noAnswer.botId === id,
    );
    if (using.length > 0) {
      throw new AppError(
        'conflict',
        `The bot is used by the line(s) ${using.map((line) => `"${line.name}"`).join(', ')}; choose another bot there first`,
      );
    }
    await releaseBotSessions(ctx, uow, actor.accountId, id);
    await uow.tx.deleteFrom('bots').where('id', '=', id).execute();
  });
}

/** The bot a bot-API token belongs to, or null. */
export async function resolveBotToken(ctx: AppContext, token: string | null): Promise<BotRow | null> {
  if (!token?.startsWith(BOT_TOKEN_PREFIX)) return null;
  const row = await ctx.store.db
    .selectFrom('bots')
    .selectAll()
    .where('token_hash', '=', hashToken(token))
    .where('kind', '=', 'external')
    .executeTakeFirst();
  return row ?? null;
}

export function botWebhookSecret(ctx: AppContext, row: BotRow): string | null {
  if (!row.secrets) return null;
  return openJson<BotSecrets>(ctx.encryptionKey, row.secrets, row.id).webhookSecret;
}

/** The line settings name bots of the account (welcome bot, no-answer bot): checked on save. */
export async function unknownBotFields(
  tx: Pick<Tx, 'selectFrom'>,
  accountId: string,
  references: { field: string; botId: string | null }[],
): Promise<FieldError[]> {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const ids = [
    ...new Set(references.flatMap((ref) => (ref.botId && uuid.test(ref.botId) ? [ref.botId] : []))),
  ];
  const rows =
    ids.length > 0
      ? await tx
          .selectFrom('bots')
          .select('id')
          .where('account_id', '=', accountId)
          .where('id', 'in', ids)
          .execute()
      : [];
  const found = new Set(rows.map((row) => row.id));
  return references.flatMap((ref) =>
    ref.botId && !found.has(ref.botId) ? [{ field: ref.field, message: 'No such bot in this account' }] : [],
  );
}

/**
 * The preview pane (BOT-3): the built-in bot's replies to a conversation, without saving or
 * touching any session. The same pure functions the engine runs.
 */
export function previewBot(actor: Actor, definition: BuiltinBotDefinition, messages: string[]): BotPreview {
  authorize(actor, 'manageIntegrations');
  refuse(checkDefinition(definition));
  const start = startBuiltinBot(definition);
  const turns: BotPreview['turns'] = start.turns.map((turn) => ({
    author: 'bot' as const,
    text: turn.text,
    buttons: turn.buttons.map((b) => b.title),
  }));
  let state = start.state;
  for (const text of messages) {
    turns.push({ author: 'client', text, buttons: [] });
    const reply = answerBuiltinBot(definition, state, text);
    state = reply.state;
    for (const turn of reply.turns)
      turns.push({ author: 'bot', text: turn.text, buttons: turn.buttons.map((b) => b.title) });
    if (reply.handOver) return { turns, handedOver: reply.handOver.type };
    // The request for contact details: the preview ends there (the next message goes to the operators).
    if (reply.askContact) return { turns, handedOver: 'contact_form' };
  }
  return { turns, handedOver: null };
}
