import type { AppContext } from '../context';
import { AppError } from '../errors';
import { type Actor, authorize } from '../services/actor';
import { loadActor } from '../services/auth';
import { numericId, resolveNumericId } from '../services/numeric-ids';
import { openJson, sealJson } from '../services/secret-box';
import { hashToken, randomToken } from '../services/secrets';
import { runInTransaction } from '../services/transaction';
import type { BitrixAppRow } from '../store/bitrix-schema';
import { invalidToken } from './errors';

/**
 * Who may call the Bitrix24-compatible REST, and as whom (docs/bitrix24-compat.md, "Auth"):
 *   a local application  `auth=<access token>`: acts as the user it was issued for; holds an
 *                        `application_token` that every event carries, for the app to verify us.
 *                        imconnector.* needs this (Bitrix24 refuses webhooks there too).
 *   an incoming webhook  `/rest/<user id>/<secret>/<method>`: acts as that user.
 * Both are created by an administrator with `manageIntegrations`, for a user of the account; the
 * user's own permissions apply to every call. Secrets are shown once and stored hashed; the
 * application token is stored encrypted, since events must carry it.
 */
export const ACCESS_TOKEN_PREFIX = 'olb_';
export const WEBHOOK_SECRET_PREFIX = 'olh_';
const APPLICATION_TOKEN_PREFIX = 'ola_';

export interface BitrixCaller {
  actor: Actor;
  /** The application, for `auth=` calls; null for an incoming webhook. */
  app: { id: number; applicationToken: string } | null;
}

export interface BitrixAppView {
  id: number;
  name: string;
  userId: string;
  createdAt: string;
}

export interface BitrixWebhookView {
  id: number;
  name: string;
  userId: string;
  /** The webhook's URL path without the secret: `/rest/<user id>/…/`. */
  numericUserId: number;
  createdAt: string;
}

const sealKey = (id: number) => `bitrix_app:${id}`;

async function assertUser(ctx: AppContext, accountId: string, userId: string): Promise<void> {
  const user = await ctx.store.db
    .selectFrom('users')
    .select('id')
    .where('account_id', '=', accountId)
    .where('id', '=', userId)
    .executeTakeFirst();
  if (!user) {
    throw new AppError('validation_failed', 'body.userId: no such user in this account', [
      { field: 'body.userId', message: 'no such user in this account', rule: 'invalid' },
    ]);
  }
}

