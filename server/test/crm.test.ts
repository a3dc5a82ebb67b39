import type { LineSettingsPatch } from '@openlines/contract';
import { ApiChannelSender, CrmApi, RolesApi } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../src/services/accounts';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { createSignedInUser, problemOf, signIn, TEST_PASSWORD, uniqueEmail, usingPostgres } from './harness';

const backend = usingPostgres ? 'PostgreSQL' : 'PGlite';
let counter = 0;

/** The problem an API call answered with, as plain data to compare. */
async function problem(call: Promise<unknown>): Promise<{ status: number; code: string; fields: string[] }> {
  const error = await problemOf(call);
  return { status: error.status, code: error.code, fields: error.fields };
}

describe(`the CRM at work on ${backend}`, () => {
  let world: EngineWorld;
  let crm: CrmApi;
  let secondChannel: ApiChannelSender;

  async function setCrm(settings: LineSettingsPatch) {
    await world.admin.lines.update(world.line.id, { settings });
  }
  const say = (
    sender: ApiChannelSender,
    user: { id: string; phone?: string; email?: string },
    text: string,
  ) => sender.send({ externalId: `crm-${++counter}`, user: { name: `Client ${user.id}`, ...user }, text });

  beforeAll(async () => {
    world = await createEngineWorld({ operatorCount: 2 });
    await world.online(...world.operators);
    crm = new CrmApi(world.admin.client.transport);
    const { secrets } = await world.admin.channels.create({
      kind: 'api',
      name: 'Second backend',
      lineId: world.line.id,
      settings: { webhookUrl: 'http://127.0.0.1:9/unused' },
    });
    secondChannel = new ApiChannelSender(
      world.server.url,
      Object.values(secrets).find((v) => v.startsWith('olc_'))!,
    );
  });
  afterAll(() => world?.stop());

  it('a new client’s first message creates a contact and a lead for the operator who takes it', async () => {
    await setCrm({ crm: { enabled: true, create: 'lead', source: 'create' } });
    const first = await say(
      world.sender,
      { id: 'anna', phone: '+7 916 123-45-67', email: 'Anna@Example.com' },
      'Hi',
    );
    const card = await crm.dialogCard(first.dialogId);
    const dialog = await world.admin.dialogs.get(first.dialogId);
    expect(card.contact?.name).toBe('Client anna');
    expect(card.contact?.phones).toEqual(['+79161234567']);
    expect(card.contact?.emails).toEqual(['anna@example.com']);
    expect(card.contact?.responsibleId).toBe(dialog.session?.operatorId);
    expect(card.leads).toHaveLength(1);
    expect(card.leads[0]).toMatchObject({
      title: 'Client anna — Support',
      status: 'new',
      sourceKind: 'api',
      source: 'Support',
      responsibleId: dialog.session?.operatorId,
    });
    expect(card.session).toEqual({ contactId: card.contact?.id, leadId: card.leads[0]!.id, dealId: null });
    // CRM-3: the session is an activity on the lead.
    const activities = await crm.leads.activities(card.leads[0]!.id);
    expect(activities.map((a) => a.dialogId)).toEqual([first.dialogId]);
    const events = await world.server.ctx.store.db
      .selectFrom('events')
      .select('type')
      .where('type', 'like', 'crm.%')
      .orderBy('cursor')
      .execute();
    expect(events.map((e) => e.type)).toEqual([
      'crm.record.created',
      'crm.record.created',
      'crm.session.attached',
    ]);
  });

  it('a returning client on another channel is recognised by phone and goes to their responsible', async () => {
    const anna = (await crm.contacts.list({ search: 'anna@example.com' })).items[0]!;
    const responsible = anna.responsibleId!;
    // The other operator is less busy, so without Q-9 `evenly` would pick them.
    const third = await say(secondChannel, { id: 'anna-intl', phone: '+79161234567' }, 'Me, with a +');
    const thirdCard = await crm.dialogCard(third.dialogId);
    expect(thirdCard.contact?.id).toBe(anna.id);
    // Attached to her open lead, not a duplicate.
    const leads = (await crm.leads.list({ search: 'Client anna — Support' })).items;
    expect(leads).toHaveLength(1);
    expect(thirdCard.session.leadId).toBe(leads[0]!.id);
    expect((await world.admin.dialogs.get(third.dialogId)).session?.operatorId).toBe(responsible);
    expect((await crm.contacts.get(anna.id)).channelUsers).toHaveLength(2);
  });

  it('without CRM_FORWARD the returning client is routed as anyone else', async () => {
    await setCrm({ crm: { forwardToResponsible: false } });
    const anna = (await crm.contacts.list({ search: 'anna@example.com' })).items[0]!;
    const responsible = anna.responsibleId!;
    const holds = async (id: string) =>
      (await world.admin.dialogs.list({ view: 'all' })).items.filter(
        (d) => d.session?.operatorId === id && d.session.status !== 'closed',
      ).length;
    const other = world.operators.find((o) => o.id !== responsible)!;
    // Make the responsible the busier one, so `evenly` picks the other.
    expect(await holds(responsible)).toBeGreaterThan(await holds(other.id));
    const next = await say(secondChannel, { id: 'anna-mail', email: 'ANNA@example.com' }, 'By mail');
    expect((await crm.dialogCard(next.dialogId)).contact?.id).toBe(anna.id);
    expect((await world.admin.dialogs.get(next.dialogId)).session?.operatorId).toBe(other.id);
    await setCrm({ crm: { forwardToResponsible: true } });
  });

  it('CRM_CREATE deal puts a deal in the default pipeline’s first stage; none and off create nothing', async () => {
    await setCrm({ crm: { create: 'deal' } });
    const deal = await say(world.sender, { id: 'boris' }, 'I want to buy');
    const card = await crm.dialogCard(deal.dialogId);
    const [pipeline] = await crm.pipelines();
    expect(card.leads).toEqual([]);
    expect(card.deals).toHaveLength(1);
    expect(card.deals[0]).toMatchObject({
      pipelineId: pipeline!.id,
      stageId: pipeline!.stages[0]!.id,
      closedAt: null,
    });

    await setCrm({ crm: { create: 'none' } });
    const none = await say(world.sender, { id: 'carl' }, 'Just asking');
    expect(await crm.dialogCard(none.dialogId)).toMatchObject({ contact: null, leads: [], deals: [] });

    await setCrm({ crm: { enabled: false, create: 'lead' } });
    const off = await say(world.sender, { id: 'dora', phone: '+79161234567' }, 'Hello');
    expect(await crm.dialogCard(off.dialogId)).toMatchObject({ contact: null, leads: [], deals: [] });
    await setCrm({ crm: { enabled: true } });
  });

  it('AG-3: no lead without consent; consent given later creates it; a manual save needs confirming', async () => {
    await setCrm({ agreement: { required: true, text: 'We process your data.' }, crm: { create: 'lead' } });
    const first = await say(world.sender, { id: 'eve', email: 'eve@example.com' }, 'Hi');
    let card = await crm.dialogCard(first.dialogId);
    expect(card).toMatchObject({ consentMissing: true, contact: null, leads: [], deals: [] });

    // The operator is warned, naming the reason, and must confirm.
    const refused = await problem(crm.leads.create({ title: 'Eve by hand', dialogId: first.dialogId }));
    expect(refused).toEqual({ status: 409, code: 'consent_required', fields: ['body.confirmed'] });
    const confirmed = await crm.leads.create({
      title: 'Eve by hand',
      dialogId: first.dialogId,
      confirmed: true,
    });
    expect(confirmed.consentMissing).toBe(true);
    await crm.leads.delete(confirmed.id);

    // In messengers the next message is the consent: now the CRM saves her.
    const second = await say(world.sender, { id: 'eve', email: 'eve@example.com' }, 'OK, agreed');
    card = await crm.dialogCard(second.dialogId);
    expect(card.consentMissing).toBe(false);
    expect(card.contact?.emails).toEqual(['eve@example.com']);
    expect(card.leads.map((lead) => lead.consentMissing)).toEqual([false]);
    await setCrm({ agreement: { required: false } });
  });

  it('operators see and edit their own records only; admins edit pipelines; stages with deals stay', async () => {
    const [mine, theirs] = world.operators;
    const myCrm = new CrmApi(mine!.client.transport);
    const own = await myCrm.contacts.create({ name: 'Mine', phones: ['+1 650-253-0000'] });
    expect(own.responsibleId).toBe(mine!.id);
    const foreign = await crm.contacts.create({ name: 'Theirs', responsibleId: theirs!.id });
    expect((await myCrm.contacts.list()).items.map((c) => c.id)).not.toContain(foreign.id);
    expect((await problem(myCrm.contacts.get(foreign.id))).status).toBe(404);
    expect((await problem(myCrm.contacts.update(foreign.id, { name: 'x' }))).status).toBe(404);
    // An own-scope user cannot give a record away.
    expect(await problem(myCrm.contacts.update(own.id, { responsibleId: theirs!.id }))).toMatchObject({
      status: 403,
      fields: ['body.responsibleId'],
    });
    expect(
      (await problem(myCrm.updatePipeline((await myCrm.pipelines())[0]!.id, { name: 'x' }))).status,
    ).toBe(403);

    // A role without the CRM gets 403 everywhere.
    const roles = new RolesApi(world.admin.client.transport);
    const role = await roles.create({
      name: `No CRM ${++counter}`,
      permissions: {
        ...(await roles.list()).find((r) => r.builtIn === 'operator')!.permissions,
        crm: 'none',
      },
    });
    const outsider = await createSignedInUser(world.server, world.admin.client, 'operator');
    await world.admin.client.users.update(outsider.user.id, { roleId: role.id });
    expect((await problem(new CrmApi(outsider.client.transport).contacts.list())).status).toBe(403);

    // Stages: renamed and reordered by an admin; one that has deals cannot be left out.
    const [pipeline] = await crm.pipelines();
    const deal = await crm.deals.create({ title: 'Big one', stageId: pipeline!.stages[1]!.id });
    const reordered = await crm.updatePipeline(pipeline!.id, {
      stages: pipeline!.stages.map((s, i) => ({
        id: s.id,
        name: i === 0 ? 'Fresh' : s.name,
        semantics: s.semantics,
      })),
    });
    expect(reordered.stages[0]!.name).toBe('Fresh');
    const dropped = await problem(
      crm.updatePipeline(pipeline!.id, {
        stages: pipeline!.stages
          .filter((s) => s.id !== deal.stageId)
          .map((s) => ({ id: s.id, name: s.name, semantics: s.semantics })),
      }),
    );
    expect(dropped).toMatchObject({ status: 409, fields: ['body.stages'] });
    // Won closes the deal, and the stage change is an event.
    const won = pipeline!.stages.find((s) => s.semantics === 'won')!;
    expect((await crm.deals.update(deal.id, { stageId: won.id })).closedAt).not.toBeNull();
    const changed = await world.server.ctx.store.db
      .selectFrom('events')
      .select('data')
      .where('type', '=', 'crm.stage.changed')
      .execute();
    expect(changed.map((e) => (e.data as { to: string }).to)).toContain(won.id);
  });

  it('another account sees none of these records and cannot attach its own to these dialogs', async () => {
    const email = uniqueEmail('tenant');
    await createAccount(world.server.ctx, {
      accountName: 'Other company',
      admin: { email, name: 'Other admin', password: TEST_PASSWORD },
    });
    const other = new CrmApi((await signIn(world.server, { email, password: TEST_PASSWORD })).transport);
    const ourDialog = (await say(world.sender, { id: 'tenant-check' }, 'Hi')).dialogId;
    const ours = (await crm.dialogCard(ourDialog)).leads[0]!;
    expect((await other.leads.list()).items).toEqual([]);
    expect((await problem(other.leads.get(ours.id))).status).toBe(404);
    expect((await problem(other.leads.update(ours.id, { title: 'stolen' }))).status).toBe(404);
    expect((await problem(other.leads.delete(ours.id))).status).toBe(404);
    // Its own pipeline, seeded for it; our dialogs are not its to link.
    const [theirPipeline] = await other.pipelines();
    expect(theirPipeline!.id).not.toBe((await crm.pipelines())[0]!.id);
    const theirs = await other.contacts.create({ name: 'Theirs' });
    expect((await problem(other.contacts.linkDialog(theirs.id, ourDialog))).status).toBe(404);
    expect((await problem(other.dialogCard(ourDialog))).status).toBe(404);
    expect((await problem(crm.contacts.get(theirs.id))).status).toBe(404);
  });

  it('bad input answers 4xx naming the field', async () => {
    expect(await problem(crm.contacts.create({ name: 'X', phones: ['+7 916', 'call me'] }))).toMatchObject({
      status: 400,
      fields: ['body.phones.0', 'body.phones.1'],
    });
    expect(await problem(crm.contacts.create({ name: 'X', emails: ['nope'] }))).toMatchObject({
      status: 400,
      fields: ['body.emails.0'],
    });
    await crm.contacts.create({ name: 'Holder', phones: ['+44 20 7946 0958'] });
    expect(await problem(crm.contacts.create({ name: 'Dup', phones: ['+442079460958'] }))).toMatchObject({
      status: 409,
      fields: ['body.phones.0'],
    });
    expect((await problem(crm.contacts.create({ name: '' }))).status).toBe(400);
    expect(await problem(crm.contacts.list({ cursor: 'garbage' }))).toMatchObject({
      status: 400,
      fields: ['query.cursor'],
    });
    expect(await problem(crm.deals.create({ title: 'x', stageId: crypto.randomUUID() }))).toMatchObject({
      status: 400,
      fields: ['body.stageId'],
    });
    expect(await problem(crm.leads.create({ title: 'x', contactId: crypto.randomUUID() }))).toMatchObject({
      status: 400,
      fields: ['body.contactId'],
    });
    expect(
      await problem(
        crm.updatePipeline((await crm.pipelines())[0]!.id, {
          stages: [{ name: 'Only won', semantics: 'won' }],
        }),
      ),
    ).toMatchObject({ status: 400, fields: ['body.stages'] });
  });

  it('pages through a list with the cursor, and deleting a contact keeps its dialogs', async () => {
    for (let i = 0; i < 5; i++) await crm.companies.create({ name: `Paged company ${i}` });
    const first = await crm.companies.list({ search: 'Paged company', limit: 2 });
    const second = await crm.companies.list({ search: 'Paged company', limit: 2, cursor: first.nextCursor! });
    const third = await crm.companies.list({ search: 'Paged company', limit: 2, cursor: second.nextCursor! });
    const names = [...first.items, ...second.items, ...third.items].map((c) => c.name);
    expect(new Set(names).size).toBe(5);
    expect(third.nextCursor).toBeNull();

    const anna = (await crm.contacts.list({ search: 'anna@example.com' })).items[0]!;
    const dialogs = (await crm.contacts.activities(anna.id)).map((a) => a.dialogId);
    await crm.contacts.delete(anna.id);
    for (const dialogId of dialogs) {
      const messages = await world.admin.dialogs.messages(dialogId);
      expect(messages.length).toBeGreaterThan(0);
      expect((await crm.dialogCard(dialogId)).contact).toBeNull();
    }
  });

  it('an operator names the client from the card: contact and dialog show the new name', async () => {
    const started = await say(world.sender, { id: 'v:77344c11-1' }, 'Hello there');
    const dialog = await world.admin.dialogs.get(started.dialogId);
    const holder = world.operators.find((o) => o.id === dialog.session?.operatorId)!;
    const theirCrm = new CrmApi(holder.client.transport);
    const card = await theirCrm.dialogCard(started.dialogId);
    await theirCrm.contacts.update(card.contact!.id, { name: 'Maria Ivanova', phones: ['+7 903 000-00-01'] });
    expect((await world.admin.dialogs.get(started.dialogId)).client.name).toBe('Maria Ivanova');
    // The transfer gives the records to the new holder (CRM_TRANSFER_CHANGE).
    const other = world.operators.find((o) => o.id !== holder.id)!;
    await holder.ws.dialogs.transfer(started.dialogId, { operatorId: other.id });
    const after = await crm.dialogCard(started.dialogId);
    expect(after.contact?.responsibleId).toBe(other.id);
    expect(after.leads[0]?.responsibleId).toBe(other.id);
  });

  it('a set person is responsible for what a session creates instead of the operator; a transfer leaves them', async () => {
    expect(
      await problem(
        world.admin.lines.update(world.line.id, {
          settings: { crm: { responsibleUserId: '00000000-0000-4000-8000-000000000000' } },
        }),
      ),
    ).toMatchObject({ status: 400, fields: ['body.settings.crm.responsibleUserId'] });
    // The manager is no operator of the line's queue: they never take its sessions.
    const manager = await createSignedInUser(world.server, world.admin.client, 'operator');
    await setCrm({
      crm: {
        enabled: true,
        create: 'deal',
        changeResponsibleOnTransfer: true,
        responsibleUserId: manager.user.id,
      },
    });
    expect((await world.admin.lines.get(world.line.id)).settings.crm.responsibleUserId).toBe(manager.user.id);
    const started = await say(world.sender, { id: 'set-person' }, 'Who is my manager?');
    const dialog = await world.admin.dialogs.get(started.dialogId);
    const holder = world.operators.find((o) => o.id === dialog.session?.operatorId)!;
    expect(holder).toBeDefined();
    const card = await crm.dialogCard(started.dialogId);
    expect(card.contact?.responsibleId).toBe(manager.user.id);
    expect(card.deals).toHaveLength(1);
    expect(card.deals[0]?.responsibleId).toBe(manager.user.id);
    const other = world.operators.find((o) => o.id !== holder.id)!;
    await holder.ws.dialogs.transfer(started.dialogId, { operatorId: other.id });
    const after = await crm.dialogCard(started.dialogId);
    expect(after.contact?.responsibleId).toBe(manager.user.id);
    expect(after.deals[0]?.responsibleId).toBe(manager.user.id);
    // Back to the operator: the next new client's records are theirs.
    await setCrm({ crm: { create: 'lead', responsibleUserId: null } });
    const next = await say(world.sender, { id: 'no-set-person' }, 'Hello');
    const nextCard = await crm.dialogCard(next.dialogId);
    expect(nextCard.leads[0]?.responsibleId).toBe(
      (await world.admin.dialogs.get(next.dialogId)).session?.operatorId,
    );
  });
});
