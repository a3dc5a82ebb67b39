import type { TimerKind } from '../core/held-message';
import type { Tx } from './transaction';

/** Kinds of durable timers (core/held-message); each has one handler in workers/timers. */
export type { TimerKind };

/** Arms (or re-arms) a session's timer of one kind in the caller's transaction. */
export async function armTimer(
  tx: Tx,
  input: {
    accountId: string;
    sessionId: string;
    kind: TimerKind;
    dueAt: Date;
    payload?: Record<string, unknown>;
  },
): Promise<void> {
  await tx
    .insertInto('timers')
    .values({
      account_id: input.accountId,
      session_id: input.sessionId,
      kind: input.kind,
      due_at: input.dueAt,
      payload: JSON.stringify(input.payload ?? {}),
    })
    .onConflict((oc) =>
      oc.columns(['session_id', 'kind']).doUpdateSet((eb) => ({
        due_at: eb.ref('excluded.due_at'),
        payload: eb.ref('excluded.payload'),
      })),
    )
    .execute();
}

export async function cancelTimers(tx: Tx, sessionId: string, kinds?: TimerKind[]): Promise<void> {
  let query = tx.deleteFrom('timers').where('session_id', '=', sessionId);
  if (kinds) query = query.where('kind', 'in', kinds);
  await query.execute();
}
