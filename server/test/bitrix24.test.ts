import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Bitrix } from '@2bad/bitrix';
import type { OpenlinesClient } from '@openlines/sdk';
import { parse } from 'qs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/clock';
import { createAccount } from '../src/services/accounts';
import {
  createSignedInUser,
  createTestServer,
  problemOf,
  type SignedInUser,
  signIn,
  type TestServer,
  uniqueEmail,
  waitFor,
} from './harness';

// The Bitrix24-compatible REST surface (PL-4) against a running server: the full connector
// scenario driven by a real Bitrix24 client (@2bad/bitrix, which sends GET with PHP-style nested
// keys to any base URL), events received form-encoded on a local handler, and bad input with fetch.

/** Parsed JSON and form bodies: the tests look into them freely. */
type Json = ReturnType<typeof JSON.parse>;

interface Received {
  contentType: string | undefined;
  body: Record<string, Json>;
}

/** A local event handler, as a connector application runs one. */
async function startHandler(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        contentType: request.headers['content-type'],
        body: parse(Buffer.concat(chunks).toString('utf8')) as Record<string, Json>,
      });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, received };
}

type Call = (method: string, params?: object) => Promise<{ result: Json; total?: number; next?: number }>;

/**
 * @2bad/bitrix types only the CRM methods it knows; its generic call takes any method. Its own
 * access-token hook never fires with the got version it ships (it looks for `options.path`), so the
 * token goes in as the `auth` parameter, as Bitrix24's documentation sends it.
 */
function bitrixClient(server: TestServer, accessToken: string): Call {
  const client = Bitrix(`${server.url}/rest`);
  const call = client.call as unknown as Call;
  return (method, params = {}) => call(method, { ...params, auth: accessToken });
}

