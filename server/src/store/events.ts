import type { OpenlinesEvent } from '@openlines/contract';
import type { EventEnvelope } from '../bus/bus';
import type { Database } from './database';

/** Committed events of an account with cursor in (after, upTo], in cursor order. */
export async function loadEventsAfter(
  db: Database,
  accountId: string,
  after: number,
  upTo: number,
  limit = 1000,
): Promise<EventEnvelope[]> {
  const rows = await db
    .selectFrom('events')
    .select(['cursor', 'type', 'data', 'audience', 'created_at'])
    .where('account_id', '=', accountId)
    .where('cursor', '>', after)
    .where('cursor', '<=', upTo)
    .orderBy('cursor')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    accountId,
    audience: row.audience,
    event: {
      cursor: row.cursor,
      type: row.type,
      at: row.created_at.toISOString(),
      data: row.data,
    } as OpenlinesEvent,
  }));
}
