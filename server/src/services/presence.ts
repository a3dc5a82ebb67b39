import type { Presence } from '@openlines/contract';
import type { AppContext } from '../context';
import { type GroupCommit, groupCommitOf, type Settled } from './group-commit';
import { lockLines } from './locks';
import { redelegateLine } from './routing';
import { runInTransaction } from './transaction';

/**
 * Sets an operator's status (OP-4) and, when they become available, hands them waiting sessions
 * at once. Lines are locked before the user row is written, like every routing change.
 * Operators who come online together (a shift starting, a reconnect after an outage) go through
 * one transaction (services/group-commit): each line is redelegated once with all of them, instead
 * of once per operator re-reading its whole queue.
 */
export async function changePresence(
  ctx: AppContext,
  accountId: string,
  userId: string,
  presence: Presence,
  only?: { from: Presence },
): Promise<boolean> {
  const change: PresenceChange = { accountId, userId, presence, ...(only ? { only } : {}) };
  if (presence !== 'online') {
    const [outcome] = await applyPresenceChanges(ctx, [change]);
    if (!outcome?.ok) throw outcome?.error;
    return outcome.value;
  }
  return groupCommitOf(comingOnline, ctx, () => ({
    run: (changes) => applyPresenceChanges(ctx, changes),
    maxBatch: 200,
    keysOf: (item) => [item.userId],
  })).submit(change);
}

interface PresenceChange {
  accountId: string;
  userId: string;
  presence: Presence;
  only?: { from: Presence };
}

const comingOnline = new WeakMap<AppContext, GroupCommit<PresenceChange, boolean>>();

function applyPresenceChanges(ctx: AppContext, changes: PresenceChange[]): Promise<Settled<boolean>[]> {
  return runInTransaction(ctx, async (uow) => {
    const accountIds = [...new Set(changes.map((c) => c.accountId))];
    const lines = await uow.tx
      .selectFrom('lines')
      .select(['id', 'account_id'])
      .where('account_id', 'in', accountIds)
      .where('active', '=', true)
      .execute();
    const goesOnline = changes.some((c) => c.presence === 'online');
    if (goesOnline)
      await lockLines(
        uow.tx,
        lines.map((l) => l.id),
      );
    const outcomes: Settled<boolean>[] = [];
    const redelegate = new Set<string>();
    for (const { accountId, userId, presence, only } of changes) {
      let update = uow.tx
        .updateTable('users')
        .set({ presence, presence_changed_at: ctx.clock.now() })
        .where('id', '=', userId)
        .where('account_id', '=', accountId)
        .where('presence', '!=', presence);
      if (only) update = update.where('presence', '=', only.from);
      const changed = (await update.executeTakeFirst()).numUpdatedRows > 0n;
      outcomes.push({ ok: true, value: changed });
      if (!changed) continue;
      uow.events.emit(accountId, 'presence.changed', { userId, presence });
      if (presence === 'online') redelegate.add(accountId);
    }
    for (const line of lines) {
      if (redelegate.has(line.account_id)) await redelegateLine(ctx, uow, line.account_id, line.id);
    }
    return outcomes;
  });
}

/** How long a connection row lives without a heartbeat before it counts as gone (a crashed process). */
export const CONNECTION_STALE_MS = 90_000;

/**
 * OP-4: a WebSocket connection makes an offline operator online (an explicit "away" stays away);
 * when their last connection on any process ends, they go offline. Rows per connection make this
 * hold across processes; heartbeats keep them fresh and the sweep removes those of a dead process.
 */
export async function connectionOpened(
  ctx: AppContext,
  connection: { id: string; accountId: string; userId: string; nodeId: string },
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.store.db
    .insertInto('operator_connections')
    .values({
      id: connection.id,
      account_id: connection.accountId,
      user_id: connection.userId,
      node_id: connection.nodeId,
      connected_at: now,
      last_seen_at: now,
    })
    .execute();
  await changePresence(ctx, connection.accountId, connection.userId, 'online', { from: 'offline' });
}

export async function connectionClosed(
  ctx: AppContext,
  connection: { id: string; accountId: string; userId: string },
): Promise<void> {
  await ctx.store.db.deleteFrom('operator_connections').where('id', '=', connection.id).execute();
  await offlineIfDisconnected(ctx, connection.accountId, connection.userId);
}

async function offlineIfDisconnected(ctx: AppContext, accountId: string, userId: string): Promise<void> {
  const alive = await ctx.store.db
    .selectFrom('operator_connections')
    .select('id')
    .where('user_id', '=', userId)
    .where('last_seen_at', '>', new Date(ctx.clock.now().getTime() - CONNECTION_STALE_MS))
    .executeTakeFirst();
  if (alive) return;
  for (const from of ['online', 'away'] as const) {
    if (await changePresence(ctx, accountId, userId, 'offline', { from })) return;
  }
}

export async function connectionsSeen(ctx: AppContext, connectionIds: string[]): Promise<void> {
  if (connectionIds.length === 0) return;
  await ctx.store.db
    .updateTable('operator_connections')
    .set({ last_seen_at: ctx.clock.now() })
    .where('id', 'in', connectionIds)
    .execute();
}

/** Removes connections of processes that stopped without saying so, and marks their users offline. */
export async function sweepStaleConnections(ctx: AppContext): Promise<void> {
  const stale = await ctx.store.db
    .deleteFrom('operator_connections')
    .where('last_seen_at', '<=', new Date(ctx.clock.now().getTime() - CONNECTION_STALE_MS))
    .returning(['account_id', 'user_id'])
    .execute();
  const users = new Map(stale.map((row) => [row.user_id, row.account_id]));
  for (const [userId, accountId] of users) await offlineIfDisconnected(ctx, accountId, userId);
}
