import type { OpenlinesEvent } from '@openlines/contract';
import type { EventEnvelope } from '../bus/bus';
import type { Database } from '../store/database';
import { loadEventsAfter } from '../store/events';

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

/** What a visitor resuming after `after` missed of their dialog (see loadEventsAfter). */
export function loadDialogEventsAfter(
  db: Database,
  accountId: string,
  dialogId: string,
  after: number,
  upTo: number,
  limit = 500,
): Promise<EventEnvelope[]> {
  return loadEventsAfter(db, accountId, after, upTo, limit, { dialogId, types: VISITOR_EVENT_TYPES });
}
