import type {
  CreateWebhookBody,
  UpdateWebhookBody,
  Webhook,
  WebhookDelivery,
  WebhookWithSecret,
} from '@openlines/contract';
import { sql } from 'kysely';
import type { AppContext } from '../context';
import { checkWebhookTarget, WebhookTargetError } from '../delivery/webhook-target';
import { AppError, invalidField, notFound } from '../errors';
import type { WebhookDeliveryRow, WebhookSubscriptionRow } from '../store/schema';
import { type Actor, authorize } from './actor';
import { openJson, sealJson } from './secret-box';
import { randomToken } from './secrets';
import { runInTransaction, type Tx, type UnitOfWork } from './transaction';

/**
 * Event webhook subscriptions (SPEC PL-1; docs/webhooks.md): created, changed, paused and resumed
 * by administrators with `manageIntegrations` (the web app's Webhooks screen, or the API). Their
 * deliveries are made by workers/webhooks.ts.
 */

/** Who gets the alerts of a subscription: the users who manage integrations. */
const WEBHOOK_AUDIENCE = { permission: 'manageIntegrations' } as const;

/** Subscriptions per account: each one is a row per event in the webhook outbox. */
export const MAX_WEBHOOKS_PER_ACCOUNT = 20;

export function presentWebhook(row: WebhookSubscriptionRow, pending = 0): Webhook {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    lineIds: row.line_ids,
    status: row.status,
    pausedReason: row.paused_reason,
    pausedAt: row.paused_at?.toISOString() ?? null,
    consecutiveFailures: row.consecutive_failures,
    pending,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function presentDelivery(row: WebhookDeliveryRow): WebhookDelivery {
  return {
    id: String(row.id),
    eventId: row.event_id,
    eventType: row.event_type,
    state: row.state,
    attempts: row.attempts,
    lastStatus: row.last_status,
    lastError: row.last_error,
    lastAttemptAt: row.last_attempt_at?.toISOString() ?? null,
    nextAttemptAt: row.state === 'pending' ? row.next_attempt_at.toISOString() : null,
    deliveredAt: row.delivered_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}

/** The signing secret of a subscription (sealed with its id as associated data). */
export function webhookSecretOf(ctx: AppContext, row: Pick<WebhookSubscriptionRow, 'id' | 'secret'>): string {
  return openJson<string>(ctx.encryptionKey, row.secret, row.id);
}

async function checkTarget(ctx: AppContext, url: string): Promise<void> {
  try {
    await checkWebhookTarget(url, ctx.config.webhooksAllowPrivateTargets);
  } catch (error) {
    if (error instanceof WebhookTargetError) throw invalidField('body.url', error.message);
    throw error;
  }
}

async function checkLines(tx: Tx, accountId: string, lineIds: readonly string[]): Promise<void> {
  if (lineIds.length === 0) return;
  const found = await tx
    .selectFrom('lines')
    .select('id')
    .where('account_id', '=', accountId)
    .where('id', 'in', [...lineIds])
    .execute();
  const known = new Set(found.map((line) => line.id));
  const missing = lineIds.findIndex((id) => !known.has(id));
  if (missing >= 0) throw invalidField(`body.lineIds.${missing}`, 'no such line in this account');
}

async function pendingCounts(
  ctx: AppContext,
  accountId: string,
  ids: string[],
): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = await ctx.store.db
    .selectFrom('webhook_deliveries')
    .select(['subscription_id', (eb) => eb.fn.countAll<number>().as('pending')])
    .where('account_id', '=', accountId)
    .where('subscription_id', 'in', ids)
    .where('state', '=', 'pending')
    .groupBy('subscription_id')
    .execute();
  return new Map(rows.map((row) => [row.subscription_id, Number(row.pending)]));
}

async function findRow(tx: Tx | AppContext['store']['db'], accountId: string, id: string, lock = false) {
  let query = tx
    .selectFrom('webhook_subscriptions')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', id);
  if (lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw notFound('The webhook');
  return row;
}

export async function listWebhooks(ctx: AppContext, actor: Actor): Promise<Webhook[]> {
  authorize(actor, 'manageIntegrations');
  const rows = await ctx.store.db
    .selectFrom('webhook_subscriptions')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const pending = await pendingCounts(
    ctx,
    actor.accountId,
    rows.map((row) => row.id),
  );
  return rows.map((row) => presentWebhook(row, pending.get(row.id) ?? 0));
}

export async function getWebhook(ctx: AppContext, actor: Actor, id: string): Promise<Webhook> {
  authorize(actor, 'manageIntegrations');
  const row = await findRow(ctx.store.db, actor.accountId, id);
  const pending = await pendingCounts(ctx, actor.accountId, [id]);
  return presentWebhook(row, pending.get(id) ?? 0);
}

function emitChanged(uow: UnitOfWork, accountId: string, webhookId: string, deleted: boolean): void {
  uow.events.emit(accountId, 'webhook.changed', { webhookId, deleted }, WEBHOOK_AUDIENCE);
}

/** A new subscription; its secret is in the answer, once. */
export async function createWebhook(
  ctx: AppContext,
  actor: Actor,
  input: CreateWebhookBody,
): Promise<WebhookWithSecret> {
  authorize(actor, 'manageIntegrations');
  await checkTarget(ctx, input.url);
  const secret = randomToken('whs_');
  return runInTransaction(ctx, async (uow) => {
    const { tx } = uow;
    const lineIds = input.lineIds ?? [];
    await checkLines(tx, actor.accountId, lineIds);
    // The account row lock orders this against commits of events: the cursor read is the last
    // committed one, and the subscription gets every event after it.
    const account = await tx
      .selectFrom('accounts')
      .select('event_seq')
      .where('id', '=', actor.accountId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const count = await tx
      .selectFrom('webhook_subscriptions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('account_id', '=', actor.accountId)
      .executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_WEBHOOKS_PER_ACCOUNT) {
      throw new AppError('validation_failed', `An account has at most ${MAX_WEBHOOKS_PER_ACCOUNT} webhooks`, [
        { field: 'body', message: `at most ${MAX_WEBHOOKS_PER_ACCOUNT} webhooks per account`, rule: 'limit' },
      ]);
    }
    const now = ctx.clock.now();
    const id = (await sql<{ id: string }>`select gen_random_uuid() as id`.execute(tx)).rows[0]!.id;
    const row = await tx
      .insertInto('webhook_subscriptions')
      .values({
        id,
        account_id: actor.accountId,
        url: input.url,
        description: input.description ?? '',
        events: JSON.stringify(input.events),
        line_ids: JSON.stringify(lineIds),
        secret: sealJson(ctx.encryptionKey, secret, id),
        start_cursor: account.event_seq,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    // The first subscription starts the account's feed at the current cursor (a feed left from
    // deleted subscriptions would otherwise make it read events nobody wants).
    await tx
      .insertInto('webhook_feeds')
      .values({ account_id: actor.accountId, cursor: account.event_seq })
      .onConflict((oc) =>
        oc.column('account_id').doUpdateSet({
          cursor: sql`case when ${Number(count.n)} = 0 then excluded.cursor else webhook_feeds.cursor end`,
        }),
      )
      .execute();
    emitChanged(uow, actor.accountId, row.id, false);
    return { webhook: presentWebhook(row), secret };
  });
}

export async function updateWebhook(
  ctx: AppContext,
  actor: Actor,
  id: string,
  input: UpdateWebhookBody,
): Promise<Webhook> {
  authorize(actor, 'manageIntegrations');
  if (input.url !== undefined) await checkTarget(ctx, input.url);
  const row = await runInTransaction(ctx, async (uow) => {
    const { tx } = uow;
    const current = await findRow(tx, actor.accountId, id, true);
    if (input.lineIds) await checkLines(tx, actor.accountId, input.lineIds);
    const now = ctx.clock.now();
    const resumes = input.status === 'active' && current.status === 'paused';
    const pauses = input.status === 'paused' && current.status === 'active';
    const updated = await tx
      .updateTable('webhook_subscriptions')
      .set({
        ...(input.url !== undefined ? { url: input.url } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.events !== undefined ? { events: JSON.stringify(input.events) } : {}),
        ...(input.lineIds !== undefined ? { line_ids: JSON.stringify(input.lineIds) } : {}),
        ...(resumes
          ? { status: 'active', paused_at: null, paused_reason: null, consecutive_failures: 0 }
          : {}),
        ...(pauses ? { status: 'paused', paused_at: now, paused_reason: null } : {}),
        updated_at: now,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    // Resumed: what waited is due now, oldest first, from where it stopped.
    if (resumes) {
      await tx
        .updateTable('webhook_deliveries')
        .set({ next_attempt_at: now })
        .where('subscription_id', '=', id)
        .where('state', '=', 'pending')
        .execute();
    }
    emitChanged(uow, actor.accountId, id, false);
    return updated;
  });
  const pending = await pendingCounts(ctx, actor.accountId, [id]);
  return presentWebhook(row, pending.get(id) ?? 0);
}

/** A new signing secret, shown once; the old one stops working at once. */
export async function rotateWebhookSecret(
  ctx: AppContext,
  actor: Actor,
  id: string,
): Promise<WebhookWithSecret> {
  authorize(actor, 'manageIntegrations');
  const secret = randomToken('whs_');
  const row = await runInTransaction(ctx, async (uow) => {
    await findRow(uow.tx, actor.accountId, id, true);
    const updated = await uow.tx
      .updateTable('webhook_subscriptions')
      .set({ secret: sealJson(ctx.encryptionKey, secret, id), updated_at: ctx.clock.now() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    emitChanged(uow, actor.accountId, id, false);
    return updated;
  });
  const pending = await pendingCounts(ctx, actor.accountId, [id]);
  return { webhook: presentWebhook(row, pending.get(id) ?? 0), secret };
}

export async function deleteWebhook(ctx: AppContext, actor: Actor, id: string): Promise<void> {
  authorize(actor, 'manageIntegrations');
  await runInTransaction(ctx, async (uow) => {
    const { tx } = uow;
    await findRow(tx, actor.accountId, id, true);
    await tx.deleteFrom('webhook_subscriptions').where('id', '=', id).execute();
    const left = await tx
      .selectFrom('webhook_subscriptions')
      .select('id')
      .where('account_id', '=', actor.accountId)
      .limit(1)
      .executeTakeFirst();
    // The last one gone: the account's feed and what it remembered go too (zero cost again).
    if (!left) {
      await tx.deleteFrom('webhook_feeds').where('account_id', '=', actor.accountId).execute();
      await tx.deleteFrom('webhook_state').where('account_id', '=', actor.accountId).execute();
    }
    emitChanged(uow, actor.accountId, id, true);
  });
}

export async function listWebhookDeliveries(
  ctx: AppContext,
  actor: Actor,
  id: string,
  query: { before?: string; limit?: number },
): Promise<WebhookDelivery[]> {
  authorize(actor, 'manageIntegrations');
  await findRow(ctx.store.db, actor.accountId, id);
  let select = ctx.store.db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .where('subscription_id', '=', id);
  if (query.before) select = select.where('id', '<', Number(query.before));
  const rows = await select
    .orderBy('id', 'desc')
    .limit(query.limit ?? 50)
    .execute();
  return rows.map(presentDelivery);
}

/**
 * "Send again": a delivery still waiting is tried now; one already delivered is queued once more
 * (a new delivery id, the same event id), after what its dialog has waiting.
 */
export async function redeliverWebhook(
  ctx: AppContext,
  actor: Actor,
  id: string,
  deliveryId: string,
): Promise<WebhookDelivery> {
  authorize(actor, 'manageIntegrations');
  return runInTransaction(ctx, async ({ tx }) => {
    await findRow(tx, actor.accountId, id);
    const delivery = await tx
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('account_id', '=', actor.accountId)
      .where('subscription_id', '=', id)
      .where('id', '=', Number(deliveryId))
      .forUpdate()
      .executeTakeFirst();
    if (!delivery) throw notFound('The delivery');
    const now = ctx.clock.now();
    if (delivery.state === 'pending') {
      const row = await tx
        .updateTable('webhook_deliveries')
        .set({ next_attempt_at: now })
        .where('id', '=', delivery.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return presentDelivery(row);
    }
    // Its dialog's history was erased after it was sent: there is no copy left to send again.
    if (delivery.forget_body) throw new AppError('invalid_state', "The delivery's content was erased");
    const row = await tx
      .insertInto('webhook_deliveries')
      .values({
        account_id: delivery.account_id,
        subscription_id: delivery.subscription_id,
        event_id: delivery.event_id,
        event_type: delivery.event_type,
        ordering_key: delivery.ordering_key,
        content_type: delivery.content_type,
        body: delivery.body,
        next_attempt_at: now,
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return presentDelivery(row);
  });
}

/**
 * Queues a delivery into the webhook outbox with a body of the caller's own (e.g. a form-encoded
 * Bitrix24-style event): it is signed and sent as stored, retried, ordered by `orderingKey` within
 * the subscription and shown in its log, like the feed's. Call it in the transaction of the change.
 */
export async function enqueueWebhookDelivery(
  tx: Tx,
  input: {
    accountId: string;
    subscriptionId: string;
    eventId: string;
    eventType: string;
    orderingKey: string;
    body: string;
    contentType?: string;
    now: Date;
  },
): Promise<void> {
  await tx
    .insertInto('webhook_deliveries')
    .values({
      account_id: input.accountId,
      subscription_id: input.subscriptionId,
      event_id: input.eventId,
      event_type: input.eventType,
      ordering_key: input.orderingKey,
      body: input.body,
      ...(input.contentType ? { content_type: input.contentType } : {}),
      next_attempt_at: input.now,
      created_at: input.now,
    })
    .execute();
}

/**
 * What the webhook outbox holds of a dialog (bodies carry its messages' texts), for erasing a
 * client's data: deleted, waiting deliveries included, so erased text is not sent afterwards.
 */
export async function forgetDialogDeliveries(tx: Tx, accountId: string, dialogId: string): Promise<number> {
  const deleted = await tx
    .deleteFrom('webhook_deliveries')
    .where('account_id', '=', accountId)
    .where('ordering_key', '=', `dialog:${dialogId}`)
    .executeTakeFirst();
  await tx
    .deleteFrom('webhook_state')
    .where('account_id', '=', accountId)
    .where('key', '=', `dialog:${dialogId}`)
    .execute();
  return Number(deleted.numDeletedRows);
}

/** Delivered rows are kept in the log this long. */
export const WEBHOOK_LOG_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** Drops delivered rows older than the retention (waiting ones are never dropped). */
export async function pruneWebhookLog(ctx: AppContext): Promise<number> {
  const before = new Date(ctx.clock.now().getTime() - WEBHOOK_LOG_RETENTION_MS);
  const deleted = await ctx.store.db
    .deleteFrom('webhook_deliveries')
    .where('state', '=', 'delivered')
    .where('delivered_at', '<', before)
    .executeTakeFirst();
  return Number(deleted.numDeletedRows);
}
