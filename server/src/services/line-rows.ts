import { notFound } from '../errors';
import type { Database } from '../store/database';
import type { LineRow } from '../store/schema';
import type { Tx } from './transaction';

/** A line of the account, or 404. */
export async function loadLineRow(db: Database | Tx, accountId: string, lineId: string): Promise<LineRow> {
  const row = await db
    .selectFrom('lines')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', lineId)
    .executeTakeFirst();
  if (!row) throw notFound('The line');
  return row;
}

/**
 * Lines as of their last change, kept per process: the write path reads a line's `updated_at` with
 * the rows it locks anyway and takes the settings from here while that version is current, so a
 * message does not re-read (and re-parse) the line's settings. Every change of a line's settings
 * or state bumps `updated_at` (services/lines), which is what makes the cache safe across processes.
 * `strict_cursor` is not cached here: routing reads the line under its lock.
 */
const MAX_LINES = 10_000;
const cached = new Map<string, LineRow>();

export async function lineAsOf(db: Database | Tx, lineId: string, updatedAt: Date): Promise<LineRow> {
  const hit = cached.get(lineId);
  if (hit && hit.updated_at.getTime() === updatedAt.getTime()) return hit;
  const row = await db.selectFrom('lines').selectAll().where('id', '=', lineId).executeTakeFirstOrThrow();
  if (cached.size >= MAX_LINES) cached.clear();
  cached.set(lineId, row);
  return row;
}
