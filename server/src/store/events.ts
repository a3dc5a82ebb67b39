import type { OpenlinesEvent } from '@openlines/contract';
import type { EventEnvelope } from '../bus/bus';
import type { Database } from './database';

/**
 * Committed events of an account with cursor in (after, upTo], in cursor order. With `dialogId`,
 * only the message and dialog events of that dialog (what a widget visitor may replay), filtered in
 * SQL so a busy account's other dialogs cost nothing.
 */
export async function loadEventsAfter(
  db: Database,
  accountId: string,
  after: number,
  upTo: number,
  limit = 1000,
  only?: { dialogId: string; types: readonly string[] },
): Promise<EventEnvelope[]> {
  let query = db
    .selectFrom('events')
    .select(['cursor', 'type', 'data', 'audience', 'created_at'])
    .where('account_id', '=', accountId)
    .where('cursor', '>', after)
    .where('cursor', '<=', upTo);
  if (only) {
    query = query.where('type', 'in', [...only.types]).where('dialog_id', '=', only.dialogId);
  }
  const rows = await query.orderBy('cursor').limit(limit).execute();
  return rows.map((row) => ({
    accountId,
    audience: row.audience,
    event: {
      cursor: Number(row.cursor),
      type: row.type,
      at: row.created_at.toISOString(),
      data: row.data,
    } as OpenlinesEvent,
  }));
}
