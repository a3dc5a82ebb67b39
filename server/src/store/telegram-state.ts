import type { Database } from './database';

/**
 * The Telegram worker's durable state per channel, in `channel_state.data`:
 *   offset   the next getUpdates offset: written only after the updates before it are committed,
 *            so a restart neither reads an update twice nor skips one;
 *   botId    the bot the offset belongs to (a new token for another bot starts over);
 *   lease    which server process polls the bot, until when (one poller per bot: Telegram answers
 *            409 to a second one); renewed on every round, released on shutdown;
 *   webhook  the webhook URL and a digest of the secret last registered with setWebhook, so it is
 *            registered again after a rotation and removed when the channel is disconnected.
 */
export interface TelegramState {
  offset?: number;
  botId?: string;
  lease?: { owner: string; until: string };
  webhook?: { url: string; secretDigest: string };
}

export async function loadTelegramStates(
  db: Database,
  channelIds: string[],
): Promise<Map<string, TelegramState>> {
  if (channelIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('channel_state')
    .select(['channel_id', 'data'])
    .where('channel_id', 'in', channelIds)
    .execute();
  return new Map(rows.map((row) => [row.channel_id, row.data as TelegramState]));
}

/**
 * Changes a channel's state under its row lock (every polling kind's `channel_state.data`: this
 * file's Telegram state, email-state.ts). `change` sees the current state and returns the
 * new one, or null to leave it as it is; the result is the state after the call (null: unchanged).
 */
export async function changeState<S extends object = TelegramState>(
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

const holds = (state: TelegramState, owner: string, now: Date) =>
  !state.lease || state.lease.owner === owner || new Date(state.lease.until).getTime() <= now.getTime();

/** Takes (or renews) the polling lease; the state when this process holds it, null when another does. */
export function acquireLease(
  db: Database,
  channelId: string,
  owner: string,
  now: Date,
  leaseMs: number,
): Promise<TelegramState | null> {
  return changeState(db, channelId, now, (state) =>
    holds(state, owner, now)
      ? { ...state, lease: { owner, until: new Date(now.getTime() + leaseMs).toISOString() } }
      : null,
  );
}

/**
 * Records the next offset (and renews the lease) while this process holds the lease. False when it
 * lost it: another process polls the bot now, and this one must stop.
 */
export async function saveOffset(
  db: Database,
  channelId: string,
  input: { owner: string; botId: string; offset: number; now: Date; leaseMs: number },
): Promise<boolean> {
  const saved = await changeState(db, channelId, input.now, (state) =>
    holds(state, input.owner, input.now)
      ? {
          ...state,
          botId: input.botId,
          offset: input.offset,
          lease: { owner: input.owner, until: new Date(input.now.getTime() + input.leaseMs).toISOString() },
        }
      : null,
  );
  return saved !== null;
}

export async function releaseLease(db: Database, channelId: string, owner: string, now: Date): Promise<void> {
  await changeState(db, channelId, now, (state) => {
    if (state.lease?.owner !== owner) return null;
    const { lease: _released, ...rest } = state;
    return rest;
  });
}

export async function recordWebhook(
  db: Database,
  channelId: string,
  webhook: TelegramState['webhook'] | null,
  now: Date,
): Promise<void> {
  await changeState(db, channelId, now, (state) => {
    const { webhook: _previous, ...rest } = state;
    return webhook ? { ...rest, webhook } : rest;
  });
}
