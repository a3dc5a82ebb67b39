import { randomUUID } from 'node:crypto';
import type {
  Channel,
  ChannelTemplate,
  CreateChannelBody,
  FieldError,
  UpdateChannelBody,
} from '@openlines/contract';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type {
  ChannelConnector,
  ChannelRuntime,
  ChannelSecrets,
  ConnectorIo,
  PreparedChannel,
} from '../channels/connector';
import { ConnectorError } from '../channels/connector';
import { connectorKinds, findConnector } from '../channels/registry';
import type { AppContext } from '../context';
import { fieldErrorsFromSchema } from '../core/field-errors';
import { AppError, invalidField, notFound } from '../errors';
import type { Database } from '../store/database';
import { isUniqueViolation } from '../store/errors';
import type { ChannelRow } from '../store/schema';
import { type Actor, authorize } from './actor';
import { keysChanged, recordAudit } from './audit';
import { queueChannelEvents } from './dialog-lifecycle';
import { eraseDialogsOf } from './erasure';
import { dispatcherOf } from './event-dispatch';
import { assertPlanAllows } from './plan-limits';
import { openJson, sealJson } from './secret-box';
import { hashToken } from './secrets';
import { runInTransaction, type Tx, type UnitOfWork } from './transaction';

// Channels (SPEC §1: LN-3, LN-5, LN-6): connected to exactly one line, created and configured
// through their connector, with secrets shown once and kept hashed or encrypted.

type Reader = Database | Tx;

/** Channel events go to those who manage lines and channels. */
const CHANNEL_AUDIENCE = { permission: 'manageLines' } as const;

/** Connectors talk to the outside world for at most this long while being connected. */
const PREPARE_TIMEOUT_MS = 15_000;

/** The API shape of a channel: public settings only, never secrets or token hashes. */
export function presentChannel(row: ChannelRow): Channel {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    lineId: row.line_id,
    status: row.status,
    settings: row.settings,
    createdAt: row.created_at.toISOString(),
    ...(row.failure ? { failure: row.failure } : {}),
  };
}

/**
 * The platform refuses the channel's credentials (ConnectorError auth_revoked of a connector that
 * `holdsOutboxOnAuthFailure`): the channel shows why, and administrators get 'channel.changed'.
 */
export async function markChannelFailing(
  uow: UnitOfWork,
  channel: Pick<ChannelRow, 'id' | 'account_id'>,
  reason: string,
  now: Date,
): Promise<void> {
  const marked = await uow.tx
    .updateTable('channels')
    .set({ failure: reason, failure_at: now })
    .where('id', '=', channel.id)
    .where('failure', 'is', null)
    .executeTakeFirst();
  if (marked.numUpdatedRows > 0n) emitChanged(uow, channel.account_id, channel.id, false);
}

/** The credentials work again (a send succeeded): the failure is cleared. */
export async function clearChannelFailure(
  uow: UnitOfWork,
  channel: Pick<ChannelRow, 'id' | 'account_id'>,
): Promise<void> {
  const cleared = await uow.tx
    .updateTable('channels')
    .set({ failure: null, failure_at: null })
    .where('id', '=', channel.id)
    .where('failure', 'is not', null)
    .executeTakeFirst();
  if (cleared.numUpdatedRows > 0n) emitChanged(uow, channel.account_id, channel.id, false);
}

export interface ChannelWithSecrets {
  channel: Channel;
  /** Tokens and signing secrets: shown here once, never again. */
  secrets: Record<string, string>;
}

// ----- Reading ----------------------------------------------------------------------------------

