import type { Presence } from '@openlines/contract';
import type { AppContext } from '../context';
import { lockLines } from './locks';
import { redelegateLine } from './routing';
import { runInTransaction } from './transaction';

/**
 * Sets an operator's status (OP-4) and, when they become available, hands them waiting sessions
 * at once. Lines are locked before the user row is written, like every routing change.
 */
export async function changePresence(
  ctx: AppContext,
  accountId: string,
  userId: string,
  presence: Presence,
  only?: { from: Presence },
): Promise<boolean> {
  return runInTransaction(ctx, async (uow) => {
    const lines = await uow.tx
      .selectFrom('lines')
      .select('id')
      .where('account_id', '=', accountId)
      .where('active', '=', true)
      .execute();
    const lineIds = lines.map((l) => l.id);
    if (presence === 'online') await lockLines(uow.tx, lineIds);
    let update = uow.tx
      .updateTable('users')
      .set({ presence, presence_changed_at: ctx.clock.now() })
      .where('id', '=', userId)
      .where('account_id', '=', accountId)
      .where('presence', '!=', presence);
    if (only) update = update.where('presence', '=', only.from);
    const changed = await update.executeTakeFirst();
    if (changed.numUpdatedRows === 0n) return false;
    uow.events.emit(accountId, 'presence.changed', { userId, presence });
    if (presence === 'online')
      for (const lineId of lineIds) await redelegateLine(ctx, uow, accountId, lineId);
    return true;
  });
}
