import { randomUUID } from 'node:crypto';
import { BUILT_IN_ROLES } from '@openlines/contract';
import type { OpenlinesClient } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../src/services/accounts';
import {
  createSignedInUser,
  createTestServer,
  problemOf,
  type SignedInUser,
  signIn,
  TEST_PASSWORD,
  type TestServer,
  uniqueEmail,
} from './harness';

let server: TestServer;
let admin: OpenlinesClient;

beforeAll(async () => {
  server = await createTestServer();
  admin = await signIn(server);
});
afterAll(async () => server?.stop());

describe('permission checks', () => {
  let operator: SignedInUser;
  beforeAll(async () => {
    operator = await createSignedInUser(server, admin, 'operator');
  });

  it.each<[string, (client: OpenlinesClient) => Promise<unknown>]>([
    [
      'POST /users',
      (client) => client.users.create({ email: uniqueEmail(), name: 'Nope', password: TEST_PASSWORD }),
    ],
    [
      'POST /roles',
      (client) => client.roles.create({ name: 'Nope', permissions: BUILT_IN_ROLES.operator.permissions }),
    ],
    ['POST /departments', (client) => client.departments.create({ name: 'Nope' })],
  ])('refuse %s to an operator with 403', async (_route, call) => {
    const error = await problemOf(call(operator.client));
    expect(error.status).toBe(403);
    expect(error.code).toBe('forbidden');
    expect(error.problem.detail).toContain('manageUsers');
  });

  it('refuse changing other users and their absences to an operator', async () => {
    const colleague = await createSignedInUser(server, admin, 'operator');
    const calls = [
      () => operator.client.users.update(colleague.user.id, { name: 'Renamed' }),
      () => operator.client.users.deactivate(colleague.user.id),
      () => operator.client.users.listAbsences(colleague.user.id),
      () =>
        operator.client.roles.update(operator.user.roleId, {
          permissions: BUILT_IN_ROLES.administrator.permissions,
        }),
    ];
    for (const call of calls) expect((await problemOf(call())).status).toBe(403);
    expect((await admin.users.get(colleague.user.id)).name).toBe('Test operator');
  });

  it('let an operator read colleagues and manage their own absences', async () => {
    const users = await operator.client.users.list();
    expect(users.map((u) => u.id)).toContain(operator.user.id);
    await expect(operator.client.auth.setPresence('away')).resolves.toMatchObject({
      id: operator.user.id,
      presence: 'away',
    });
    const absence = await operator.client.users.createAbsence(operator.user.id, {
      startsAt: '2030-01-01T00:00:00Z',
      endsAt: '2030-01-08T00:00:00Z',
      reason: 'vacation',
    });
    expect(await operator.client.users.listAbsences(operator.user.id)).toEqual([absence]);
    await operator.client.users.deleteAbsence(operator.user.id, absence.id);
    expect(await operator.client.users.listAbsences(operator.user.id)).toEqual([]);
  });

  it('follow a role change at once', async () => {
    const supervisor = await createSignedInUser(server, admin, 'supervisor');
    expect((await problemOf(supervisor.client.departments.create({ name: 'Support' }))).status).toBe(403);
    const role = await admin.roles.create({
      name: `Team lead ${randomUUID().slice(0, 8)}`,
      permissions: { ...BUILT_IN_ROLES.supervisor.permissions, manageUsers: true },
    });
    await admin.users.update(supervisor.user.id, { roleId: role.id });
    await expect(supervisor.client.departments.create({ name: 'Support' })).resolves.toMatchObject({
      name: 'Support',
    });
  });

  it('keep the administrator role able to manage users', async () => {
    const roles = await admin.roles.list();
    const administrator = roles.find((r) => r.builtIn === 'administrator')!;
    const error = await problemOf(
      admin.roles.update(administrator.id, {
        permissions: { ...BUILT_IN_ROLES.administrator.permissions, manageUsers: false },
      }),
    );
    expect(error.status).toBe(400);
    expect(error.fields).toEqual(['body.permissions.manageUsers']);
  });
});

