import { changeState, holdsLease, type Lease } from './channel-state';
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
  lease?: Lease;
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
 * Records the next offset (and renews the lease) while this process holds the lease. False when it
 * lost it: another process polls the bot now, and this one must stop.
 */
export async function saveOffset(
  db: Database,
  channelId: string,
  input: { owner: string; botId: string; offset: number; now: Date; leaseMs: number },
): Promise<boolean> {
  const saved = await changeState<TelegramState>(db, channelId, input.now, (state) =>
    holdsLease(state, input.owner, input.now)
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

export async function recordWebhook(
  db: Database,
  channelId: string,
  webhook: TelegramState['webhook'] | null,
  now: Date,
): Promise<void> {
  await changeState<TelegramState>(db, channelId, now, (state) => {
    const { webhook: _previous, ...rest } = state;
    return webhook ? { ...rest, webhook } : rest;
  });
}
