import type { OpenlinesEvent, Session, WebhookEventType } from '@openlines/contract';
import type { EventEnvelope } from '../bus/bus';
import type { AppContext } from '../context';
import { type SessionSnapshot, sessionChanges, snapshotOfSession } from '../core/webhooks';
import { loadEventsAfter } from '../store/events';
import type { WebhookSubscriptionRow } from '../store/schema';
import { runInTransaction, type Tx } from './transaction';

/**
 * The webhook feed (SPEC PL-1): turns an account's committed event log (`events`, gapless in commit
 * order) into rows of the webhook outbox (`webhook_deliveries`), one per event and subscription
 * that wants it. It runs after the transactions that produced the events have committed, in a
 * transaction of its own that moves the account's feed cursor with the rows it writes: an event is
 * queued once, or not yet.
 *
 * Accounts without subscriptions have no feed row and are never read: their message path pays
 * nothing for webhooks.
 */

/** One webhook event as it goes out (docs/webhooks.md, "Payload"). */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  createdAt: string;
  /** The line the event belongs to (the subscription's line filter); null: no line. */
  lineId: string | null;
  /** Events with the same key go out in order (a dialog's, a channel's, a CRM record's). */
  orderingKey: string;
  data: Record<string, unknown>;
}

/** The JSON body of an event webhook, exactly as signed and sent. */
export function encodeWebhookEvent(accountId: string, event: WebhookEvent): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    createdAt: event.createdAt,
    accountId,
    data: event.data,
  });
}

interface ChannelFacts {
  id: string;
  kind: string;
  name: string;
  line_id: string | null;
  failure: string | null;
  failure_at: Date | null;
}

type State = Map<string, Record<string, unknown>>;

const dialogKey = (id: string) => `dialog:${id}`;
const channelKey = (id: string) => `channel:${id}`;

/** The session an event carries the state of, if any. */
function sessionOf(event: OpenlinesEvent): { session: Session; dialog: Record<string, unknown> } | null {
  if (event.type === 'dialog.updated') {
    const { dialog } = event.data;
    if (!dialog.session) return null;
    return {
      session: dialog.session,
      dialog: {
        id: dialog.id,
        lineId: dialog.lineId,
        channelId: dialog.channelId,
        channelKind: dialog.channelKind,
        client: { id: dialog.client.id, name: dialog.client.name },
      },
    };
  }
  if (event.type === 'message.created' && event.data.activity?.session) {
    const { message } = event.data;
    return {
      session: event.data.activity.session,
      dialog: { id: message.dialogId, lineId: event.data.lineId },
    };
  }
  return null;
}

/**
 * The webhook events one logged event means. `state` is what the feed saw before it, and is
 * updated in place.
 */
export function webhookEventsOf(
  envelope: EventEnvelope,
  state: State,
  channels: Map<string, ChannelFacts>,
  startedSince: Date,
): WebhookEvent[] {
  const { event } = envelope;
  const out: WebhookEvent[] = [];
  const push = (
    type: WebhookEventType,
    lineId: string | null,
    orderingKey: string,
    data: Record<string, unknown>,
  ) =>
    out.push({
      id: `ev_${event.cursor}_${out.length}`,
      type,
      createdAt: event.at,
      lineId,
      orderingKey,
      data,
    });

  if (event.type === 'message.created' || event.type === 'message.updated') {
    const { message, lineId } = event.data;
    push(event.type, lineId, dialogKey(message.dialogId), { message, lineId, dialogId: message.dialogId });
  }
  const carried = sessionOf(event);
  if (carried) {
    const { session, dialog } = carried;
    const key = dialogKey(session.dialogId);
    const previous = (state.get(key) as SessionSnapshot | undefined) ?? null;
    for (const change of sessionChanges(previous, session, startedSince)) {
      push(change.type, session.lineId, key, { dialog, session, ...change.extra });
    }
    state.set(key, snapshotOfSession(session) as unknown as Record<string, unknown>);
  }
  if (event.type === 'channel.changed' && !event.data.deleted) {
    const channel = channels.get(event.data.channelId);
    const key = channelKey(event.data.channelId);
    const wasFailing = state.get(key)?.failing === true;
    const failing = Boolean(channel?.failure);
    if (channel && failing && !wasFailing) {
      push('channel.failing', channel.line_id, key, {
        channel: { id: channel.id, kind: channel.kind, name: channel.name, lineId: channel.line_id },
        reason: channel.failure,
        since: channel.failure_at?.toISOString() ?? event.at,
      });
    }
    if (channel) state.set(key, { failing });
  }
  if (
    event.type === 'crm.record.created' ||
    event.type === 'crm.record.updated' ||
    event.type === 'crm.stage.changed' ||
    event.type === 'crm.record.converted'
  ) {
    const { record } = event.data;
    push(event.type, null, `crm:${record.kind}:${record.id}`, { ...event.data });
  }
  return out;
}

function wants(subscription: WebhookSubscriptionRow, event: WebhookEvent, cursor: number): boolean {
  if (cursor <= subscription.start_cursor) return false;
  if (!subscription.events.includes(event.type)) return false;
  const lines = subscription.line_ids;
  return lines.length === 0 || event.lineId === null || lines.includes(event.lineId);
}

