import type { OpenlinesEvent } from '@openlines/contract';
import type { EventEnvelope } from '../bus/bus';
import type { AppContext } from '../context';
import { loadEventsAfter } from '../store/events';

/**
 * The committed event log as the sockets read it (ws/): an account's cursor, the events after a
 * cursor (replay and gap filling), and the events of one dialog a widget visitor may replay.
 */

/** The cursor of the account's last committed event: a listener joining now gets every later one. */
export async function eventCursorOf(ctx: AppContext, accountId: string): Promise<number> {
  const row = await ctx.store.db
    .selectFrom('accounts')
    .select('event_seq')
    .where('id', '=', accountId)
    .executeTakeFirstOrThrow();
  return row.event_seq;
}

/**
 * Whether a socket resuming after `after` can be replayed: false when the event log has pruned
 * events after it (older than EVENT_RETENTION_HOURS), so the client must reload instead (`resync`).
 */
export async function canReplayFrom(ctx: AppContext, accountId: string, after: number): Promise<boolean> {
  const row = await ctx.store.db
    .selectFrom('accounts')
    .select('events_pruned_through')
    .where('id', '=', accountId)
    .executeTakeFirst();
  return after >= Number(row?.events_pruned_through ?? 0);
}

/** Committed events of the account with cursor in (after, upTo], in cursor order. */
export function eventsAfter(
  ctx: AppContext,
  accountId: string,
  after: number,
  upTo: number,
  limit?: number,
): Promise<EventEnvelope[]> {
  return loadEventsAfter(ctx.store.db, accountId, after, upTo, limit);
}

/** The events a visitor's socket turns into frames: messages and session changes of one dialog. */
export const VISITOR_EVENT_TYPES = ['message.created', 'message.updated', 'dialog.updated'] as const;

/** The dialog an event is about (stored with it as `events.dialog_id`); null for other events. */
export function dialogOfEvent(event: Pick<OpenlinesEvent, 'type' | 'data'>): string | null {
  const { type, data } = event as OpenlinesEvent;
  switch (type) {
    case 'message.created':
    case 'message.updated':
      return data.message.dialogId;
    case 'dialog.updated':
      return data.dialog.id;
    case 'notification':
    case 'note.mentioned':
      return data.dialogId;
    default:
      return null;
  }
}

const VISITOR_TYPES: ReadonlySet<string> = new Set(VISITOR_EVENT_TYPES);

/** The dialog an event is about, for the event types a visitor may get; null for any other. */
export function dialogIdOf(event: OpenlinesEvent): string | null {
  return VISITOR_TYPES.has(event.type) ? dialogOfEvent(event) : null;
}

/** What a visitor resuming after `after` missed of their dialog. */
export function dialogEventsAfter(
  ctx: AppContext,
  accountId: string,
  dialogId: string,
  after: number,
  upTo: number,
  limit = 500,
): Promise<EventEnvelope[]> {
  return loadEventsAfter(ctx.store.db, accountId, after, upTo, limit, {
    dialogId,
    types: VISITOR_EVENT_TYPES,
  });
}
