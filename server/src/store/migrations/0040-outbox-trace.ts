import { type Kysely, sql } from 'kysely';

/**
 * The trace an outbound message was queued in (issue 21): with tracing on, the request or step that
 * stored the message leaves its W3C `traceparent` on the outbox row, and the delivery's span (which
 * runs later, in whichever process claims the row) links to it. Null when tracing is off.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table outbox add column trace_parent text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table outbox drop column trace_parent`.execute(db);
}
