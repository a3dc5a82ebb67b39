import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer, usingPostgres } from './harness';

const backend = usingPostgres ? 'PostgreSQL' : 'PGlite';

// Migration 0012: the CRM's constraints hold in the database itself, not only in the services.
describe(`the CRM tables on ${backend}`, () => {
  let server: TestServer;
  let accountId: string;

  beforeAll(async () => {
    server = await createTestServer();
    accountId = (await server.ctx.store.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function contact(name: string): Promise<string> {
    const row = await server.ctx.store.db
      .insertInto('crm_contacts')
      .values({ account_id: accountId, name, source_kind: 'manual' })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  it('gives an identity to at most one contact of the account', async () => {
    const db = server.ctx.store.db;
    const anna = await contact('Anna');
    const other = await contact('Another Anna');
    await db
      .insertInto('crm_contact_identities')
      .values({ account_id: accountId, contact_id: anna, kind: 'phone', value: '+79161234567' })
      .execute();
    await expect(
      db
        .insertInto('crm_contact_identities')
        .values({ account_id: accountId, contact_id: other, kind: 'phone', value: '+79161234567' })
        .execute(),
    ).rejects.toThrow(/duplicate key|unique/i);
    // The same value as another kind of identity is a different identity.
    await db
      .insertInto('crm_contact_identities')
      .values({ account_id: accountId, contact_id: other, kind: 'channel', value: '+79161234567' })
      .execute();
  });

  it('refuses a lead status it does not know', async () => {
    await expect(
      server.ctx.store.db
        .insertInto('crm_leads')
        .values({ account_id: accountId, title: 'x', source_kind: 'manual', status: 'won' as 'new' })
        .execute(),
    ).rejects.toThrow(/check constraint|violates/i);
  });

  it('deleting a contact drops its identities and unlinks its leads, keeping them', async () => {
    const db = server.ctx.store.db;
    const boris = await contact('Boris');
    await db
      .insertInto('crm_contact_identities')
      .values({ account_id: accountId, contact_id: boris, kind: 'email', value: 'boris@example.com' })
      .execute();
    const lead = await db
      .insertInto('crm_leads')
      .values({ account_id: accountId, contact_id: boris, title: 'Boris asks', source_kind: 'telegram' })
      .returning(['id', 'status'])
      .executeTakeFirstOrThrow();
    expect(lead.status).toBe('new');
    await db.deleteFrom('crm_contacts').where('id', '=', boris).execute();
    const identities = await db
      .selectFrom('crm_contact_identities')
      .where('contact_id', '=', boris)
      .selectAll()
      .execute();
    expect(identities).toEqual([]);
    const kept = await db
      .selectFrom('crm_leads')
      .where('id', '=', lead.id)
      .select('contact_id')
      .executeTakeFirstOrThrow();
    expect(kept.contact_id).toBeNull();
  });

  it('gives every account a default pipeline with ordered stages, and allows only one', async () => {
    const db = server.ctx.store.db;
    const stages = await db
      .selectFrom('crm_pipelines')
      .innerJoin('crm_stages', 'crm_stages.pipeline_id', 'crm_pipelines.id')
      .select(['crm_pipelines.name as pipeline', 'crm_stages.name', 'crm_stages.semantics'])
      .where('crm_pipelines.account_id', '=', accountId)
      .where('crm_pipelines.is_default', '=', true)
      .orderBy('crm_stages.position')
      .execute();
    expect(stages.map((s) => `${s.pipeline}/${s.name}/${s.semantics}`)).toEqual([
      'Sales/New/open',
      'Sales/Qualification/open',
      'Sales/Proposal/open',
      'Sales/Negotiation/open',
      'Sales/Won/won',
      'Sales/Lost/lost',
    ]);
    await expect(
      db
        .insertInto('crm_pipelines')
        .values({ account_id: accountId, name: 'Other', is_default: true, position: 1 })
        .execute(),
    ).rejects.toThrow(/duplicate key|unique/i);
  });
});
