import { type ApiChannelSender, CrmApi } from '@openlines/sdk';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../src/services/accounts';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { problemOf, signIn, TEST_PASSWORD, uniqueEmail, usingPostgres } from './harness';

const backend = usingPostgres ? 'PostgreSQL' : 'PGlite';
let counter = 0;

async function problem(call: Promise<unknown>) {
  const error = await problemOf(call);
  return { status: error.status, code: error.code, fields: error.fields, rows: error.problem.rows };
}

/** Lead conversion, merging duplicate contacts, CSV import and export (issue 12). */
describe(`CRM records: conversion, merging, CSV on ${backend}`, () => {
  let world: EngineWorld;
  let crm: CrmApi;
  const say = (
    sender: ApiChannelSender,
    user: { id: string; phone?: string; email?: string },
    text: string,
  ) => sender.send({ externalId: `rec-${++counter}`, user: { name: `Client ${user.id}`, ...user }, text });
  const count = async (table: 'crm_contacts' | 'crm_companies' | 'crm_leads' | 'crm_deals') =>
    Number(
      (
        await world.server.ctx.store.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    world = await createEngineWorld({ operatorCount: 1 });
    await world.online(...world.operators);
    crm = new CrmApi(world.admin.client.transport);
    await world.admin.lines.update(world.line.id, { settings: { crm: { enabled: true, create: 'lead' } } });
  });
  afterAll(() => world?.stop());

  it('converts a session’s lead into contact, company and deal; the lead keeps its history, the deal gets it', async () => {
    const started = await say(world.sender, { id: 'conv-1', phone: '+7 916 555-00-11' }, 'I want a quote');
    const card = await crm.dialogCard(started.dialogId);
    const lead = card.leads[0]!;
    const contactId = card.contact!.id;
    const [pipeline] = await crm.pipelines();
    const result = await crm.leads.convert(lead.id, {
      companyName: 'Acme LLC',
      dealTitle: 'Quote for Acme',
      stageId: pipeline!.stages[1]!.id,
    });
    // The lead already named its contact: that one is used, not a new one.
    expect(result.contact.id).toBe(contactId);
    expect(result.contact.companyId).toBe(result.company!.id);
    expect(result.company).toMatchObject({
      name: 'Acme LLC',
      responsibleId: lead.responsibleId,
      sourceKind: 'api',
    });
    expect(result.deal).toMatchObject({
      title: 'Quote for Acme',
      stageId: pipeline!.stages[1]!.id,
      contactId,
      companyId: result.company!.id,
      leadId: lead.id,
      responsibleId: lead.responsibleId,
    });
    expect(result.lead).toMatchObject({ status: 'converted', contactId, companyId: result.company!.id });
    // History: the session stays on the lead and shows on the contact and the new deal.
    expect((await crm.leads.activities(lead.id)).map((a) => a.dialogId)).toEqual([started.dialogId]);
    expect((await crm.deals.activities(result.deal!.id)).map((a) => a.dialogId)).toEqual([started.dialogId]);
    expect((await crm.contacts.activities(contactId)).map((a) => a.dialogId)).toContain(started.dialogId);
    expect((await crm.dialogCard(started.dialogId)).session.dealId).toBe(result.deal!.id);
    const converted = await world.server.ctx.store.db
      .selectFrom('events')
      .select('data')
      .where('type', '=', 'crm.record.converted')
      .execute();
    expect(converted.map((e) => e.data)).toContainEqual({
      record: { kind: 'lead', id: lead.id, responsibleId: lead.responsibleId },
      contactId,
      companyId: result.company!.id,
      dealId: result.deal!.id,
    });
    // Converting twice is refused; nothing more is written.
    const deals = await count('crm_deals');
    expect(await problem(crm.leads.convert(lead.id))).toMatchObject({ status: 409, code: 'conflict' });
    expect(await count('crm_deals')).toBe(deals);
  });

  it('converts a manual lead into a new contact without a deal, and refuses bad bodies naming the field', async () => {
    const lead = await crm.leads.create({ title: 'Walk-in Olga' });
    expect(await problem(crm.leads.convert(lead.id, { deal: false, dealTitle: 'x' }))).toMatchObject({
      status: 400,
      fields: ['body.dealTitle'],
    });
    expect(
      await problem(crm.leads.convert(lead.id, { companyId: crypto.randomUUID(), companyName: 'Both' })),
    ).toMatchObject({ status: 400, fields: ['body.companyName'] });
    expect(await problem(crm.leads.convert(lead.id, { contactId: crypto.randomUUID() }))).toMatchObject({
      status: 400,
      fields: ['body.contactId'],
    });
    expect(await problem(crm.leads.convert(lead.id, { stageId: crypto.randomUUID() }))).toMatchObject({
      status: 400,
      fields: ['body.stageId'],
    });
    // None of the refused attempts left anything behind.
    expect((await crm.leads.get(lead.id)).status).toBe('new');
    expect((await crm.contacts.list({ search: 'Walk-in Olga' })).items).toEqual([]);
    const result = await crm.leads.convert(lead.id, { deal: false });
    expect(result.contact.name).toBe('Walk-in Olga');
    expect(result.deal).toBeNull();
    expect(result.company).toBeNull();
    expect(result.lead.contactId).toBe(result.contact.id);
    const junk = await crm.leads.create({ title: 'Spam', status: 'junk' });
    expect((await problem(crm.leads.convert(junk.id))).status).toBe(409);
    expect((await problem(crm.leads.convert(crypto.randomUUID()))).status).toBe(404);
  });

  it('merges a duplicate: identities, dialogs, leads and deals move, chosen fields survive, audited', async () => {
    const first = await say(world.sender, { id: 'merge-a', phone: '+7 903 111-22-33' }, 'Hi, Ivan here');
    const secondSender = world.sender;
    const second = await say(
      secondSender,
      { id: 'merge-b', email: 'ivan@example.org' },
      'Ivan again, by mail',
    );
    const survivor = (await crm.dialogCard(first.dialogId)).contact!;
    const duplicateCard = await crm.dialogCard(second.dialogId);
    const duplicate = duplicateCard.contact!;
    expect(duplicate.id).not.toBe(survivor.id);
    await crm.contacts.update(duplicate.id, { notes: 'Prefers mail', name: 'Ivan Petrov' });
    const deal = await crm.deals.create({ title: 'Ivan’s deal', contactId: duplicate.id });

    expect(await problem(crm.contacts.merge(survivor.id, { duplicateId: survivor.id }))).toMatchObject({
      status: 400,
      fields: ['body.duplicateId'],
    });
    expect(
      await problem(crm.contacts.merge(survivor.id, { duplicateId: crypto.randomUUID() })),
    ).toMatchObject({
      status: 400,
      fields: ['body.duplicateId'],
    });
    expect(
      (
        await problem(
          crm.contacts.merge(survivor.id, { duplicateId: duplicate.id, take: ['bogus' as never] }),
        )
      ).status,
    ).toBe(400);

    const merged = await crm.contacts.merge(survivor.id, { duplicateId: duplicate.id, take: ['name'] });
    expect(merged.id).toBe(survivor.id);
    expect(merged.name).toBe('Ivan Petrov');
    // The survivor had no notes: the duplicate's fill the gap.
    expect(merged.notes).toBe('Prefers mail');
    expect(merged.phones).toEqual(['+79031112233']);
    expect(merged.emails).toEqual(['ivan@example.org']);
    expect(merged.channelUsers).toHaveLength(2);
    expect((await problem(crm.contacts.get(duplicate.id))).status).toBe(404);
    expect((await crm.deals.get(deal.id)).contactId).toBe(survivor.id);
    expect((await crm.leads.get(duplicateCard.leads[0]!.id)).contactId).toBe(survivor.id);
    const dialogs = (await crm.contacts.activities(survivor.id)).map((a) => a.dialogId);
    expect(dialogs).toEqual(expect.arrayContaining([first.dialogId, second.dialogId]));
    expect((await crm.dialogCard(second.dialogId)).contact?.id).toBe(survivor.id);
    // The first dialog's client shows the name the survivor took.
    expect((await world.admin.dialogs.get(first.dialogId)).client.name).toBe('Ivan Petrov');
    // A new message from the duplicate's channel user is recognised as the survivor.
    const audit = await world.server.ctx.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'crm.contacts_merged')
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ target_type: 'crm_contact', target_id: survivor.id });
    expect(audit[0]!.changed_keys).toEqual([`duplicate:${duplicate.id}`, 'take:name']);
  });

  it('exports contacts as CSV with the list’s filters, and the export imports back as copies', async () => {
    const [operator] = world.operators;
    await crm.contacts.create({
      name: '=HYPERLINK("x") Eve',
      phones: ['+44 20 7946 0001'],
      emails: ['eve@csv.test'],
      notes: 'line one\nline two, with comma',
    });
    await crm.contacts.create({ name: 'Frank', responsibleId: operator!.id });
    const text = await crm.contacts.exportCsv({ search: 'csv.test' });
    const rows = parse(text) as string[][];
    expect(rows[0]).toEqual([
      'id',
      'name',
      'phones',
      'emails',
      'notes',
      'photoUrl',
      'companyId',
      'responsible',
      'source',
      'sourceKind',
      'consentMissing',
      'createdAt',
      'updatedAt',
    ]);
    expect(rows).toHaveLength(2);
    // A formula is defused; the multi-line note survives quoting; the responsible is named by e-mail.
    expect(rows[1]![1]).toBe('\'=HYPERLINK("x") Eve');
    expect(rows[1]![2]).toBe("'+442079460001");
    expect(rows[1]![4]).toBe('line one\r\nline two, with comma'.replace('\r\n', '\n'));
    expect(rows[1]![7]).toBe((await world.admin.client.auth.me()).user.email);
    // The filters of the list apply: by responsible.
    const byOperator = parse(await crm.contacts.exportCsv({ responsibleId: operator!.id })) as string[][];
    const names = byOperator.slice(1).map((r) => r[1]);
    expect(names).toContain('Frank');
    expect(names).not.toContain('\'=HYPERLINK("x") Eve');

    // Re-importing Eve's row is refused (her phone and e-mail are taken), naming line and column.
    const refused = await problem(crm.contacts.importCsv(text));
    expect(refused).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(refused.fields).toEqual(['body.csv.2.phones', 'body.csv.2.emails']);
    // With the identities cleared, the export imports back as a copy; the name keeps its text.
    const copy = text.replace("'+442079460001", '').replace('eve@csv.test', '');
    expect(await crm.contacts.importCsv(copy)).toEqual({ created: 1, rows: 1, dryRun: false });
    const copies = (await crm.contacts.list({ search: 'HYPERLINK' })).items;
    expect(copies).toHaveLength(2);
    expect(copies.map((c) => c.name)).toEqual(['=HYPERLINK("x") Eve', '=HYPERLINK("x") Eve']);
    // Both were created at the same (fake) instant, so the list's order between them is not fixed.
    expect(copies.map((c) => c.sourceKind).sort()).toEqual(['import', 'manual']);
  });

  it('imports every row or none, with a per-row report', async () => {
    const before = { contacts: await count('crm_contacts'), deals: await count('crm_deals') };
    const [operator] = world.operators;
    const bad = [
      'name,phones,emails,responsible',
      `Good One,+1 650 253 0001,good@import.test,${operator!.email}`,
      ',+1 650 253 0002,,',
      'Bad Phone,call me,,',
      'Same Mail,,GOOD@import.test,',
      'Stranger,,,nobody@nowhere.test',
    ].join('\n');
    const report = await problem(crm.contacts.importCsv(bad));
    expect(report.status).toBe(400);
    expect(report.rows).toEqual([
      { row: 3, column: 'name', message: 'is required' },
      { row: 4, column: 'phones', message: 'call me is not a valid phone number (use the +country format)' },
      { row: 5, column: 'emails', message: 'good@import.test is also on line 2' },
      { row: 6, column: 'responsible', message: 'is not the e-mail of a user of this account' },
    ]);
    expect(await count('crm_contacts')).toBe(before.contacts);
    // An unknown column is refused before any row; a dry run checks and writes nothing.
    expect((await problem(crm.contacts.importCsv('name,shoe size\nA,42'))).fields).toEqual([
      'body.csv.1.shoe size',
    ]);
    expect((await problem(crm.contacts.importCsv('name\n"unclosed'))).fields[0]).toMatch(/^body\.csv\.\d+$/);
    expect(await crm.contacts.importCsv('name\nDry', { dryRun: true })).toEqual({
      created: 0,
      rows: 1,
      dryRun: true,
    });
    expect(await count('crm_contacts')).toBe(before.contacts);

    const good = [
      'name,phones,emails,responsible',
      `Good One,+1 650 253 0001,good@import.test,${operator!.email}`,
      'Second;,,,',
    ].join('\n');
    expect(await crm.contacts.importCsv(good)).toEqual({ created: 2, rows: 2, dryRun: false });
    const imported = (await crm.contacts.list({ search: 'good@import.test' })).items[0]!;
    expect(imported).toMatchObject({
      phones: ['+16502530001'],
      responsibleId: operator!.id,
      sourceKind: 'import',
    });

    // Deals by pipeline and stage name; an unknown stage names the line.
    const [pipeline] = await crm.pipelines();
    const stage = pipeline!.stages[2]!;
    const deals = `title,stage,contactId\nImported deal,${stage.name},${imported.id}\nLost one,No such stage,`;
    expect((await problem(crm.deals.importCsv(deals))).fields).toEqual(['body.csv.3.stage']);
    expect(await count('crm_deals')).toBe(before.deals);
    const ok = await crm.deals.importCsv(
      `title,stage,contactId\nImported deal,${stage.name.toUpperCase()},${imported.id}`,
    );
    expect(ok.created).toBe(1);
    const deal = (await crm.deals.list({ search: 'Imported deal' })).items[0]!;
    expect(deal).toMatchObject({ stageId: stage.id, pipelineId: pipeline!.id, contactId: imported.id });
    const exported = parse(await crm.deals.exportCsv({ search: 'Imported deal' })) as string[][];
    expect(exported[1]!.slice(1, 4)).toEqual(['Imported deal', pipeline!.name, stage.name]);
    // Companies and leads import too.
    expect((await crm.companies.importCsv('name,notes\nCo one,\nCo two,big')).created).toBe(2);
    expect((await crm.leads.importCsv('title,status\nL one,in_progress')).created).toBe(1);
    expect((await problem(crm.leads.importCsv('title,status\nL two,won'))).fields).toEqual([
      'body.csv.2.status',
    ]);
  });

  it('another account neither exports nor imports into these records', async () => {
    const email = uniqueEmail('csv-tenant');
    await createAccount(world.server.ctx, {
      accountName: 'CSV other',
      admin: { email, name: 'Other admin', password: TEST_PASSWORD },
    });
    const other = new CrmApi((await signIn(world.server, { email, password: TEST_PASSWORD })).transport);
    const rows = parse(await other.contacts.exportCsv()) as string[][];
    expect(rows).toHaveLength(1);
    const ours = (await crm.contacts.list()).items[0]!;
    expect((await problem(other.leads.importCsv(`title,contactId\nX,${ours.id}`))).fields).toEqual([
      'body.csv.2.contactId',
    ]);
    expect((await problem(other.contacts.merge(ours.id, { duplicateId: ours.id }))).status).toBe(400);
    const theirs = await other.contacts.create({ name: 'Theirs' });
    expect((await problem(other.contacts.merge(theirs.id, { duplicateId: ours.id }))).fields).toEqual([
      'body.duplicateId',
    ]);
    expect(await problem(crm.leads.convert(crypto.randomUUID()))).toMatchObject({ status: 404 });
  });
});
