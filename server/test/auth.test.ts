import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientOf,
  createSignedInUser,
  createTestServer,
  openRealtime,
  problemOf,
  signIn,
  type TestServer,
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

let server: TestServer;

beforeAll(async () => {
  server = await createTestServer();
});
afterAll(async () => server?.stop());

describe('session login', () => {
  it('signs in with the first-run credentials and sets an httpOnly SameSite cookie', async () => {
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
    const admin = await signIn(server);
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

  it('ends the session on logout', async () => {
    const admin = await signIn(server);
    const cookie = admin.sessionCookie!;
    await admin.auth.logout();
    expect(admin.sessionCookie).toBeNull();
    expect((await problemOf(admin.auth.me())).code).toBe('unauthenticated');
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
    const admin = await signIn(server);
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
    const admin = await signIn(server);
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
    const admin = await signIn(server);
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
    const admin = await signIn(server);
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
    const admin = await signIn(server);
    const me = await admin.auth.me();
    const error = await problemOf(admin.users.deactivate(me.user.id));
    expect(error.status).toBe(400);
    expect(error.fields).toEqual(['body.active']);
  });
});
