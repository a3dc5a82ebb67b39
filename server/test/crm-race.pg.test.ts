import { randomBytes } from 'node:crypto';
import { ApiChannelSender, CrmApi } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { type ServerProcess, startServerProcess } from './server-process';

// Issue 12, "never created twice under concurrency": two server processes on one PostgreSQL and
// one Redis — the test's own server and a separate OS process started like `npm start` — get the
// first messages of the same new client at the same moment, one each. The CRM
// intake must leave exactly one contact and one lead (the identity key refuses the second, whose
// start runs again through the general intake and finds the first one's contact).
describe('two server processes: a new client’s simultaneous first messages make one contact and one lead', () => {
  let world: EngineWorld;
  let second: ServerProcess;
  let viaFirst: ApiChannelSender;
  let viaSecond: ApiChannelSender;
  let crm: CrmApi;

  beforeAll(async () => {
    const busNamespace = `crm-race-${randomBytes(4).toString('hex')}`;
    world = await createEngineWorld({
      operatorCount: 2,
      settings: { crm: { enabled: true, create: 'lead' } },
      server: { busNamespace },
    });
    await world.online(...world.operators);
    second = await startServerProcess({
      DATABASE_URL: world.server.databaseUrl!,
      REDIS_URL: world.server.config.redisUrl!,
    });
    const { secrets } = await world.admin.channels.create({
      kind: 'api',
      name: 'Raced backend',
      lineId: world.line.id,
      settings: { webhookUrl: 'http://127.0.0.1:9/unused' },
    });
    const token = Object.values(secrets).find((value) => value.startsWith('olc_'))!;
    viaFirst = new ApiChannelSender(world.server.url, token);
    viaSecond = new ApiChannelSender(second.url, token);
    crm = new CrmApi(world.admin.client.transport);
  }, 60_000);
  afterAll(async () => {
    await second?.terminate();
    await world?.stop();
  });

  it('holds over many rounds', { timeout: 120_000 }, async () => {
    const db = world.server.ctx.store.db;
    for (let round = 0; round < 12; round++) {
      const user = {
        id: `race-${round}`,
        name: `Racer ${round}`,
        phone: `+7 916 700-00-${String(round).padStart(2, '0')}`,
      };
      const results = await Promise.all([
        viaFirst.send({ externalId: `race-${round}-a`, user, text: 'Hello from A' }),
        viaSecond.send({ externalId: `race-${round}-b`, user, text: 'Hello from B' }),
      ]);
      const contacts = await db
        .selectFrom('crm_contacts')
        .select('id')
        .where('name', '=', user.name)
        .execute();
      expect(contacts, `round ${round}: contacts`).toHaveLength(1);
      const leads = await db
        .selectFrom('crm_leads')
        .select('id')
        .where('contact_id', '=', contacts[0]!.id)
        .execute();
      expect(leads, `round ${round}: leads`).toHaveLength(1);
      // Both messages are stored and both dialogs show the one contact.
      for (const result of results) {
        expect((await crm.dialogCard(result.dialogId)).contact?.id).toBe(contacts[0]!.id);
      }
      const phone = await db
        .selectFrom('crm_contact_identities')
        .select('contact_id')
        .where('kind', '=', 'phone')
        .where('value', '=', `+791670000${String(round).padStart(2, '0')}`)
        .execute();
      expect(phone.map((p) => p.contact_id)).toEqual([contacts[0]!.id]);
    }
  });
});