describe('another account', () => {
  let other: OpenlinesClient;
  let otherAdminId: string;
  let ours: { userId: string; departmentId: string; roleId: string; absenceId: string };

  beforeAll(async () => {
    const email = uniqueEmail('other-admin');
    const created = await createAccount(server.ctx, {
      accountName: 'Other Inc',
      admin: { email, name: 'Other admin', password: TEST_PASSWORD },
    });
    otherAdminId = created.admin.id;
    other = await signIn(server, { email, password: TEST_PASSWORD });

    const operator = await createSignedInUser(server, admin, 'operator');
    const department = await admin.departments.create({ name: 'Ours', memberIds: [operator.user.id] });
    const role = await admin.roles.create({
      name: `Ours ${randomUUID().slice(0, 8)}`,
      permissions: BUILT_IN_ROLES.operator.permissions,
    });
    const absence = await admin.users.createAbsence(operator.user.id, {
      startsAt: '2030-02-01T00:00:00Z',
      endsAt: '2030-02-02T00:00:00Z',
    });
    ours = { userId: operator.user.id, departmentId: department.id, roleId: role.id, absenceId: absence.id };
  });

  it('sees only its own users, departments and roles', async () => {
    const users = await other.users.list();
    expect(users.map((u) => u.id)).toEqual([otherAdminId]);
    expect(await other.users.list({ search: 'operator' })).toEqual([]);
    expect(await other.departments.list()).toEqual([]);
    const roles = await other.roles.list();
    expect(roles.map((r) => r.builtIn).sort()).toEqual(['administrator', 'operator', 'supervisor']);
    expect(roles.map((r) => r.id)).not.toContain(ours.roleId);
  });

  it.each<[string, (client: OpenlinesClient, id: () => typeof ours) => Promise<unknown>]>([
    ['GET /users/:id', (c, id) => c.users.get(id().userId)],
    ['PATCH /users/:id', (c, id) => c.users.update(id().userId, { name: 'Stolen' })],
    ['PATCH /users/:id (deactivate)', (c, id) => c.users.deactivate(id().userId)],
    ['GET /users/:id/absences', (c, id) => c.users.listAbsences(id().userId)],
    [
      'POST /users/:id/absences',
      (c, id) =>
        c.users.createAbsence(id().userId, {
          startsAt: '2030-03-01T00:00:00Z',
          endsAt: '2030-03-02T00:00:00Z',
        }),
    ],
    ['DELETE /users/:id/absences/:absenceId', (c, id) => c.users.deleteAbsence(id().userId, id().absenceId)],
    ['PATCH /departments/:id', (c, id) => c.departments.update(id().departmentId, { name: 'Stolen' })],
    ['DELETE /departments/:id', (c, id) => c.departments.delete(id().departmentId)],
    [
      'PATCH /roles/:id',
      (c, id) => c.roles.update(id().roleId, { permissions: BUILT_IN_ROLES.administrator.permissions }),
    ],
    ['DELETE /roles/:id', (c, id) => c.roles.delete(id().roleId)],
  ])(
    'gets 404 for %s of the first account, exactly as for an id that does not exist',
    async (_route, call) => {
      const foreign = await problemOf(call(other, () => ours));
      const missing = await problemOf(
        call(other, () => ({
          userId: randomUUID(),
          departmentId: randomUUID(),
          roleId: randomUUID(),
          absenceId: randomUUID(),
        })),
      );
      expect(foreign.status).toBe(404);
      expect(foreign.code).toBe('not_found');
      const { instance: _a, ...foreignBody } = foreign.problem;
      const { instance: _b, ...missingBody } = missing.problem;
      expect(foreignBody).toEqual(missingBody);
    },
  );

  it('cannot point its own objects at the first account', async () => {
    const role = await problemOf(
      other.users.create({ email: uniqueEmail(), name: 'X', password: TEST_PASSWORD, roleId: ours.roleId }),
    );
    expect(role.fields).toEqual(['body.roleId']);
    const member = await problemOf(other.departments.create({ name: 'X', memberIds: [ours.userId] }));
    expect(member.fields).toEqual(['body.memberIds']);
    const parent = await problemOf(other.departments.create({ name: 'X', parentId: ours.departmentId }));
    expect(parent.fields).toEqual(['body.parentId']);
  });

  it('left the first account untouched', async () => {
    const user = await admin.users.get(ours.userId);
    expect(user).toMatchObject({ name: 'Test operator', active: true, departmentIds: [ours.departmentId] });
    expect((await admin.users.listAbsences(ours.userId)).map((a) => a.id)).toEqual([ours.absenceId]);
    expect((await admin.roles.list()).map((r) => r.id)).toContain(ours.roleId);
  });
});
