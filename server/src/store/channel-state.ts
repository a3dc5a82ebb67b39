import type { Database } from './database';

/** Which server process works a channel (polls a bot, reads a mailbox), until when. */
export interface Lease {
  owner: string;
  until: string;
}

/**
 * Changes a channel's state under its row lock (every polling kind's `channel_state.data`:
 * telegram-state.ts, email-state.ts). `change` sees the current state and returns the
 * new one, or null to leave it as it is; the result is the state after the call (null: unchanged).
 */
export async function changeState<S extends object>(
  db: Database,
  channelId: string,
  now: Date,
  change: (state: S) => S | null,
): Promise<S | null> {
  return db.transaction().execute(async (tx) => {
    // The channel may have been deleted meanwhile: then the foreign key refuses the row; skip.
    const channel = await tx
      .selectFrom('channels')
      .select('id')
      .where('id', '=', channelId)
      .executeTakeFirst();
    if (!channel) return null;
    await tx
      .insertInto('channel_state')
      .values({ channel_id: channelId, data: '{}', updated_at: now })
      .onConflict((oc) => oc.column('channel_id').doNothing())
      .execute();
    const row = await tx
      .selectFrom('channel_state')
      .select('data')
      .where('channel_id', '=', channelId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const next = change(row.data as S);
    if (!next) return null;
    await tx
      .updateTable('channel_state')
      .set({ data: JSON.stringify(next), updated_at: now })
      .where('channel_id', '=', channelId)
      .execute();
    return next;
  });
}

/** Whether `owner` may work the channel now: nobody holds it, it holds it, or the lease ran out. */
export const holdsLease = (state: { lease?: Lease }, owner: string, now: Date) =>
  !state.lease || state.lease.owner === owner || new Date(state.lease.until).getTime() <= now.getTime();

/** Takes (or renews) the lease; the state when this process holds it, null when another does. */
export function acquireLease<S extends { lease?: Lease }>(
  db: Database,
  channelId: string,
  owner: string,
  now: Date,
  leaseMs: number,
): Promise<S | null> {
  return changeState<S>(db, channelId, now, (state) =>
    holdsLease(state, owner, now)
      ? { ...state, lease: { owner, until: new Date(now.getTime() + leaseMs).toISOString() } }
      : null,
  );
}

/** Gives the lease up (on shutdown) if this process holds it. */
export async function releaseLease(db: Database, channelId: string, owner: string, now: Date): Promise<void> {
  await changeState<{ lease?: Lease }>(db, channelId, now, (state) => {
    if (state.lease?.owner !== owner) return null;
    const { lease: _released, ...rest } = state;
    return rest;
  });
}