async function loadState(tx: Tx, accountId: string, keys: string[]): Promise<State> {
  if (keys.length === 0) return new Map();
  const rows = await tx
    .selectFrom('webhook_state')
    .select(['key', 'value'])
    .where('account_id', '=', accountId)
    .where('key', 'in', keys)
    .execute();
  return new Map(rows.map((row) => [row.key, row.value]));
}

export interface FeedReport {
  /** Log events read. */
  read: number;
  /** Delivery rows queued. */
  queued: number;
  /** More events were waiting beyond this batch. */
  more: boolean;
}

/**
 * Feeds one account: the events after its feed cursor, up to `limit`, become deliveries. A feed
 * another process is working on is skipped (`SKIP LOCKED`), so each event is fed once.
 */
export async function feedAccount(ctx: AppContext, accountId: string, limit = 500): Promise<FeedReport> {
  return runInTransaction(ctx, async ({ tx }) => {
    const feed = await tx
      .selectFrom('webhook_feeds')
      .select('cursor')
      .where('account_id', '=', accountId)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
    if (!feed) return { read: 0, queued: 0, more: false };
    const subscriptions = await tx
      .selectFrom('webhook_subscriptions')
      .selectAll()
      .where('account_id', '=', accountId)
      .execute();
    if (subscriptions.length === 0) return { read: 0, queued: 0, more: false };
    const from = Math.max(Number(feed.cursor), Math.min(...subscriptions.map((s) => Number(s.start_cursor))));
    const envelopes = await loadEventsAfter(tx, accountId, from, Number.MAX_SAFE_INTEGER, limit);
    if (envelopes.length === 0) {
      if (from !== Number(feed.cursor)) {
        await tx
          .updateTable('webhook_feeds')
          .set({ cursor: from })
          .where('account_id', '=', accountId)
          .execute();
      }
      return { read: 0, queued: 0, more: false };
    }
    const keys = new Set<string>();
    const channelIds = new Set<string>();
    for (const { event } of envelopes) {
      const carried = sessionOf(event);
      if (carried) keys.add(dialogKey(carried.session.dialogId));
      if (event.type === 'channel.changed' && !event.data.deleted) {
        keys.add(channelKey(event.data.channelId));
        channelIds.add(event.data.channelId);
      }
    }
    const state = await loadState(tx, accountId, [...keys]);
    const channels = new Map<string, ChannelFacts>();
    if (channelIds.size > 0) {
      const rows = await tx
        .selectFrom('channels')
        .select(['id', 'kind', 'name', 'line_id', 'failure', 'failure_at'])
        .where('account_id', '=', accountId)
        .where('id', 'in', [...channelIds])
        .execute();
      for (const row of rows) channels.set(row.id, row);
    }
    const startedSince = new Date(Math.min(...subscriptions.map((s) => s.created_at.getTime())));
    const now = ctx.clock.now();
    const rows: {
      account_id: string;
      subscription_id: string;
      event_id: string;
      event_type: string;
      ordering_key: string;
      body: string;
      next_attempt_at: Date;
      created_at: Date;
    }[] = [];
    for (const envelope of envelopes) {
      for (const event of webhookEventsOf(envelope, state, channels, startedSince)) {
        const body = encodeWebhookEvent(accountId, event);
        for (const subscription of subscriptions) {
          if (!wants(subscription, event, envelope.event.cursor)) continue;
          rows.push({
            account_id: accountId,
            subscription_id: subscription.id,
            event_id: event.id,
            event_type: event.type,
            ordering_key: event.orderingKey,
            body,
            next_attempt_at: now,
            created_at: now,
          });
        }
      }
    }
    // In event order: ids increase with the log, which is the order the worker sends them in.
    for (let i = 0; i < rows.length; i += 500) {
      await tx
        .insertInto('webhook_deliveries')
        .values(rows.slice(i, i + 500))
        .execute();
    }
    const changed = [...keys].filter((key) => state.has(key));
    if (changed.length > 0) {
      await tx
        .insertInto('webhook_state')
        .values(changed.map((key) => ({ account_id: accountId, key, value: JSON.stringify(state.get(key)) })))
        .onConflict((oc) =>
          oc.columns(['account_id', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
        )
        .execute();
    }
    const last = envelopes.at(-1)!.event.cursor;
    await tx.updateTable('webhook_feeds').set({ cursor: last }).where('account_id', '=', accountId).execute();
    return { read: envelopes.length, queued: rows.length, more: envelopes.length >= limit };
  });
}

/**
 * The accounts with subscriptions, and which of them have events not fed yet: the one statement an
 * idle webhook worker spends per poll.
 */
export async function webhookFeedsDue(ctx: AppContext): Promise<{ accountId: string; behind: boolean }[]> {
  const rows = await ctx.store.db
    .selectFrom('webhook_feeds as f')
    .innerJoin('accounts as a', 'a.id', 'f.account_id')
    .select((eb) => ['f.account_id', eb('f.cursor', '<', eb.ref('a.event_seq')).as('behind')])
    .execute();
  return rows.map((row) => ({ accountId: row.account_id, behind: Boolean(row.behind) }));
}
