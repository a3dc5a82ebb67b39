import { type Kysely, sql } from 'kysely';

/**
 * Lead conversion (issue 12, Bitrix24 semantics): a converted lead keeps its row and its sessions
 * (the history stays on the lead) and remembers the company it became, beside the contact it
 * already names; the deal made from it remembers its lead. Deleting either side only unlinks.
 */
const statements = [
  sql`alter table crm_leads add column company_id uuid references crm_companies(id) on delete set null`,
  sql`alter table crm_deals add column lead_id uuid references crm_leads(id) on delete set null`,
  sql`create index crm_deals_lead on crm_deals (lead_id) where lead_id is not null`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists crm_deals_lead`.execute(db);
  await sql`alter table crm_deals drop column if exists lead_id`.execute(db);
  await sql`alter table crm_leads drop column if exists company_id`.execute(db);
}
