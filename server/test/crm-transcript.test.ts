import { CrmApi } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../src/services/accounts';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { problemOf, signIn, TEST_PASSWORD, uniqueEmail, usingPostgres } from './harness';

const backend = usingPostgres ? 'PostgreSQL' : 'PGlite';

/** CRM-3: a timeline session's transcript, read with the record's rights (issue 12). */
describe(`CRM timeline transcript on ${backend}`, () => {
  let world: EngineWorld;
  let crm: CrmApi;

  beforeAll(async () => {
    world = await createEngineWorld({ operatorCount: 2, settings: { crm: { create: 'lead' } } });
    await world.online(...world.operators);
    crm = new CrmApi(world.admin.client.transport);
  });
  afterAll(() => world?.stop());

  it('shows the session’s messages in order without private notes; outsiders get 404', async () => {
    const started = await world.clientSays('tr-1', 'Hello, <b>I need</b> a quote');
    const card = await crm.dialogCard(started.dialogId);
    const lead = card.leads[0]!;
    const contactId = card.contact!.id;
    const [activity] = await crm.leads.activities(lead.id);
    expect(activity!.sessionId).toBe(started.sessionId);
    const operator = world.operators.find((o) => o.id === activity!.operatorId) ?? world.operators[0]!;
    await operator.client.dialogs.send(started.dialogId, { text: 'Sure, for how many seats?' });
    await operator.client.dialogs.note(started.dialogId, 'Private: big customer');
    await world.clientSays('tr-1', 'Ten');

    const transcript = await crm.leads.transcript(lead.id, started.sessionId!);
    const said = transcript.filter((m) => m.authorKind !== 'system').map((m) => [m.authorKind, m.text]);
    expect(said).toEqual([
      ['client', 'Hello, <b>I need</b> a quote'],
      ['operator', 'Sure, for how many seats?'],
      ['client', 'Ten'],
    ]);
    expect(transcript.every((m) => !m.private && m.sessionId === started.sessionId)).toBe(true);
    // The contact's timeline has the same session.
    expect((await crm.contacts.transcript(contactId, started.sessionId!)).length).toBe(transcript.length);

    // A session that is not on this record: 404, even in the same account.
    const other = await world.clientSays('tr-2', 'Someone else');
    const otherLead = (await crm.dialogCard(other.dialogId)).leads[0]!;
    expect((await problemOf(crm.leads.transcript(lead.id, other.sessionId!))).status).toBe(404);
    expect((await problemOf(crm.leads.transcript(otherLead.id, started.sessionId!))).status).toBe(404);
    // A bad id is a 400 naming the parameter.
    const bad = await problemOf(crm.leads.transcript(lead.id, 'not-a-uuid'));
    expect(bad.status).toBe(400);
    expect(bad.fields).toContain('params.sessionId');

    // An operator whose scope (`own`) does not hold the record: 404, as for the record itself.
    const outsider = world.operators.find((o) => o.id !== lead.responsibleId)!;
    const theirCrm = new CrmApi(outsider.client.transport);
    expect((await problemOf(theirCrm.leads.get(lead.id))).status).toBe(404);
    expect((await problemOf(theirCrm.leads.transcript(lead.id, started.sessionId!))).status).toBe(404);

    // Another account: 404.
    const email = uniqueEmail('transcript');
    await createAccount(world.server.ctx, {
      accountName: 'Other transcript company',
      admin: { email, name: 'Other admin', password: TEST_PASSWORD },
    });
    const foreign = new CrmApi((await signIn(world.server, { email, password: TEST_PASSWORD })).transport);
    expect((await problemOf(foreign.leads.transcript(lead.id, started.sessionId!))).status).toBe(404);
  });
});
