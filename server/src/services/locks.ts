import { sql } from 'kysely';
import type { Tx } from './transaction';

/**
 * The routing lock (Q-7, ARCHITECTURE property 3). Every use case that may change which operator
 * holds a session of a line takes its line's lock first, before any session, dialog or timer
 * row, so capacity is counted and written under one lock and lock order is the same everywhere.
 * Several lines are locked in id order.
 */
export async function lockLines(tx: Tx, lineIds: string[]): Promise<void> {
  for (const lineId of [...new Set(lineIds)].sort()) {
    await sql`select pg_advisory_xact_lock(hashtextextended(${lineId}, 7))`.execute(tx);
  }
}
