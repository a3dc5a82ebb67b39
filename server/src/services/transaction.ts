import type { EventAudience, EventPayloads, EventType, OpenlinesEvent } from '@openlines/contract';
import { sql, type Transaction } from 'kysely';
import type { EventEnvelope } from '../bus/bus';
import type { AppContext } from '../context';
import type { DB } from '../store/schema';
import { dialogOfEvent } from './event-log';

export type Tx = Transaction<DB>;

interface PendingEvent {
  accountId: string;
  type: EventType;
  data: unknown;
  audience: EventAudience;
}

/** Collects the events a use case produces; they are written in its transaction. */
export class EventRecorder {
  readonly pending: PendingEvent[] = [];

  emit<T extends EventType>(
    accountId: string,
    type: T,
    data: EventPayloads[T],
    audience: EventAudience = {},
  ): void {
    this.pending.push({ accountId, type, data, audience });
  }
}

export interface UnitOfWork {
  tx: Tx;
  events: EventRecorder;
  /**
   * Work to do once at the end of the transaction, keyed so that it runs once per key however
   * often it is asked for (e.g. presenting a dialog that several steps touched).
   */
  beforeCommit(key: string, work: () => Promise<void>): void;
}

/** PostgreSQL's deadlock and serialization failures: the transaction is safe to run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 4;

/**
 * One use case = one transaction (ARCHITECTURE property 2). The state change, the event rows that
 * record it and any timers are committed together; events reach the bus only after commit.
 *
 * Event rows are numbered last, by bumping the account's `event_seq` as the transaction's final
 * write: the row lock it takes makes commits of one account happen in cursor order, so a client that
 * has seen cursor N has seen everything before N.
 */
export async function runInTransaction<T>(
  ctx: AppContext,
  work: (uow: UnitOfWork) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptTransaction(ctx, work);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= MAX_ATTEMPTS || !code || !RETRYABLE.has(code)) throw error;
      ctx.log.debug({ code, attempt }, 'transaction retried');
    }
  }
}

async function attemptTransaction<T>(ctx: AppContext, work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
  const recorder = new EventRecorder();
  let envelopes: EventEnvelope[] = [];
  const result = await ctx.store.db.transaction().execute(async (tx) => {
    const finals = new Map<string, () => Promise<void>>();
    const value = await work({
      tx,
      events: recorder,
      beforeCommit: (key, hook) => {
        if (!finals.has(key)) finals.set(key, hook);
      },
    });
    // A final step may ask for more final steps (presenting a dialog after a redelegation).
    while (finals.size > 0) {
      const [key, hook] = finals.entries().next().value as [string, () => Promise<void>];
      await hook();
      finals.delete(key);
    }
    envelopes = await writeEvents(tx, recorder.pending, ctx.clock.now());
    return value;
  });
  // What reacts to the change does so from here on, in every process: the events go to the bus,
  // and each process's dispatcher (services/event-dispatch) hands them to their listeners.
  if (envelopes.length > 0) {
    ctx.bus.publish(envelopes).catch((error) => ctx.log.warn({ err: error }, 'event publish failed'));
  }
  return result;
}

async function writeEvents(tx: Tx, pending: PendingEvent[], now: Date): Promise<EventEnvelope[]> {
  if (pending.length === 0) return [];
  const byAccount = new Map<string, PendingEvent[]>();
  for (const event of pending) {
    const list = byAccount.get(event.accountId) ?? [];
    list.push(event);
    byAccount.set(event.accountId, list);
  }
  const envelopes: EventEnvelope[] = [];
  // A fixed order of account row locks keeps two multi-account transactions from deadlocking.
  for (const accountId of [...byAccount.keys()].sort()) {
    const events = byAccount.get(accountId)!;
    // One statement numbers and writes the account's events: the counter's row lock is taken by
    // the UPDATE in the CTE, and each row's cursor is counted back from the new value.
    const rows = events.map((event) => ({
      type: event.type,
      data: event.data,
      audience: event.audience,
      dialog_id: dialogOfEvent(event as Pick<OpenlinesEvent, 'type' | 'data'>),
    }));
    const written = await sql<{ last: number }>`
      with seq as (
        update accounts set event_seq = event_seq + ${events.length} where id = ${accountId}
        returning event_seq
      ), rows as (
        select e.type, e.data, e.audience, e.dialog_id, e.position
        from rows from (
          jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
            as (type text, data jsonb, audience jsonb, dialog_id uuid)
        ) with ordinality as e(type, data, audience, dialog_id, position)
      ), inserted as (
        insert into events (account_id, cursor, type, data, audience, dialog_id, created_at)
        select ${accountId}, seq.event_seq - ${events.length} + rows.position, rows.type,
          rows.data, rows.audience, rows.dialog_id, ${now}
        from seq, rows
      )
      select event_seq as last from seq`.execute(tx);
    const last = Number(written.rows[0]!.last);
    const first = last - events.length + 1;
    for (const [index, event] of events.entries()) {
      envelopes.push({
        accountId,
        audience: event.audience,
        event: {
          cursor: first + index,
          type: event.type,
          at: now.toISOString(),
          data: event.data,
        } as OpenlinesEvent,
      });
    }
  }
  return envelopes;
}
