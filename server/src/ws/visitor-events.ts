import type { OpenlinesEvent } from '@openlines/contract';
import { sql } from 'kysely';
import type { EventEnvelope } from '../bus/bus';
import type { Database } from '../store/database';

/** The events a visitor's socket turns into frames: messages and session changes of one dialog. */
export const VISITOR_EVENT_TYPES = ['message.created', 'message.updated', 'dialog.updated'] as const;

/** The dialog an event is about, for the event types a visitor may get; null for any other. */
export function dialogIdOf(event: OpenlinesEvent): string | null {
  switch (event.type) {
    case 'message.created':
    case 'message.updated':
      return event.data.message.dialogId;
    case 'dialog.updated':
      return event.data.dialog.id;
    default:
      return null;
  }
}

/**
 * Committed events of one dialog with cursor in (after, upTo], in cursor order: what a visitor
 * resuming after `after` missed. Filtered in SQL so a busy account's other dialogs cost no transfer.
 */
export async function loadDialogEventsAfter(
  db: Database,
  accountId: string,
  dialogId: string,
  after: number,
  upTo: number,
  limit = 500,
): Promise<EventEnvelope[]> {
  const rows = await db
    .selectFrom('events')
    .select(['cursor', 'type', 'data', 'audience', 'created_at'])
    .where('account_id', '=', accountId)
    .where('cursor', '>', after)
    .where('cursor', '<=', upTo)
    .where('type', 'in', [...VISITOR_EVENT_TYPES])
    .where(sql<boolean>`coalesce(data->'message'->>'dialogId', data->'dialog'->>'id') = ${dialogId}`)
    .orderBy('cursor')
    .limit(limit)
    .execute();
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