async function findChannelRow(db: Reader, accountId: string, channelId: string, lock = false) {
  let query = db
    .selectFrom('channels')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', channelId);
  if (lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw notFound('The channel');
  return row;
}

export async function listChannels(
  ctx: AppContext,
  actor: Actor,
  filter: { lineId?: string } = {},
): Promise<Channel[]> {
  authorize(actor, 'manageLines');
  let query = ctx.store.db.selectFrom('channels').selectAll().where('account_id', '=', actor.accountId);
  if (filter.lineId) query = query.where('line_id', '=', filter.lineId);
  const rows = await query.orderBy('created_at').orderBy('id').execute();
  return rows.map(presentChannel);
}

export async function getChannel(ctx: AppContext, actor: Actor, channelId: string): Promise<Channel> {
  authorize(actor, 'manageLines');
  return presentChannel(await findChannelRow(ctx.store.db, actor.accountId, channelId));
}

/**
 * The approved message templates of a channel whose connector lists them (WhatsApp), for the
 * composer: every signed-in user of the account may read them (operators answer with them).
 */
export async function listChannelTemplates(
  ctx: AppContext,
  actor: Actor,
  channelId: string,
): Promise<ChannelTemplate[]> {
  const row = await findChannelRow(ctx.store.db, actor.accountId, channelId);
  const connector = findConnector(row.kind);
  if (!connector?.listTemplates) throw notFound('Message templates of this channel');
  try {
    return await connector.listTemplates(channelRuntime(ctx, row), connectorIo(ctx));
  } catch (error) {
    if (!(error instanceof ConnectorError)) throw error;
    if (error.code === 'temporary' || error.code === 'rate_limited' || error.code === 'auth_revoked') {
      throw new AppError('unavailable', `The templates cannot be listed now: ${error.message}`);
    }
    throw invalidField('settings', error.message);
  }
}

/** A channel with its decrypted secrets, for connectors (the outbox worker, inbound parsing). */
export function channelRuntime(ctx: AppContext, row: ChannelRow): ChannelRuntime {
  return {
    id: row.id,
    accountId: row.account_id,
    lineId: row.line_id,
    kind: row.kind,
    name: row.name,
    settings: row.settings,
    secrets: row.secrets ? openJson<ChannelSecrets>(ctx.encryptionKey, row.secrets, row.id) : {},
  };
}

/**
 * The channel an inbound bearer token (`olc_…`) belongs to. Unknown and rotated tokens are
 * 401 `unauthenticated`; a disconnected channel is 404 `not_found` with `reason:
 * "channel_disconnected"`, so a sender learns the channel is gone rather than that its token is
 * wrong (LN-5: a disconnected channel stops intake).
 */
/**
 * Channels by inbound token, per process, so an inbound request costs no lookup. An entry is only
 * a fast first check: it is dropped on the channel's `channel.changed` event (every process hears
 * it over the bus), and the intake re-reads the channel's state with the client's
 * (services/intake), so a disconnected or rotated channel never stores a message.
 */
const inboundCaches = new WeakMap<AppContext, Map<string, ChannelRow>>();
const MAX_CACHED_CHANNELS = 10_000;

function inboundCache(ctx: AppContext): Map<string, ChannelRow> {
  let cache = inboundCaches.get(ctx);
  if (!cache) {
    const created = new Map<string, ChannelRow>();
    cache = created;
    inboundCaches.set(ctx, created);
    dispatcherOf(ctx).on('channelCache', ({ event }) => {
      if (event.type !== 'channel.changed') return;
      const { channelId } = event.data;
      for (const [hash, row] of created) if (row.id === channelId) created.delete(hash);
    });
  }
  return cache;
}

/** Forgets a cached channel whose stored state turned out different (services/intake). */
export function forgetInboundChannel(ctx: AppContext, channelId: string): void {
  const cache = inboundCache(ctx);
  for (const [hash, row] of cache) if (row.id === channelId) cache.delete(hash);
}

export async function resolveInboundChannel(ctx: AppContext, token: string | null): Promise<ChannelRow> {
  if (!token)
    throw new AppError('unauthenticated', 'Send the channel token as "Authorization: Bearer olc_…"');
  const hash = hashToken(token);
  const cache = inboundCache(ctx);
  const cached = cache.get(hash);
  if (cached) return cached;
  const row = await ctx.store.db
    .selectFrom('channels')
    .selectAll()
    .where('inbound_token_hash', '=', hash)
    .executeTakeFirst();
  if (!row) throw new AppError('unauthenticated', 'The channel token is not valid');
  assertTakesMessages(row);
  if (cache.size >= MAX_CACHED_CHANNELS) cache.clear();
  cache.set(hash, row);
  return row;
}

/** A channel an inbound request (a webhook, a widget visitor) is resolved to, with what it needs. */
export type InboundChannel = ChannelRow;

/** The channel of a kind with this id, if there is one (public webhooks name their channel in the URL). */
export async function findChannelOfKind(
  ctx: AppContext,
  channelId: string,
  kind: string,
): Promise<InboundChannel | undefined> {
  return ctx.store.db
    .selectFrom('channels')
    .selectAll()
    .where('id', '=', channelId)
    .where('kind', '=', kind)
    .executeTakeFirst();
}

/**
 * LN-5: a disconnected channel (or one on no line) takes no messages; nor does a channel of a
 * suspended account (issue 21), answered 403 `account_suspended` so its sender knows why.
 */
export function assertTakesMessages(
  row: Pick<ChannelRow, 'status' | 'line_id'> & { account_suspended?: boolean | null },
): void {
  if (row.account_suspended) {
    throw new AppError('account_suspended', 'The account of this channel is suspended; it takes no messages');
  }
  if (row.status !== 'connected' || !row.line_id) {
    throw new AppError('not_found', 'The channel is disconnected', undefined, {
      reason: 'channel_disconnected',
    });
  }
}

// ----- Validation -------------------------------------------------------------------------------

const settingsAjv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: true });
addFormats(settingsAjv);
const validators = new WeakMap<ChannelConnector, ValidateFunction>();

