import { type Kysely, sql } from 'kysely';

/**
 * Issue 18: an event-webhook delivery still waiting when its dialog's history is erased (history
 * saving off) is still sent — the subscriber hears of the close — but its body must not stay in the
 * 30-day delivery log afterwards. The erasure marks such rows; the worker empties the body of a
 * marked row in the statement that records it delivered.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table webhook_deliveries add column forget_body boolean not null default false`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table webhook_deliveries drop column forget_body`.execute(db);
}
