import { OPEN_STATUSES } from '@openlines/contract';
import type { AppContext } from '../context';
import type { ChannelRow } from '../store/schema';
import { closeForNewThread } from './automation/timers';
import { lockSession } from './sessions';
import { runInTransaction } from './transaction';

/**
 * Before a message that starts a new thread (an e-mail answering nothing) is taken in: the
 * client's open session in this channel's dialog, if any, is closed silently, so the message opens
 * a new session in the same dialog. A message already stored (a redelivery) closes nothing.
 * Returns whether a session was closed.
 */
export async function endSessionForNewThread(
  ctx: AppContext,
  channel: ChannelRow,
  externalUserId: string,
  externalId: string,
): Promise<boolean> {
  const db = ctx.store.db;
  const stored = await db
    .selectFrom('messages')
    .select('id')
    .where('channel_id', '=', channel.id)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  if (stored) return false;
  const open = await db
    .selectFrom('client_identities')
    .innerJoin('dialogs', (join) =>
      join
        .onRef('dialogs.client_id', '=', 'client_identities.client_id')
        .onRef('dialogs.channel_id', '=', 'client_identities.channel_id'),
    )
    .innerJoin('sessions', 'sessions.dialog_id', 'dialogs.id')
    .select('sessions.id')
    .where('client_identities.channel_id', '=', channel.id)
    .where('client_identities.external_id', '=', externalUserId)
    .where('sessions.status', 'in', [...OPEN_STATUSES])
    .orderBy('sessions.created_at', 'desc')
    .executeTakeFirst();
  if (!open) return false;
  return runInTransaction(ctx, async (uow) => {
    const session = await lockSession(uow.tx, channel.account_id, open.id);
    if (!(OPEN_STATUSES as readonly string[]).includes(session.status)) return false;
    await closeForNewThread(ctx, uow, session);
    return true;
  });
}

/**
 * Our own reply token: the Message-ID of every mail we send names the message (outbound.ts), and
 * is kept as that message's external id. A mail that answers one of ours (`In-Reply-To`,
 * `References`) belongs to that message's client, even when it comes from another address (an
 * alias, a forwarding account): the client's identity in the channel is returned; null when the
 * mail answers nothing of ours.
 */
export async function clientOfAnsweredMail(
  ctx: AppContext,
  channel: ChannelRow,
  answered: string[],
): Promise<string | null> {
  const ids = answered.filter((id) => id.length > 0 && id.length <= 255);
  if (ids.length === 0) return null;
  const row = await ctx.store.db
    .selectFrom('messages')
    .innerJoin('dialogs', 'dialogs.id', 'messages.dialog_id')
    .innerJoin('client_identities', (join) =>
      join
        .onRef('client_identities.client_id', '=', 'dialogs.client_id')
        .onRef('client_identities.channel_id', '=', 'dialogs.channel_id'),
    )
    .select('client_identities.external_id')
    .where('messages.channel_id', '=', channel.id)
    .where('messages.external_id', 'in', ids)
    .where('messages.author_kind', '<>', 'client')
    .orderBy('messages.created_at', 'desc')
    .executeTakeFirst();
  return row?.external_id ?? null;
}