export async function createBitrixApp(
  ctx: AppContext,
  actor: Actor,
  input: { name: string; userId?: string },
): Promise<{ app: BitrixAppView; accessToken: string; applicationToken: string }> {
  authorize(actor, 'manageIntegrations');
  const userId = input.userId ?? actor.userId;
  await assertUser(ctx, actor.accountId, userId);
  const accessToken = randomToken(ACCESS_TOKEN_PREFIX);
  const applicationToken = randomToken(APPLICATION_TOKEN_PREFIX);
  const row = await runInTransaction(ctx, async ({ tx }) => {
    const inserted = await tx
      .insertInto('bitrix_apps')
      .values({
        account_id: actor.accountId,
        user_id: userId,
        name: input.name,
        access_token_hash: hashToken(accessToken),
        application_token: '',
        created_at: ctx.clock.now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    // Sealed with the row's id as associated data, so a copied value opens nowhere else.
    await tx
      .updateTable('bitrix_apps')
      .set({ application_token: sealJson(ctx.encryptionKey, applicationToken, sealKey(inserted.id)) })
      .where('id', '=', inserted.id)
      .execute();
    return inserted;
  });
  return { app: presentApp(row), accessToken, applicationToken };
}

function presentApp(row: BitrixAppRow): BitrixAppView {
  return { id: row.id, name: row.name, userId: row.user_id, createdAt: row.created_at.toISOString() };
}

export async function listBitrixApps(ctx: AppContext, actor: Actor): Promise<BitrixAppView[]> {
  authorize(actor, 'manageIntegrations');
  const rows = await ctx.store.db
    .selectFrom('bitrix_apps')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .where('revoked_at', 'is', null)
    .orderBy('id')
    .execute();
  return rows.map(presentApp);
}

/** Revoking an application stops its token at once and disconnects the channels of its connectors. */
export async function revokeBitrixApp(ctx: AppContext, actor: Actor, appId: number): Promise<void> {
  authorize(actor, 'manageIntegrations');
  await runInTransaction(ctx, async ({ tx, events }) => {
    const revoked = await tx
      .updateTable('bitrix_apps')
      .set({ revoked_at: ctx.clock.now() })
      .where('id', '=', appId)
      .where('account_id', '=', actor.accountId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (revoked.numUpdatedRows === 0n) throw new AppError('not_found', 'The application does not exist');
    const channels = await tx
      .updateTable('channels')
      .set({ status: 'disconnected' })
      .where('account_id', '=', actor.accountId)
      .where('kind', '=', 'bitrix24')
      .where('status', '=', 'connected')
      .where((eb) => eb(eb.ref('settings', '->>').key('appId'), '=', String(appId)))
      .returning('id')
      .execute();
    for (const channel of channels) {
      events.emit(
        actor.accountId,
        'channel.changed',
        { channelId: channel.id, deleted: false },
        { permission: 'manageLines' },
      );
    }
  });
}

export async function createBitrixWebhook(
  ctx: AppContext,
  actor: Actor,
  input: { name: string; userId?: string },
): Promise<{ webhook: BitrixWebhookView; secret: string; path: string }> {
  authorize(actor, 'manageIntegrations');
  const userId = input.userId ?? actor.userId;
  await assertUser(ctx, actor.accountId, userId);
  const secret = randomToken(WEBHOOK_SECRET_PREFIX);
  const row = await ctx.store.db
    .insertInto('bitrix_webhooks')
    .values({
      account_id: actor.accountId,
      user_id: userId,
      name: input.name,
      secret_hash: hashToken(secret),
      created_at: ctx.clock.now(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const numericUserId = await numericId(ctx.store.db, actor.accountId, 'user', userId);
  return {
    webhook: { id: row.id, name: row.name, userId, numericUserId, createdAt: row.created_at.toISOString() },
    secret,
    path: `/rest/${numericUserId}/${secret}/`,
  };
}

export async function listBitrixWebhooks(ctx: AppContext, actor: Actor): Promise<BitrixWebhookView[]> {
  authorize(actor, 'manageIntegrations');
  const rows = await ctx.store.db
    .selectFrom('bitrix_webhooks')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .where('revoked_at', 'is', null)
    .orderBy('id')
    .execute();
  const views: BitrixWebhookView[] = [];
  for (const row of rows) {
    views.push({
      id: row.id,
      name: row.name,
      userId: row.user_id,
      numericUserId: await numericId(ctx.store.db, row.account_id, 'user', row.user_id),
      createdAt: row.created_at.toISOString(),
    });
  }
  return views;
}

export async function revokeBitrixWebhook(ctx: AppContext, actor: Actor, webhookId: number): Promise<void> {
  authorize(actor, 'manageIntegrations');
  const revoked = await ctx.store.db
    .updateTable('bitrix_webhooks')
    .set({ revoked_at: ctx.clock.now() })
    .where('id', '=', webhookId)
    .where('account_id', '=', actor.accountId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (revoked.numUpdatedRows === 0n) throw new AppError('not_found', 'The webhook does not exist');
}

// ----- Resolving a call ------------------------------------------------------------------------

/** `auth=<access token>`: the application and its user, or invalid_token. */
export async function callerByAccessToken(ctx: AppContext, token: string): Promise<BitrixCaller> {
  if (!token.startsWith(ACCESS_TOKEN_PREFIX) || token.length > 200) throw invalidToken();
  const row = await ctx.store.db
    .selectFrom('bitrix_apps')
    .selectAll()
    .where('access_token_hash', '=', hashToken(token))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) throw invalidToken();
  const actor = await loadActor(ctx, row.user_id, 'token');
  if (!actor) throw invalidToken();
  const applicationToken = openJson<string>(ctx.encryptionKey, row.application_token, sealKey(row.id));
  return { actor, app: { id: row.id, applicationToken } };
}

/** `/rest/<user id>/<secret>/`: the webhook's user, or invalid_token (never which part was wrong). */
export async function callerByWebhook(
  ctx: AppContext,
  numericUserId: number,
  secret: string,
): Promise<BitrixCaller> {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX) || secret.length > 200) throw invalidToken();
  const row = await ctx.store.db
    .selectFrom('bitrix_webhooks')
    .select(['account_id', 'user_id'])
    .where('secret_hash', '=', hashToken(secret))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) throw invalidToken();
  const userId = await resolveNumericId(ctx.store.db, row.account_id, 'user', numericUserId);
  if (userId !== row.user_id) throw invalidToken();
  const actor = await loadActor(ctx, row.user_id, 'token');
  if (!actor) throw invalidToken();
  return { actor, app: null };
}

/** The application's `application_token` (events carry it), or null once the app is revoked. */
export async function applicationTokenOf(ctx: AppContext, appId: number): Promise<string | null> {
  const row = await ctx.store.db
    .selectFrom('bitrix_apps')
    .select(['id', 'application_token'])
    .where('id', '=', appId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? openJson<string>(ctx.encryptionKey, row.application_token, sealKey(row.id)) : null;
}
