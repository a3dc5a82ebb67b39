import type { BlockedClientList } from '@openlines/contract';
import type { AppContext } from '../context';
import { notFound } from '../errors';
import { type Actor, authorize } from './actor';
import { recordAudit } from './audit';
import { touchDialog } from './dialog-events';
import { runInTransaction, type Tx } from './transaction';

/**
 * OP-3: marking a dialog as spam blocks its client, not one dialog. A blocked client's messages
 * are stored and go nowhere once they would open a new session, on any line and through any of
 * their identities (services/intake reads the block with the client, at no extra statement). A
 * supervisor sees the blocked clients and lifts a block, which also clears the spam marks of the
 * client's dialogs, so their next message is routed again.
 */

/** Blocks the client in the caller's transaction (the spam mark's); a block already on is kept as it was. */
export async function blockClient(tx: Tx, clientId: string, userId: string, now: Date): Promise<void> {
  await tx
    .updateTable('clients')
    .set({ blocked_at: now, blocked_by: userId })
    .where('id', '=', clientId)
    .where('blocked_at', 'is', null)
    .execute();
}

/** The most blocked clients one list shows; the newest come first. */
const BLOCKED_PAGE = 200;

/** The account's blocked clients, newest block first, with their identities (needs supervise). */
export async function listBlockedClients(ctx: AppContext, actor: Actor): Promise<BlockedClientList> {
  authorize(actor, 'supervise');
  const db = ctx.store.db;
  const clients = await db
    .selectFrom('clients')
    .leftJoin('users', 'users.id', 'clients.blocked_by')
    .select([
      'clients.id',
      'clients.name',
      'clients.email',
      'clients.phone',
      'clients.blocked_at',
      'clients.blocked_by',
      'users.name as blocked_by_name',
    ])
    .where('clients.account_id', '=', actor.accountId)
    .where('clients.blocked_at', 'is not', null)
    .orderBy('clients.blocked_at', 'desc')
    .orderBy('clients.id')
    .limit(BLOCKED_PAGE + 1)
    .execute();
  const page = clients.slice(0, BLOCKED_PAGE);
  const identities = page.length
    ? await db
        .selectFrom('client_identities')
        .innerJoin('channels', 'channels.id', 'client_identities.channel_id')
        .select([
          'client_identities.client_id',
          'client_identities.channel_id',
          'client_identities.external_id',
          'channels.name',
          'channels.kind',
        ])
        .where(
          'client_identities.client_id',
          'in',
          page.map((client) => client.id),
        )
        .orderBy('channels.name')
        .execute()
    : [];
  return {
    items: page.map((client) => ({
      id: client.id,
      name: client.name,
      email: client.email,
      phone: client.phone,
      blockedAt: new Date(client.blocked_at!).toISOString(),
      blockedBy: client.blocked_by,
      blockedByName: client.blocked_by_name,
      identities: identities
        .filter((identity) => identity.client_id === client.id)
        .map((identity) => ({
          channelId: identity.channel_id,
          channelName: identity.name,
          channelKind: identity.kind,
          externalId: identity.external_id,
        })),
    })),
    hasMore: clients.length > BLOCKED_PAGE,
  };
}

/**
 * Lifts a client's block (needs supervise): their dialogs lose the spam mark and route again. The
 * audit log records who lifted it.
 */
export async function unblockClient(ctx: AppContext, actor: Actor, clientId: string): Promise<void> {
  authorize(actor, 'supervise');
  await runInTransaction(ctx, async (uow) => {
    const client = await uow.tx
      .updateTable('clients')
      .set({ blocked_at: null, blocked_by: null })
      .where('id', '=', clientId)
      .where('account_id', '=', actor.accountId)
      .returning('id')
      .executeTakeFirst();
    if (!client) throw notFound('The client');
    await recordAudit(
      uow.tx,
      actor,
      { action: 'client.unblocked', targetType: 'client', targetId: clientId },
      ctx.clock.now(),
    );
    const dialogs = await uow.tx
      .updateTable('dialogs')
      .set({ spam: false })
      .where('client_id', '=', clientId)
      .where('spam', '=', true)
      .returning('id')
      .execute();
    for (const dialog of dialogs) touchDialog(ctx, uow, actor.accountId, dialog.id);
  });
}
