import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AdminAccount, CreatedAccount, Plan } from '@openlines/contract';
import { ApiChannelSender } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedFilePath } from '../src/services/files';
import { countAccountRows } from '../src/store/account-rows';
import {
  clientOf,
  createTestServer,
  openRealtime,
  problemOf,
  signIn,
  type TestServer,
  uniqueEmail,
  waitFor,
} from './harness';
import { TestVisitor } from './widget-visitor';

/**
 * Accounts as the server's operator runs them (issue 21), through the admin API on a real server:
 * create → use → plan limits → suspend (users and channels refused, nothing stored) → resume →
 * delete (every row of every table and every file gone; the other account untouched). The same
 * suite runs on PGlite and, with DATABASE_URL, on PostgreSQL.
 */

const ADMIN_TOKEN = 'operator-secret-0123456789abcdef0123';
const ORIGIN = 'https://shop.example.test';

interface Reply<T> {
  status: number;
  body: T;
}

describe('accounts run by the server operator', () => {
  let server: TestServer;
  let dataDir: string;

  async function admin<T>(
    method: string,
    url: string,
    body?: unknown,
    token = ADMIN_TOKEN,
  ): Promise<Reply<T>> {
    const response = await fetch(`${server.url}/api/v1/admin${url}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
  }

  beforeAll(async () => {
    // Files on disk, so that the deletion of an account's files is seen there.
    dataDir = await mkdtemp(path.join(tmpdir(), 'openlines-accounts-'));
    server = await createTestServer({ dataDir, env: { ADMIN_TOKEN } });
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers only to the server operator’s token, never to an account user', async () => {
    expect((await admin('GET', '/accounts', undefined, '')).status).toBe(401);
    expect((await admin('GET', '/accounts', undefined, `${ADMIN_TOKEN}x`)).status).toBe(401);
    // The first account's administrator, with a session and with an API token, is not the operator.
    const firstAdmin = await signIn(server);
    const forbidden = await problemOf(firstAdmin.transport.request('GET', '/admin/accounts'));
    expect(forbidden.status).toBe(401);
    const { token } = await firstAdmin.apiTokens.create({ name: 'not-the-operator' });
    expect((await admin('GET', '/accounts', undefined, token)).status).toBe(401);
    const listed = await admin<{ items: AdminAccount[] }>('GET', '/accounts');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((a) => a.name)).toContain('Openlines');
  });

  it('validates plans and accounts, naming the field', async () => {
    const badPlan = await admin<{ code: string; errors: { field: string }[] }>('PUT', '/plans/small', {
      name: 'Small',
      maxLines: -1,
      maxOperators: null,
      maxChannels: null,
      maxStorageBytes: null,
    });
    expect(badPlan.status).toBe(400);
    expect(badPlan.body.errors.map((e) => e.field)).toContain('body.maxLines');
    const noPlan = await admin<{ errors: { field: string }[] }>('POST', '/accounts', {
      name: 'Nowhere',
      planId: 'no-such-plan',
      admin: { email: uniqueEmail('nowhere'), name: 'N' },
    });
    expect(noPlan.status).toBe(400);
    expect(noPlan.body.errors.map((e) => e.field)).toEqual(['body.planId']);
    const defaultLines = await admin<{ errors: { field: string }[] }>('PUT', '/plans/default', {
      name: 'Default',
      maxLines: 999,
      maxOperators: null,
      maxChannels: null,
      maxStorageBytes: null,
    });
    expect(defaultLines.status).toBe(400);
    expect(defaultLines.body.errors.map((e) => e.field)).toEqual(['body.maxLines']);
  });

  it('lives through create → use → limits → suspend → resume → delete, with every row and file gone', async () => {
    const firstAdmin = await signIn(server);
    const firstAccountId = (await firstAdmin.auth.me()).account.id;
    const firstBefore = await countAccountRows(server.ctx.store.db, firstAccountId);

    // A plan of one line, two active users, two channels and 3000 bytes of files.
    const plan = await admin<Plan>('PUT', '/plans/small', {
      name: 'Small',
      maxLines: 1,
      maxOperators: 2,
      maxChannels: 2,
      maxStorageBytes: 3000,
    });
    expect(plan.status).toBe(200);
    const adminEmail = uniqueEmail('acme-admin');
    const created = await admin<CreatedAccount>('POST', '/accounts', {
      name: 'Acme',
      planId: 'small',
      admin: { email: adminEmail, name: 'Acme Admin' },
    });
    expect(created.status).toBe(201);
    const accountId = created.body.account.id;
    const password = created.body.admin.password!;
    expect(password).toHaveLength(20);
    expect(created.body.account).toMatchObject({ status: 'active', plan: { id: 'small' } });

    // Use it: a line, an operator, an API channel and a widget, a client message, a file.
    const acme = await signIn(server, { email: adminEmail, password });
    expect((await acme.auth.me()).account.id).toBe(accountId);
    const line = await acme.lines.create({ name: 'Acme support' });
    const roles = await acme.roles.list();
    const operatorRole = roles.find((r) => r.builtIn === 'operator')!.id;
    const operatorEmail = uniqueEmail('acme-op');
    await acme.users.create({
      email: operatorEmail,
      name: 'Op',
      password: 'operator password',
      roleId: operatorRole,
    });
    const api = await acme.channels.create({
      kind: 'api',
      name: 'Shop',
      lineId: line.id,
      settings: { webhookUrl: 'http://127.0.0.1:9/hook' },
    });
    const widget = await acme.channels.create({
      kind: 'widget',
      name: 'Site',
      lineId: line.id,
      settings: { allowedDomains: ['shop.example.test'] },
    });
    // A department tree: its key to itself must not stand in the way of the deletion.
    const sales = await acme.departments.create({ name: 'Sales' });
    await acme.departments.create({ name: 'Sales EU', parentId: sales.id });
    const sender = new ApiChannelSender(server.url, api.secrets.inboundToken!);
    const first = await sender.send({
      externalId: 'm-1',
      user: { id: 'client-1', name: 'Ivan' },
      text: 'Hello',
    });
    const visitor = new TestVisitor(server.url, String(widget.channel.settings.publicKey), ORIGIN);
    expect((await visitor.start()).status).toBe(201);
    expect((await visitor.send('From the site')).status).toBe(201);
    const attachment = await acme.files.upload(new Blob([new Uint8Array(2000).fill(7)]), 'photo.png');

    // Plan limits, each a 409 plan_limit_reached naming the resource.
    const limit = async (call: Promise<unknown>, resource: string, value: number) => {
      const problem = await problemOf(call);
      expect(problem.status).toBe(409);
      expect(problem.code).toBe('plan_limit_reached');
      expect(problem.problem).toMatchObject({ resource, limit: value });
    };
    await limit(acme.lines.create({ name: 'Second line' }), 'lines', 1);
    await limit(
      acme.users.create({
        email: uniqueEmail('third'),
        name: 'Third',
        password: 'third password',
        roleId: operatorRole,
      }),
      'operators',
      2,
    );
    await limit(
      acme.channels.create({
        kind: 'api',
        name: 'Third',
        lineId: line.id,
        settings: { webhookUrl: 'http://127.0.0.1:9/x' },
      }),
      'channels',
      2,
    );
    await limit(acme.files.upload(new Blob([new Uint8Array(1500).fill(1)]), 'big.bin'), 'storage', 3000);
    const usage = (await admin<AdminAccount>('GET', `/accounts/${accountId}`)).body.usage;
    expect(usage).toEqual({ lines: 1, operators: 2, channels: 2, storageBytes: 2000 });
    // A higher plan lifts the limit at once.
    await admin('PUT', '/plans/roomy', {
      name: 'Roomy',
      maxLines: 5,
      maxOperators: null,
      maxChannels: null,
      maxStorageBytes: null,
    });
    expect(
      (await admin<AdminAccount>('PATCH', `/accounts/${accountId}`, { planId: 'roomy' })).body.plan.id,
    ).toBe('roomy');
    const secondLine = await acme.lines.create({ name: 'Second line' });
    expect(secondLine.name).toBe('Second line');

    // Suspend: the account's sockets close, its users and tokens are refused with a clear code…
    const { realtime, closes } = openRealtime(acme);
    await waitFor(() => realtime.connected, 'the operator socket to open');
    const { token: acmeToken } = await acme.apiTokens.create({ name: 'crm' });
    const suspended = await admin<AdminAccount>('POST', `/accounts/${accountId}/suspend`);
    expect(suspended.body).toMatchObject({ status: 'suspended' });
    expect(suspended.body.suspendedAt).not.toBeNull();
    await waitFor(() => closes.length > 0, 'the suspended account’s socket to close');
    realtime.close();
    const refused = await problemOf(acme.lines.list());
    expect(refused).toMatchObject({ status: 403, code: 'account_suspended' });
    const byToken = await problemOf(clientOf(server, { token: acmeToken }).lines.list());
    expect(byToken.code).toBe('account_suspended');
    const signInRefused = await problemOf(clientOf(server).auth.login({ email: adminEmail, password }));
    expect(signInRefused).toMatchObject({ status: 403, code: 'account_suspended' });
    // …a wrong password still says only that the credentials are wrong.
    const wrong = await problemOf(
      clientOf(server).auth.login({ email: adminEmail, password: 'not the password' }),
    );
    expect(wrong.code).toBe('invalid_credentials');

    // …and its channels refuse messages, storing nothing.
    const messagesBefore = await countRows('messages', accountId);
    const clientsBefore = await countRows('clients', accountId);
    const filesBefore = await countRows('files', accountId);
    const apiRefused = await problemOf(
      sender.send({ externalId: 'm-2', user: { id: 'client-2' }, text: 'Anyone?' }),
    );
    expect(apiRefused).toMatchObject({ status: 403, code: 'account_suspended' });
    const widgetRefused = await visitor.send('Still there?');
    expect(widgetRefused.status).toBe(403);
    expect((widgetRefused.body as unknown as { code: string }).code).toBe('account_suspended');
    const uploadRefused = await visitor.upload(new Uint8Array([1, 2, 3]), 'a.txt', 'text/plain');
    expect(uploadRefused.status).toBe(403);
    expect(
      (await new TestVisitor(server.url, String(widget.channel.settings.publicKey), ORIGIN).start()).status,
    ).toBe(403);
    expect(await countRows('messages', accountId)).toBe(messagesBefore);
    expect(await countRows('clients', accountId)).toBe(clientsBefore);
    expect(await countRows('files', accountId)).toBe(filesBefore);
    // The other account is not affected.
    expect((await firstAdmin.auth.me()).account.id).toBe(firstAccountId);

    // Resume: everything works again, with the same sign-in and channel token.
    expect((await admin<AdminAccount>('POST', `/accounts/${accountId}/resume`)).body.status).toBe('active');
    const again = await signIn(server, { email: adminEmail, password });
    expect((await again.lines.list()).items).toHaveLength(2);
    const later = await sender.send({ externalId: 'm-3', user: { id: 'client-1' }, text: 'Back again' });
    expect(later.dialogId).toBe(first.dialogId);
    expect((await visitor.send('Hello again')).status).toBe(201);

    // Delete: every row of every table of the account, and its files on disk, are gone.
    const fileRow = await server.ctx.store.db
      .selectFrom('files')
      .select('id')
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow();
    expect(attachment.url).toContain(fileRow.id);
    const filePath = storedFilePath(server.ctx, fileRow.id);
    expect(existsSync(filePath)).toBe(true);
    const populated = await countAccountRows(server.ctx.store.db, accountId);
    for (const table of [
      'users',
      'roles',
      'lines',
      'channels',
      'clients',
      'dialogs',
      'sessions',
      'messages',
      'events',
      'files',
      'widget_visitors',
      'auth_sessions',
      'api_tokens',
      'departments',
    ]) {
      expect(populated.find((c) => c.table === table)?.rows, table).toBeGreaterThan(0);
    }
    const deleted = await admin<{ deletedRows: number; deletedFiles: number }>(
      'DELETE',
      `/accounts/${accountId}`,
    );
    expect(deleted.status).toBe(200);
    expect(deleted.body.deletedFiles).toBe(1);
    // Deleting suspends first, which records its events (channel.changed, account.suspended) too.
    expect(deleted.body.deletedRows).toBe(populated.reduce((sum, c) => sum + c.rows, 0) + 3);
    const after = await countAccountRows(server.ctx.store.db, accountId);
    expect(after.filter((c) => c.rows > 0)).toEqual([]);
    expect(existsSync(filePath)).toBe(false);
    expect((await admin('GET', `/accounts/${accountId}`)).status).toBe(404);
    const gone = await problemOf(clientOf(server).auth.login({ email: adminEmail, password }));
    expect(gone.code).toBe('invalid_credentials');
    expect((await problemOf(sender.send({ externalId: 'm-4', user: { id: 'c' }, text: 'x' }))).status).toBe(
      401,
    );
    // The first account kept every row it had.
    expect(await countAccountRows(server.ctx.store.db, firstAccountId)).toEqual(firstBefore);
  });

  async function countRows(table: 'messages' | 'clients' | 'files', accountId: string): Promise<number> {
    const row = await server.ctx.store.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
});
