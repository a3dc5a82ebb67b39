import { type Kysely, sql } from 'kysely';

/**
 * Three permissions join the role model: `managePersonalData` (export and erase a client's data,
 * read the audit log), `manageIntegrations` (webhooks, chatbots, REST applications) and the `crm`
 * scope. Existing roles get what the matching built-in role starts with; custom roles get the
 * operator's (nothing new beyond their own CRM records), so no one gains a right by upgrading.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`update roles set permissions = permissions
      || '{"managePersonalData": true, "manageIntegrations": true, "crm": "all"}'::jsonb
    where built_in = 'administrator'`.execute(db);
  await sql`update roles set permissions = permissions
      || '{"managePersonalData": false, "manageIntegrations": false, "crm": "all"}'::jsonb
    where built_in = 'supervisor'`.execute(db);
  await sql`update roles set permissions = permissions
      || '{"managePersonalData": false, "manageIntegrations": false, "crm": "own"}'::jsonb
    where built_in is null or built_in not in ('administrator', 'supervisor')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`update roles set permissions = permissions - 'managePersonalData' - 'manageIntegrations' - 'crm'`.execute(
    db,
  );
}