async function rest(
  server: TestServer,
  path: string,
  init: { body?: string; contentType?: string; method?: string } = {},
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${server.url}/rest/${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    ...(init.body !== undefined
      ? { body: init.body, headers: { 'content-type': init.contentType ?? 'application/json' } }
      : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function issueApp(admin: OpenlinesClient, userId?: string) {
  return admin.request<{ app: { id: number }; accessToken: string; applicationToken: string }>(
    'POST',
    '/bitrix24/apps',
    { body: { name: 'My connector app', ...(userId ? { userId } : {}) } },
  );
}

async function issueWebhook(admin: OpenlinesClient, userId?: string) {
  return admin.request<{ path: string; webhook: { numericUserId: number } }>('POST', '/bitrix24/webhooks', {
    body: { name: 'Script', ...(userId ? { userId } : {}) },
  });
}

describe('Bitrix24-compatible REST: a connector end to end', () => {
  let server: TestServer;
  let admin: OpenlinesClient;
  let operator: SignedInUser;
  let handler: Awaited<ReturnType<typeof startHandler>>;
  let app: Awaited<ReturnType<typeof issueApp>>;
  let call: Call;

  beforeAll(async () => {
    server = await createTestServer();
    admin = await signIn(server);
    operator = await createSignedInUser(server, admin, 'operator');
    handler = await startHandler();
    app = await issueApp(admin);
    call = bitrixClient(server, app.accessToken);
  });
  afterAll(async () => {
    handler.server.closeAllConnections();
    await new Promise((resolve) => handler.server.close(resolve));
    await server.stop();
  });

  it('registers a connector, activates it on a line, and carries a dialog there and back', async () => {
    const users = await call('user.get');
    const operatorNumber = users.result.find((user: { EMAIL: string }) => user.EMAIL === operator.email).ID;
    expect(operatorNumber).toMatch(/^\d+$/);

    const { result: line } = await call('imopenlines.config.add', {
      PARAMS: {
        LINE_NAME: 'Bitrix line',
        QUEUE: [operatorNumber],
        QUEUE_TYPE: 'strictly',
        CHECK_AVAILABLE: 'N',
        WELCOME_MESSAGE: 'N',
        VOTE_MESSAGE: 'N',
        WORKTIME_ENABLE: 'N',
        WORKTIME_FROM: '9',
        WORKTIME_TO: '18.30',
      },
    });
    expect(Number.isInteger(line)).toBe(true);
    const { result: config } = await call('imopenlines.config.get', { CONFIG_ID: line });
    expect(config).toMatchObject({
      ID: String(line),
      LINE_NAME: 'Bitrix line',
      ACTIVE: 'Y',
      QUEUE: [operatorNumber],
      QUEUE_TYPE: 'strictly',
      QUEUE_TIME: '60',
      CHECK_AVAILABLE: 'N',
      WELCOME_MESSAGE: 'N',
      WORKTIME_FROM: '9',
      WORKTIME_TO: '18.30',
      WORKTIME_DAYOFF: ['SA', 'SU'],
    });
    // The line is ours like any other: the admin app shows it with the mapped settings.
    const ours = (await admin.lines.list()).items.find((item) => item.name === 'Bitrix line')!;
    expect(ours.settings.queue).toMatchObject({ distribution: 'strictly', checkAvailable: false });
    expect(ours.settings.queue.members).toEqual([{ type: 'user', id: operator.user.id }]);

    expect(
      (
        await call('imconnector.register', {
          ID: 'MyConnector',
          NAME: 'My connector',
          ICON: { DATA_IMAGE: 'x' },
        })
      ).result,
    ).toEqual({ result: true });
    expect(
      (await call('event.bind', { event: 'OnImConnectorMessageAdd', handler: handler.url })).result,
    ).toBe(true);
    expect(
      (await call('imconnector.activate', { CONNECTOR: 'myconnector', LINE: line, ACTIVE: 1 })).result,
    ).toBe(true);
    expect((await call('imconnector.status', { CONNECTOR: 'myconnector', LINE: line })).result).toEqual({
      LINE: line,
      CONNECTOR: 'myconnector',
      ERROR: false,
      CONFIGURED: true,
      STATUS: true,
    });
    // The activation is a channel of the line, like any other, that only the application creates.
    const channel = (await admin.channels.list()).find((item) => item.kind === 'bitrix24');
    expect(channel).toMatchObject({ lineId: ours.id, name: 'My connector', status: 'connected' });
    expect(
      (await admin.channels.kinds()).find((kind) => kind.kind === 'bitrix24')?.createdByIntegration,
    ).toBe(true);
    const byHand = await problemOf(
      admin.channels.create({ kind: 'bitrix24', name: 'By hand', lineId: ours.id, settings: {} }),
    );
    expect(byHand.status).toBe(400);
    expect((await call('imconnector.list')).result).toMatchObject({
      myconnector: 'My connector',
      telegram: 'Telegram',
    });
    expect((await call('event.get')).result).toEqual([
      { event: 'ONIMCONNECTORMESSAGEADD', handler: handler.url, auth_type: '0', offline: 0 },
    ]);

    const element = {
      user: { id: 'client-7', name: 'Ivan', last_name: 'Petrov' },
      message: { id: 'ext-1001', date: 1767600000, text: 'Hello from the connector' },
      chat: { id: 'chat-123', name: 'Support' },
    };
    const sent = await call('imconnector.send.messages', {
      CONNECTOR: 'myconnector',
      LINE: line,
      MESSAGES: [element],
    });
    expect(sent.result.SUCCESS).toBe(true);
    const [stored] = sent.result.DATA.RESULT;
    expect(stored).toMatchObject({
      SUCCESS: true,
      DUPLICATE: false,
      chat: { id: 'chat-123' },
      message: { id: 'ext-1001' },
    });
    const chatId = Number(stored.session.CHAT_ID);
    expect(chatId).toBeGreaterThan(0);
    // The same external message again is stored once.
    const again = await call('imconnector.send.messages', {
      CONNECTOR: 'myconnector',
      LINE: line,
      MESSAGES: [element],
    });
    expect(again.result.DATA.RESULT[0]).toMatchObject({
      SUCCESS: true,
      DUPLICATE: true,
      session: { CHAT_ID: String(chatId) },
    });

    // The operator sees the dialog in their workspace, like any channel's, and answers it.
    let dialogId = '';
    await waitFor(async () => {
      const page = await operator.client.dialogs.list({ view: 'all' });
      const dialog = page.items.find((item) => item.lastMessagePreview === 'Hello from the connector');
      dialogId = dialog?.id ?? '';
      return Boolean(dialog?.session);
    }, 'the dialog in the operator’s list');
    const dialog = await operator.client.dialogs.get(dialogId);
    expect(dialog.channelKind).toBe('bitrix24');
    expect(dialog.client.name).toBe('Ivan Petrov');
    if (dialog.session?.status === 'queued') await operator.client.dialogs.take(dialogId);
    const answer = await operator.client.dialogs.send(dialogId, { text: 'Good day, Ivan!' });

    // … and the connector gets it as OnImConnectorMessageAdd, form-encoded, from the outbox.
    await waitFor(() => handler.received.length > 0, 'OnImConnectorMessageAdd');
    const [event] = handler.received;
    expect(event!.contentType).toBe('application/x-www-form-urlencoded');
    expect(event!.body).toMatchObject({
      event: 'ONIMCONNECTORMESSAGEADD',
      data: {
        CONNECTOR: 'myconnector',
        LINE: String(line),
        MESSAGES: [{ im: { chat_id: String(chatId) }, chat: { id: 'chat-123' } }],
      },
      auth: { application_token: app.applicationToken },
    });
    const delivered = event!.body.data.MESSAGES[0];
    expect(delivered.message.text).toBe('[b]Test operator:[/b] [br]Good day, Ivan!');

    const status = await call('imconnector.send.status.delivery', {
      CONNECTOR: 'myconnector',
      LINE: line,
      MESSAGES: [{ im: delivered.im, message: { id: ['their-id-1'] }, chat: { id: 'chat-123' } }],
    });
    expect(status.result.DATA.RESULT[0]).toMatchObject({ SUCCESS: true });
    const messages = await operator.client.dialogs.messages(dialogId);
    expect(messages.find((message) => message.id === answer.id)?.deliveryState).toBe('delivered');

    const { result: shown } = await call('imopenlines.dialog.get', { CHAT_ID: chatId });
    expect(shown).toMatchObject({
      id: chatId,
      dialog_id: `chat${chatId}`,
      entity_type: 'LINES',
      session_status: 40,
    });
    expect(shown.entity_id).toMatch(new RegExp(`^myconnector\\|${line}\\|chat-123\\|\\d+$`));

    expect((await call('imopenlines.operator.finish', { CHAT_ID: chatId })).result).toBe(true);
    expect((await operator.client.dialogs.get(dialogId)).session?.status).toBe('closed');

    // The client writes again, form-encoded with PHP-style keys as many connectors send it: the
    // same chat, a new session (as in Bitrix24, a reopened chat gets a new session id).
    const form = [
      `auth=${app.accessToken}`,
      'CONNECTOR=myconnector',
      `LINE=${line}`,
      'MESSAGES[0][user][id]=client-7',
      'MESSAGES[0][user][name]=Ivan',
      'MESSAGES[0][message][id]=ext-1002',
      `MESSAGES[0][message][text]=${encodeURIComponent('One more question & thanks')}`,
      'MESSAGES[0][chat][id]=chat-123',
    ].join('&');
    const reopened = await rest(server, 'imconnector.send.messages.json', {
      body: form,
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(reopened.status).toBe(200);
    const next = reopened.body.result.DATA.RESULT[0];
    expect(next).toMatchObject({ SUCCESS: true, session: { CHAT_ID: String(chatId) } });
    expect(next.session.ID).not.toBe(stored.session.ID);
    const texts = (await operator.client.dialogs.messages(dialogId)).map((message) => message.text);
    expect(texts).toContain('One more question & thanks');
  });

  it('refuses line settings it cannot take as they are, naming the PARAMS field', async () => {
    for (const [params, field] of [
      [{ QUEUE_TYPE: 'round_robin' }, 'QUEUE_TYPE'],
      [{ QUEUE_TIME: 'soon' }, 'QUEUE_TIME'],
      [{ QUEUE_TIME: 0 }, 'QUEUE_TIME'],
      [{ WORKTIME_FROM: '25', WORKTIME_TO: '26' }, 'WORKTIME_FROM'],
      [{ WORKTIME_FROM: '9' }, 'WORKTIME_TO'],
      [{ CHECK_AVAILABLE: 'maybe' }, 'CHECK_AVAILABLE'],
      [{ QUEUE: [999999] }, 'QUEUE'],
      [{ NOT_A_FIELD: 'Y' }, 'NOT_A_FIELD'],
    ] as const) {
      const response = await rest(server, 'imopenlines.config.add.json', {
        body: JSON.stringify({ auth: app.accessToken, PARAMS: params }),
      });
      expect(response.status, JSON.stringify(params)).toBe(400);
      expect(response.body.error).toBe('ERROR_ARGUMENT');
      expect(response.body.error_description).toContain(`PARAMS[${field}]`);
    }
  });

  it('pages lists by start/next and runs batches of up to 50 commands', async () => {
    await call('imopenlines.config.add', { PARAMS: { LINE_NAME: 'Second line' } });
    const first = await call('imopenlines.config.list.get', { PARAMS: { limit: 1 } });
    expect(first.result).toHaveLength(1);
    expect(first.total).toBeGreaterThanOrEqual(2);
    expect(first.next).toBe(1);
    const second = await call('imopenlines.config.list.get', { PARAMS: { limit: 1, offset: first.next } });
    expect(second.result[0].ID).not.toBe(first.result[0].ID);

    const form = new URLSearchParams({
      auth: app.accessToken,
      'cmd[line]': `imopenlines.config.get?CONFIG_ID=${first.result[0].ID}`,
      'cmd[missing]': 'no.such.method',
      'cmd[nested]': 'batch?cmd[x]=profile',
    });
    const batch = await rest(server, 'batch.json', {
      body: form.toString(),
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(batch.status).toBe(200);
    expect(batch.body.result.result.line.ID).toBe(first.result[0].ID);
    expect(batch.body.result.result_error).toMatchObject({
      missing: { error: 'ERROR_METHOD_NOT_FOUND' },
      nested: { error: 'ERROR_BATCH_METHOD_NOT_ALLOWED' },
    });

    const huge = Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`c${index}`, 'profile']));
    const tooMany = await rest(server, 'batch', {
      body: JSON.stringify({ auth: app.accessToken, cmd: huge }),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toBe('ERROR_BATCH_LENGTH_EXCEEDED');
  });

  it('answers bad calls with Bitrix24 errors, never a 5xx', async () => {
    const auth = `auth=${app.accessToken}`;
    const cases: [string, { body?: string; contentType?: string }, number, string][] = [
      [`no.such.method?${auth}`, {}, 404, 'ERROR_METHOD_NOT_FOUND'],
      ['profile?auth=olb_wrong', {}, 401, 'invalid_token'],
      ['profile', {}, 401, 'invalid_token'],
      [`profile?${auth}&start=-1`, {}, 200, ''],
      [`imconnector.send.messages?${auth}`, {}, 400, 'ERROR_ARGUMENT'],
      [
        `imconnector.send.messages?${auth}`,
        {
          body: 'CONNECTOR=myconnector&LINE=1&MESSAGES[0][user][id]]]]=x&MESSAGES[[[=y',
          contentType: 'application/x-www-form-urlencoded',
        },
        400,
        '',
      ],
      [
        `imopenlines.config.add?${auth}`,
        { body: `PARAMS${'[a]'.repeat(20)}=1`, contentType: 'application/x-www-form-urlencoded' },
        400,
        'ERROR_ARGUMENT',
      ],
      [
        `imopenlines.config.add?${auth}`,
        { body: `${'{"a":'.repeat(40)}1${'}'.repeat(40)}` },
        400,
        'ERROR_ARGUMENT',
      ],
      [`imopenlines.config.add?${auth}`, { body: '{"PARAMS": ' }, 400, 'ERROR_ARGUMENT'],
      [
        `imopenlines.config.add?${auth}`,
        { body: 'PARAMS', contentType: 'text/plain' },
        400,
        'ERROR_ARGUMENT',
      ],
      [`imopenlines.operator.finish?${auth}&CHAT_ID=999999`, {}, 404, 'NOT_FOUND'],
      [`imopenlines.operator.finish?${auth}&CHAT_ID=abc`, {}, 400, 'ERROR_ARGUMENT'],
      [`imconnector.activate?${auth}&CONNECTOR=myconnector&LINE=999999&ACTIVE=1`, {}, 404, 'NOT_FOUND'],
      [`imconnector.status?${auth}&CONNECTOR=nobody&LINE=1`, {}, 400, 'CONNECTOR_NOT_FOUND'],
      [
        `event.bind?${auth}&event=OnSomethingElse&handler=http://127.0.0.1/x`,
        {},
        400,
        'ERROR_EVENT_NOT_FOUND',
      ],
      [`imopenlines.config.update?${auth}&PARAMS[LINE_NAME]=x`, {}, 400, 'CONFIG_ID_EMPTY'],
    ];
    for (const [path, init, status, code] of cases) {
      const response = await rest(server, path, init);
      if (status === 200) {
        // A bad `start` on a method that pages nothing is simply not read.
        expect(response.status, path).toBeLessThan(500);
        continue;
      }
      expect(response.status, path).toBe(status);
      if (code) expect(response.body.error, path).toBe(code);
      expect(typeof response.body.error_description, path).toBe('string');
    }
    // A foreign line's id finds nothing: config.get answers false, as Bitrix24 does.
    expect((await rest(server, `imopenlines.config.get?${auth}&CONFIG_ID=999999`)).body.result).toBe(false);
  });

  it('keeps accounts apart: another account’s line and chat ids find nothing', async () => {
    const email = uniqueEmail('other');
    await createAccount(server.ctx, {
      accountName: 'Other',
      admin: { email, name: 'Other', password: 'correct horse battery' },
    });
    const other = await signIn(server, { email, password: 'correct horse battery' });
    const otherApp = await issueApp(other);
    const otherCall = bitrixClient(server, otherApp.accessToken);
    const { result: lines } = await call('imopenlines.config.list.get');
    const mine = lines[0].ID;
    expect((await otherCall('imopenlines.config.get', { CONFIG_ID: mine })).result).toBe(false);
    const { result: theirs } = await otherCall('imopenlines.config.list.get');
    expect(theirs.map((line: { ID: string }) => line.ID)).not.toContain(mine);
    const finish = await rest(
      server,
      `imopenlines.config.delete?auth=${otherApp.accessToken}&CONFIG_ID=${mine}`,
    );
    expect(finish.status).toBe(404);
    expect((await call('imopenlines.config.get', { CONFIG_ID: mine })).result).not.toBe(false);
  });

  it('serves incoming webhooks with their user’s permissions, and refuses them imconnector.*', async () => {
    const forAdmin = await issueWebhook(admin);
    expect(forAdmin.path).toMatch(/^\/rest\/\d+\/olh_[\w-]+\/$/);
    const viaHook = Bitrix(`${server.url}${forAdmin.path.replace(/\/$/, '')}`);
    const profile = (await (viaHook.call as unknown as Call)('profile')).result;
    expect(profile).toMatchObject({ ID: String(forAdmin.webhook.numericUserId), ADMIN: true });

    const connector = await rest(server, `${forAdmin.path.slice('/rest/'.length)}imconnector.list.json`);
    expect(connector.status).toBe(403);
    expect(connector.body.error).toBe('WRONG_AUTH_TYPE');

    const forOperator = await issueWebhook(admin, operator.user.id);
    const denied = await rest(server, `${forOperator.path.slice('/rest/'.length)}imopenlines.config.add`, {
      body: JSON.stringify({ PARAMS: { LINE_NAME: 'Not allowed' } }),
    });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe('ACCESS_DENIED');

    const wrongSecret = forAdmin.path.replace(/olh_[\w-]+/, 'olh_wrong');
    expect((await rest(server, `${wrongSecret.slice('/rest/'.length)}profile`)).status).toBe(401);
    const wrongUser = forAdmin.path.replace(/^\/rest\/\d+/, `/rest/${forOperator.webhook.numericUserId}`);
    expect((await rest(server, `${wrongUser.slice('/rest/'.length)}profile`)).body.error).toBe(
      'invalid_token',
    );

    // Only an administrator with manageIntegrations issues credentials.
    const refused = await problemOf(
      operator.client.request('POST', '/bitrix24/webhooks', { body: { name: 'Mine' } }),
    );
    expect(refused.status).toBe(403);
  });
});

describe('Bitrix24-compatible REST: the leaky bucket', () => {
  let server: TestServer;
  const clock = new FakeClock('2026-01-05T09:00:00Z');

  beforeAll(async () => {
    server = await createTestServer({ clock, workers: false });
  });
  afterAll(async () => server.stop());

  it('takes 50 requests at once, then answers 503 QUERY_LIMIT_EXCEEDED until it drains (2 a second)', async () => {
    const admin = await signIn(server);
    const app = await issueApp(admin);
    const profile = () => rest(server, `profile?auth=${app.accessToken}`);
    const answers = [];
    for (let index = 0; index < 50; index++) answers.push((await profile()).status);
    expect(answers.every((status) => status === 200)).toBe(true);
    const refused = await profile();
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('QUERY_LIMIT_EXCEEDED');
    clock.advance(500);
    expect((await profile()).status).toBe(200);
    expect((await profile()).status).toBe(503);
    // A wrong token is refused before it is counted: it cannot drain someone else's bucket.
    expect((await rest(server, 'profile?auth=olb_wrong')).status).toBe(401);
  });
});
