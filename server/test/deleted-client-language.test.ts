import { CrmApi } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWorld, type EngineWorld } from './engine-fixture';

// An anonymised client (issue 18) is kept as "Deleted client" in the account's language: the
// notification language its lines use. Here every line speaks Russian.

let world: EngineWorld;
beforeAll(async () => {
  world = await createEngineWorld({
    operatorCount: 1,
    settings: { other: { language: 'ru' }, crm: { enabled: true, create: 'lead' } },
  });
  await world.online(...world.operators);
}, 120_000);
afterAll(async () => {
  await world?.stop();
});

describe('"Deleted client" in the account’s language', { timeout: 120_000 }, () => {
  it('a Russian account keeps an anonymised client, CRM contact and lead as «Удалённый клиент»', async () => {
    const intake = await world.clientSays('ru-client', 'Здравствуйте');
    const crm = new CrmApi(world.admin.client.transport);
    const card = await crm.dialogCard(intake.dialogId);
    expect(card.contact).not.toBeNull();
    const before = await world.admin.dialogs.get(intake.dialogId);
    await world.admin.dialogs.close(intake.dialogId);
    await world.admin.client.privacy.eraseClient(before.client.id, {
      mode: 'anonymise',
      confirm: before.client.name,
    });
    const dialog = await world.admin.dialogs.get(intake.dialogId);
    expect(dialog.client.name).toBe('Удалённый клиент');
    expect((await crm.contacts.get(card.contact!.id)).name).toBe('Удалённый клиент');
    const leadId = card.session.leadId!;
    expect((await crm.leads.get(leadId)).title).toBe('Удалённый клиент');
  });
});
