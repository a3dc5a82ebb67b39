import { type Kysely, sql } from 'kysely';

/**
 * A channel whose platform no longer accepts our credentials (a revoked token: Graph error 190)
 * is marked failing with the reason, until its settings are saved again (the token re-checked)
 * or a send succeeds. Its outgoing messages wait in the outbox meanwhile.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table channels add column failure text`.execute(db);
  await sql`alter table channels add column failure_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table channels drop column failure_at`.execute(db);
  await sql`alter table channels drop column failure`.execute(db);
}
