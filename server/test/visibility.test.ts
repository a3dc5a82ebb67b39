import type { Scope } from '@openlines/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWorld, type EngineWorld, type Operator } from './engine-fixture';
import { problemOf } from './harness';

/**
 * Who sees which dialog (AR-1's history scope, OP-1), checked the two ways the server answers it:
 * the list of everything one may see and the read of one dialog must agree, for every scope.
 */
describe('dialog visibility by history scope', () => {
  let world: EngineWorld;
  let a: Operator;
  let b: Operator;
  let c: Operator;
  let roleId: string;
  const dialogs = { passedOn: '', colleagues: '', queued: '' };

  const only = async (...online: Operator[]) => {
    for (const operator of world.operators) {
      await operator.client.auth.setPresence(online.includes(operator) ? 'online' : 'offline');
    }
  };

  beforeAll(async () => {
    world = await createEngineWorld({ operatorCount: 3 });
    [a, b, c] = world.operators as [Operator, Operator, Operator];
    // a held this one, then passed it to b.
    await only(a);
    dialogs.passedOn = (await world.clientSays('vis-passed', 'Hello')).dialogId;
    await only(a, b);
    await a.ws.dialogs.transfer(dialogs.passedOn, { operatorId: b.id });
    // c, who is in a's department, holds this one.
    await only(c);
    dialogs.colleagues = (await world.clientSays('vis-colleague', 'Hello')).dialogId;
    // Nobody is online: this one waits in the queue a, b and c belong to.
    await only();
    dialogs.queued = (await world.clientSays('vis-queued', 'Hello')).dialogId;
    await world.admin.client.departments.create({ name: 'Team A', memberIds: [a.id, c.id] });
    const role = await world.admin.client.roles.create({
      name: 'Scoped operator',
      permissions: {
        manageLines: false,
        manageUsers: false,
        manageQuickAnswers: false,
        dialogHistory: 'none',
        statistics: 'none',
        supervise: false,
        managePersonalData: false,
        manageIntegrations: false,
        crm: 'none',
      },
    });
    roleId = role.id;
    await world.admin.client.users.update(a.id, { roleId });
  });
  afterAll(() => world.stop());

  const seenBy = async (operator: Operator) => {
    const listed = new Set(
      (await operator.ws.dialogs.list({ view: 'all', limit: 200 })).items.map((d) => d.id),
    );
    const read = new Set<string>();
    for (const id of Object.values(dialogs)) {
      const result = await operator.ws.dialogs.get(id).then(
        () => true,
        async (error) => {
          const problem = await problemOf(Promise.reject(error));
          expect(problem.status).toBe(404);
          return false;
        },
      );
      if (result) read.add(id);
    }
    const ours = new Set(Object.values(dialogs));
    // The list and the reads agree on every dialog of the test.
    expect(new Set([...listed].filter((id) => ours.has(id)))).toEqual(read);
    return Object.entries(dialogs)
      .filter(([, id]) => read.has(id))
      .map(([name]) => name)
      .sort();
  };

  const cases: [Scope, string[]][] = [
    ['none', ['queued']],
    ['own', ['passedOn', 'queued']],
    ['department', ['colleagues', 'passedOn', 'queued']],
    ['all', ['colleagues', 'passedOn', 'queued']],
  ];
  for (const [scope, expected] of cases) {
    it(`with scope ${scope}: ${expected.join(', ')}`, async () => {
      await world.admin.client.roles.update(roleId, {
        permissions: {
          manageLines: false,
          manageUsers: false,
          manageQuickAnswers: false,
          dialogHistory: scope,
          statistics: 'none',
          supervise: false,
          managePersonalData: false,
          manageIntegrations: false,
          crm: 'none',
        },
      });
      expect(await seenBy(a)).toEqual(expected);
    });
  }

  it('the holder sees what they hold, and the queue they belong to', async () => {
    expect(await seenBy(b)).toEqual(['passedOn', 'queued']);
    expect(await seenBy(c)).toEqual(['colleagues', 'queued']);
  });
});