function connectorFor(kind: string, field: string): ChannelConnector {
  const connector = findConnector(kind);
  if (!connector) throw invalidField(field, `is not a channel kind; one of: ${connectorKinds().join(', ')}`);
  return connector;
}

/** Settings against the connector's schema and checks; errors name `body.settings.<field>`. */
function validSettings(connector: ChannelConnector, settings: Record<string, unknown>) {
  let validate = validators.get(connector);
  if (!validate) {
    validate = settingsAjv.compile(connector.settingsSchema);
    validators.set(connector, validate);
  }
  const copy = structuredClone(settings);
  let errors: FieldError[] = [];
  if (!validate(copy)) errors = fieldErrorsFromSchema(['body', 'settings'], validate.errors ?? []);
  else {
    errors = (connector.checkSettings?.(copy) ?? []).map((issue) => ({
      field: `body.settings.${issue.field}`,
      message: issue.message,
      rule: 'invalid',
    }));
  }
  if (errors.length > 0) {
    throw new AppError('validation_failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), errors);
  }
  return copy;
}

async function assertLine(db: Reader, accountId: string, lineId: string): Promise<void> {
  const line = await db
    .selectFrom('lines')
    .select('id')
    .where('account_id', '=', accountId)
    .where('id', '=', lineId)
    .executeTakeFirst();
  if (!line) {
    throw new AppError('not_found', 'The line does not exist', [
      { field: 'body.lineId', message: 'no such line in this account' },
    ]);
  }
}

function connectorIo(ctx: AppContext): ConnectorIo {
  return { clock: ctx.clock, timeoutMs: PREPARE_TIMEOUT_MS };
}

/** Runs a connector's connect hook; a refusal by the external side is the administrator's 400. */
async function prepareWith(
  ctx: AppContext,
  connector: ChannelConnector,
  input: Parameters<ChannelConnector['prepare']>[0],
): Promise<PreparedChannel> {
  try {
    return await connector.prepare(input, connectorIo(ctx));
  } catch (error) {
    if (!(error instanceof ConnectorError)) throw error;
    if (error.code === 'temporary' || error.code === 'rate_limited') {
      throw new AppError('unavailable', `The channel cannot be reached now: ${error.message}`);
    }
    throw invalidField('body.settings', error.message);
  }
}

function emitChanged(uow: UnitOfWork, accountId: string, channelId: string, deleted: boolean): void {
  uow.events.emit(accountId, 'channel.changed', { channelId, deleted }, CHANNEL_AUDIENCE);
}

// ----- Writing ----------------------------------------------------------------------------------

export async function createChannel(
  ctx: AppContext,
  actor: Actor,
  input: CreateChannelBody,
): Promise<ChannelWithSecrets> {
  authorize(actor, 'manageLines');
  const connector = connectorFor(input.kind, 'body.kind');
  const settings = validSettings(connector, input.settings ?? {});
  // Checked before connecting, so a typo in lineId does not register a webhook somewhere.
  await assertLine(ctx.store.db, actor.accountId, input.lineId);
  await assertPlanAllows(ctx.store.db, actor.accountId, 'channels');
  const prepared = await prepareWith(ctx, connector, { settings, current: null, rotate: true });
  const id = randomUUID();
  try {
    const row = await runInTransaction(ctx, async (uow) => {
      await assertPlanAllows(uow.tx, actor.accountId, 'channels');
      await assertLine(uow.tx, actor.accountId, input.lineId);
      const inserted = await uow.tx
        .insertInto('channels')
        .values({
          id,
          account_id: actor.accountId,
          line_id: input.lineId,
          kind: connector.kind,
          name: input.name,
          status: 'connected',
          settings: JSON.stringify(prepared.settings),
          secrets: sealJson(ctx.encryptionKey, prepared.secrets, id),
          inbound_token_hash: prepared.inboundToken ? hashToken(prepared.inboundToken) : null,
          external_key: prepared.externalKey ?? null,
          created_at: ctx.clock.now(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      emitChanged(uow, actor.accountId, id, false);
      await recordAudit(
        uow.tx,
        actor,
        { action: 'channel.created', targetType: 'channel', targetId: id },
        ctx.clock.now(),
      );
      return inserted;
    });
    return { channel: presentChannel(row), secrets: prepared.reveal };
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError('already_exists', 'This endpoint is already connected as a channel', [
        { field: 'body.settings', message: 'is already connected' },
      ]);
    }
    throw error;
  }
}

export async function updateChannel(
  ctx: AppContext,
  actor: Actor,
  channelId: string,
  input: UpdateChannelBody,
): Promise<Channel> {
  authorize(actor, 'manageLines');
  const current = await findChannelRow(ctx.store.db, actor.accountId, channelId);
  if (input.lineId !== undefined) await assertLine(ctx.store.db, actor.accountId, input.lineId);
  let prepared: PreparedChannel | null = null;
  if (input.settings !== undefined) {
    const connector = connectorFor(current.kind, 'body.settings');
    // A partial object: fields not sent keep their values.
    const settings = validSettings(connector, { ...current.settings, ...input.settings });
    const secrets = channelRuntime(ctx, current).secrets;
    prepared = await prepareWith(ctx, connector, {
      settings,
      current: { id: current.id, settings: current.settings, secrets },
      rotate: false,
    });
  }
  const row = await runInTransaction(ctx, async (uow) => {
    const locked = await findChannelRow(uow.tx, actor.accountId, channelId, true);
    const lineId = input.lineId ?? locked.line_id;
    const status = input.status ?? locked.status;
    if (input.lineId !== undefined) await assertLine(uow.tx, actor.accountId, input.lineId);
    if (status === 'connected' && !lineId) {
      throw invalidField('body.lineId', 'a connected channel needs a line; send lineId with status');
    }
    const updated = await uow.tx
      .updateTable('channels')
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        // LN-3: the channel belongs to one line; setting another moves it (and its new dialogs).
        ...(input.lineId !== undefined ? { line_id: input.lineId } : {}),
        // LN-5: a disconnected channel stops intake (resolveInboundChannel) and delivery (outbox).
        ...(input.status !== undefined ? { status: input.status } : {}),
        ...(prepared ? preparedColumns(ctx, channelId, prepared) : {}),
        // The connector has just checked the credentials again: held messages go out now.
        ...(prepared ? { failure: null, failure_at: null } : {}),
      })
      .where('id', '=', channelId)
      .returningAll()
      .executeTakeFirstOrThrow();
    // The other side of a channel that hears it learns it was switched off (Bitrix24's StatusDelete).
    if (locked.status === 'connected' && updated.status === 'disconnected') {
      await queueChannelEvents(uow.tx, [updated], 'channel_disconnected', ctx.clock.now());
    }
    if (prepared && locked.failure) {
      await uow.tx
        .updateTable('outbox')
        .set({ next_attempt_at: ctx.clock.now() })
        .where('channel_id', '=', channelId)
        .where('state', '=', 'pending')
        .execute();
    }
    emitChanged(uow, actor.accountId, channelId, false);
    await recordAudit(
      uow.tx,
      actor,
      {
        action: 'channel.updated',
        targetType: 'channel',
        targetId: channelId,
        changedKeys: [
          ...keysChanged(
            { name: locked.name, lineId: locked.line_id, status: locked.status },
            { name: updated.name, lineId: updated.line_id, status: updated.status },
          ),
          ...keysChanged(locked.settings, updated.settings, 'settings'),
        ],
      },
      ctx.clock.now(),
    );
    return updated;
  }).catch((error: unknown) => {
    if (isUniqueViolation(error)) {
      throw new AppError('already_exists', 'This endpoint is already connected as another channel', [
        { field: 'body.settings', message: 'is already connected' },
      ]);
    }
    throw error;
  });
  return presentChannel(row);
}

/** The columns a prepare result changes; secrets and token only when the connector changed them. */
function preparedColumns(ctx: AppContext, channelId: string, prepared: PreparedChannel) {
  return {
    settings: JSON.stringify(prepared.settings),
    ...(Object.keys(prepared.reveal).length > 0 || prepared.inboundToken !== undefined
      ? { secrets: sealJson(ctx.encryptionKey, prepared.secrets, channelId) }
      : {}),
    ...(prepared.inboundToken !== undefined
      ? { inbound_token_hash: prepared.inboundToken ? hashToken(prepared.inboundToken) : null }
      : {}),
    ...(prepared.externalKey !== undefined ? { external_key: prepared.externalKey } : {}),
  };
}

/**
 * New secrets for a channel (a leaked token, a staff change): the old inbound token stops working
 * at once and deliveries are signed with the new webhook secret from the next attempt on.
 */
export async function rotateChannelSecrets(
  ctx: AppContext,
  actor: Actor,
  channelId: string,
): Promise<ChannelWithSecrets> {
  authorize(actor, 'manageLines');
  const current = await findChannelRow(ctx.store.db, actor.accountId, channelId);
  const connector = connectorFor(current.kind, 'params.id');
  const prepared = await prepareWith(ctx, connector, {
    settings: current.settings,
    current: { id: current.id, settings: current.settings, secrets: channelRuntime(ctx, current).secrets },
    rotate: true,
  });
  const row = await runInTransaction(ctx, async (uow) => {
    await findChannelRow(uow.tx, actor.accountId, channelId, true);
    const updated = await uow.tx
      .updateTable('channels')
      .set({
        secrets: sealJson(ctx.encryptionKey, prepared.secrets, channelId),
        ...(prepared.inboundToken !== undefined
          ? { inbound_token_hash: prepared.inboundToken ? hashToken(prepared.inboundToken) : null }
          : {}),
      })
      .where('id', '=', channelId)
      .returningAll()
      .executeTakeFirstOrThrow();
    emitChanged(uow, actor.accountId, channelId, false);
    await recordAudit(
      uow.tx,
      actor,
      { action: 'channel.secrets_rotated', targetType: 'channel', targetId: channelId },
      ctx.clock.now(),
    );
    return updated;
  });
  return { channel: presentChannel(row), secrets: prepared.reveal };
}

/**
 * Deleting a channel deletes its dialogs and their history (services/erasure). When it has any,
 * the caller must confirm with the channel's name; disconnecting keeps the history instead.
 */
export async function deleteChannel(
  ctx: AppContext,
  actor: Actor,
  channelId: string,
  confirm?: string,
): Promise<void> {
  authorize(actor, 'manageLines');
  const deleted = await runInTransaction(ctx, async (uow) => {
    const row = await findChannelRow(uow.tx, actor.accountId, channelId, true);
    const dialog = await uow.tx
      .selectFrom('dialogs')
      .select('id')
      .where('channel_id', '=', channelId)
      .limit(1)
      .executeTakeFirst();
    if (dialog && confirm !== row.name) {
      throw new AppError(
        'confirmation_required',
        "Deleting a channel deletes its dialogs and history; disconnect it to keep them, or repeat with confirm=<the channel's name>",
        [{ field: 'query.confirm', message: "must equal the channel's name" }],
      );
    }
    // Everything of its dialogs everywhere (events, outbox, files, orphaned clients): docs/privacy.md.
    if (dialog)
      await eraseDialogsOf(ctx, uow, { accountId: actor.accountId, actorUserId: actor.userId, channelId });
    await uow.tx.deleteFrom('channels').where('id', '=', channelId).execute();
    emitChanged(uow, actor.accountId, channelId, true);
    await recordAudit(
      uow.tx,
      actor,
      { action: 'channel.deleted', targetType: 'channel', targetId: channelId },
      ctx.clock.now(),
    );
    return channelRuntime(ctx, row);
  });
  await unregisterChannels(ctx, [deleted]);
}

/**
 * After channels were deleted (one, or every channel of a deleted account): each connector undoes
 * what it registered on its platform (the `unregister` hook: Telegram's webhook). Best effort, in
 * parallel: a platform that cannot be reached is logged, and the deletion stands.
 */
export async function unregisterChannels(ctx: AppContext, channels: ChannelRuntime[]): Promise<void> {
  await Promise.all(
    channels.map(async (channel) => {
      const connector = findConnector(channel.kind);
      if (!connector?.unregister) return;
      try {
        await connector.unregister(channel, connectorIo(ctx));
      } catch (error) {
        const neutral = error instanceof ConnectorError ? error : null;
        ctx.log.warn(
          { channelId: channel.id, kind: channel.kind, code: neutral?.code, err: (error as Error).message },
          "a deleted channel's registration on its platform could not be removed",
        );
      }
    }),
  );
}
