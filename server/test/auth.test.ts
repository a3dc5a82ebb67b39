import { randomBytes, randomUUID } from 'node:crypto';
import { BUILT_IN_ROLES } from '@openlines/contract';
import type { OpenlinesClient } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../src/services/accounts';
import {
  clientOf,
  createSignedInUser,
  createTestServer,
  openRealtime,
  problemOf,
  type SignedInUser,
  signIn,
  TEST_PASSWORD,
  type TestServer,
  uniqueEmail,
  waitFor,
} from './harness';

/** A raw request with just a session cookie, as a cross-site form post would send it. */
function postWithCookie(
  server: TestServer,
  path: string,
  cookie: string,
  headers: Record<string, string> = {},
) {
  return fetch(`${server.url}/api/v1${path}`, {
    method: 'POST',
    headers: { cookie: `ol_session=${cookie}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ name: `Department ${randomBytes(3).toString('hex')}` }),
  });
}

// Authentication (who is calling) and authorization (what they may do, in which account), on one
// server: starting the embedded database is the slow part of these tests.

let server: TestServer;
let admin: OpenlinesClient;

beforeAll(async () => {
  server = await createTestServer();
  admin = await signIn(server);
});
afterAll(async () => server?.stop());

describe('session login', () => {
  it('signs in with the first-run credentials and sets an httpOnly SameSite cookie', async () => {
    await expect(clientOf(server).health()).resolves.toEqual({ status: 'ok' });
    expect(server.admin.password.length).toBeGreaterThanOrEqual(20);
    const response = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(server.admin),
    });
    expect(response.status).toBe(200);
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^ol_session=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    const me = await clientOf(server).auth.login(server.admin);
    expect(me.user.email).toBe(server.admin.email);
    expect(me.permissions.manageUsers).toBe(true);
    expect(me.csrfToken).toEqual(expect.any(String));
  });

  it('needs the CSRF token on unsafe requests made with the cookie', async () => {
    const cookie = admin.sessionCookie!;
    const me = await admin.auth.me();

    const withoutToken = await postWithCookie(server, '/departments', cookie);
    expect(withoutToken.status).toBe(403);
    expect(withoutToken.headers.get('content-type')).toContain('application/problem+json');
    expect(await withoutToken.json()).toMatchObject({ status: 403, code: 'csrf_failed' });

    const wrongToken = await postWithCookie(server, '/departments', cookie, { 'x-csrf-token': 'guess' });
    expect(wrongToken.status).toBe(403);
    expect((await wrongToken.json()).code).toBe('csrf_failed');

    const withToken = await postWithCookie(server, '/departments', cookie, { 'x-csrf-token': me.csrfToken! });
    expect(withToken.status).toBe(201);

    // Safe methods need no token; the SDK sends it on unsafe ones by itself.
    const read = await fetch(`${server.url}/api/v1/me`, { headers: { cookie: `ol_session=${cookie}` } });
    expect(read.status).toBe(200);
    await expect(admin.departments.create({ name: 'Made by the SDK' })).resolves.toMatchObject({
      name: 'Made by the SDK',
    });
  });

  it('keeps no CSRF token in the database, and the token stays the same for the session', async () => {
    const session = await signIn(server);
    const [row] = await server.ctx.store.db.selectFrom('auth_sessions').selectAll().limit(1).execute();
    expect(Object.keys(row ?? {})).not.toContain('csrf_token');
    const first = (await session.auth.me()).csrfToken;
    expect(first).toEqual(expect.any(String));
    expect((await session.auth.me()).csrfToken).toBe(first);
    // Another session has another token.
    expect((await admin.auth.me()).csrfToken).not.toBe(first);
  });

  it('refuses a logout made with the cookie but without the CSRF token (no forced sign-out)', async () => {
    const session = await signIn(server);
    const cookie = session.sessionCookie!;
    const forced = await postWithCookie(server, '/auth/logout', cookie);
    expect(forced.status).toBe(403);
    expect((await forced.json()).code).toBe('csrf_failed');
    expect((await session.auth.me()).user.email).toBe(server.admin.email);
    // A cookie that names no session any more is simply cleared.
    const stale = await postWithCookie(server, '/auth/logout', 'no-such-session');
    expect(stale.status).toBe(204);
  });

  it('ends the session on logout', async () => {
    const session = await signIn(server);
    const cookie = session.sessionCookie!;
    await session.auth.logout();
    expect(session.sessionCookie).toBeNull();
    expect((await problemOf(session.auth.me())).code).toBe('unauthenticated');
    // The old cookie is dead on the server, not just forgotten by the client.
    const replay = await fetch(`${server.url}/api/v1/me`, { headers: { cookie: `ol_session=${cookie}` } });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ code: 'unauthenticated' });
  });

  it('answers wrong e-mail and wrong password with the same 401', async () => {
    const wrongEmail = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'nobody@example.test', password: server.admin.password }),
    });
    const wrongPassword = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: server.admin.email, password: 'not the password' }),
    });
    expect(wrongEmail.status).toBe(401);
    expect(wrongPassword.status).toBe(401);
    expect(wrongEmail.headers.get('content-type')).toContain('application/problem+json');
    const [emailBody, passwordBody] = [await wrongEmail.text(), await wrongPassword.text()];
    expect(emailBody).toBe(passwordBody);
    expect(JSON.parse(emailBody)).toMatchObject({ status: 401, code: 'invalid_credentials' });
    expect(wrongEmail.headers.get('set-cookie')).toBeNull();
  });

  it('requires authentication on the API', async () => {
    const error = await problemOf(clientOf(server).users.list());
    expect(error.status).toBe(401);
    expect(error.code).toBe('unauthenticated');
  });
});

describe('API tokens', () => {
  it('authenticate as Bearer without CSRF, are shown once and stop working when revoked', async () => {
    const created = await admin.apiTokens.create({ name: 'CRM integration' });
    expect(created.token).toMatch(/^olt_/);
    expect(created.token.startsWith(created.apiToken.prefix)).toBe(true);

    const bot = clientOf(server, { token: created.token });
    const me = await bot.auth.me();
    expect(me.user.email).toBe(server.admin.email);
    expect(me.csrfToken).toBeUndefined();
    await expect(bot.departments.create({ name: 'Made with a token' })).resolves.toMatchObject({
      name: 'Made with a token',
    });

    const listed = await admin.apiTokens.list();
    const entry = listed.find((t) => t.id === created.apiToken.id);
    expect(entry).toMatchObject({ name: 'CRM integration', prefix: created.apiToken.prefix });
    expect(entry?.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(created.token);

    await admin.apiTokens.revoke(created.apiToken.id);
    const error = await problemOf(bot.auth.me());
    expect(error.status).toBe(401);
    expect(error.code).toBe('unauthenticated');
    expect((await admin.apiTokens.list()).some((t) => t.id === created.apiToken.id)).toBe(false);
    expect((await problemOf(admin.apiTokens.revoke(created.apiToken.id))).status).toBe(404);
  });

  it('reject a made-up token', async () => {
    const error = await problemOf(clientOf(server, { token: 'olt_madeup' }).auth.me());
    expect(error.status).toBe(401);
  });
});

describe('password change', () => {
  it('ends the other sessions and keeps the current one', async () => {
    const operator = await createSignedInUser(server, admin);
    const otherDevice = await signIn(server, { email: operator.email, password: operator.password });
    const newPassword = 'a much better passphrase';

    expect(
      (await problemOf(operator.client.auth.changePassword({ currentPassword: 'wrong one', newPassword })))
        .code,
    ).toBe('invalid_credentials');
    await operator.client.auth.changePassword({ currentPassword: operator.password, newPassword });

    await expect(operator.client.auth.me()).resolves.toMatchObject({ user: { id: operator.user.id } });
    expect((await problemOf(otherDevice.auth.me())).code).toBe('unauthenticated');
    expect(
      (await problemOf(signIn(server, { email: operator.email, password: operator.password }))).code,
    ).toBe('invalid_credentials');
    await expect(signIn(server, { email: operator.email, password: newPassword })).resolves.toBeDefined();
  });

  it('validates the new password', async () => {
    const operator = await createSignedInUser(server, admin);
    const error = await problemOf(
      operator.client.auth.changePassword({ currentPassword: operator.password, newPassword: 'short' }),
    );
    expect(error.status).toBe(400);
    expect(error.fields).toContain('body.newPassword');
  });
});

describe('deactivated users', () => {
  it('cannot sign in, and lose their sessions, tokens and sockets at once', async () => {
    const operator = await createSignedInUser(server, admin);
    const { token } = await operator.client.apiTokens.create({ name: 'my bot' });
    const live = openRealtime(operator.client);
    await live.realtime.once('open');

    const updated = await admin.users.deactivate(operator.user.id);
    expect(updated).toMatchObject({ active: false, presence: 'offline' });

    await waitFor(() => live.closes.length > 0, 'the socket of the deactivated user to close');
    expect(live.closes[0]).toMatchObject({ code: 4401, reconnecting: false });
    expect(live.realtime.connected).toBe(false);

    expect((await problemOf(operator.client.auth.me())).code).toBe('unauthenticated');
    expect((await problemOf(clientOf(server, { token }).auth.me())).code).toBe('unauthenticated');
    const login = await problemOf(signIn(server, { email: operator.email, password: operator.password }));
    const wrong = await problemOf(signIn(server, { email: operator.email, password: 'wrong password' }));
    expect(login.status).toBe(401);
    expect(login.problem).toEqual(wrong.problem);

    // Reactivated, they sign in again with their password.
    await admin.users.update(operator.user.id, { active: true });
    await expect(
      signIn(server, { email: operator.email, password: operator.password }),
    ).resolves.toBeDefined();
  });

  it('cannot deactivate themselves', async () => {
    const me = await admin.auth.me();
    const error = await problemOf(admin.users.deactivate(me.user.id));
    expect(error.status).toBe(400);
    expect(error.fields).toEqual(['body.active']);
  });
});

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
