import { type Kysely, sql } from 'kysely';
import { DEFAULT_STAGES } from '../../core/crm';

/**
 * The CRM at work (issue 12): each record names its CRM source (`CRM_SOURCE`: the line's name when
 * the line creates its source, or the chosen source id), and every account gets a default sales
 * pipeline with sensible stages (new accounts get it in services/accounts). Lists are read by
 * account, newest change first.
 */

const TABLES = ['crm_contacts', 'crm_companies', 'crm_leads', 'crm_deals'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) {
    await sql`alter table ${sql.table(table)}
      add column source text not null default '' check (length(source) <= 200)`.execute(db);
    await sql`create index ${sql.id(`${table}_recent`)} on ${sql.table(table)} (account_id, updated_at desc, id)`.execute(
      db,
    );
  }
  await sql`create index crm_deals_stage on crm_deals (stage_id)`.execute(db);
  await sql`insert into crm_pipelines (account_id, name, is_default, position)
    select a.id, 'Sales', true, 0 from accounts a
    where not exists (select 1 from crm_pipelines p where p.account_id = a.id and p.is_default)`.execute(db);
  await sql`insert into crm_stages (account_id, pipeline_id, name, position, semantics)
    select p.account_id, p.id, s.name, s.position, s.semantics
    from crm_pipelines p
    cross join jsonb_to_recordset(${JSON.stringify(DEFAULT_STAGES.map((stage, position) => ({ ...stage, position })))}::jsonb)
      as s(name text, position int, semantics text)
    where p.is_default and not exists (select 1 from crm_stages x where x.pipeline_id = p.id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists crm_deals_stage`.execute(db);
  for (const table of TABLES) {
    await sql`drop index if exists ${sql.id(`${table}_recent`)}`.execute(db);
    await sql`alter table ${sql.table(table)} drop column if exists source`.execute(db);
  }
}
