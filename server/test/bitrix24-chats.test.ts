import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Bitrix } from '@2bad/bitrix';
import type { OpenlinesClient } from '@openlines/sdk';
import { parse } from 'qs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../src/services/accounts';
import {
  createSignedInUser,
  createTestServer,
  signIn,
  type TestServer,
  uniqueEmail,
  waitFor,
} from './harness';

// The chat and session methods of the Bitrix24-compatible REST (PL-4) against a running server,
// through a real Bitrix24 client (@2bad/bitrix): OnImConnectorDialogStart / Finish delivered
// form-encoded from the outbox, imconnector.chat.name.set, imopenlines.session.open / start,
// session.mode.pinAll / unpinAll and imopenlines.crm.chat.*; bad input and other accounts' ids.

type Json = ReturnType<typeof JSON.parse>;
type Call = (method: string, params?: object) => Promise<{ result: Json }>;

interface Received {
  contentType: string | undefined;
  body: Record<string, Json>;
}

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

function bitrixClient(server: TestServer, accessToken: string): Call {
  const call = Bitrix(`${server.url}/rest`).call as unknown as Call;
  return (method, params = {}) => call(method, { ...params, auth: accessToken });
}

/** A call with a JSON body (or a form body when `form` is set), answering status and parsed body. */
async function rest(
  server: TestServer,
  method: string,
  params: Record<string, unknown>,
  form = false,
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${server.url}/rest/${method}.json`, {
    method: 'POST',
    headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' },
    body: form
      ? new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString()
      : JSON.stringify(params),
  });
  return { status: response.status, body: await response.json() };
}

async function issueApp(admin: OpenlinesClient) {
  return admin.request<{ accessToken: string; applicationToken: string }>('POST', '/bitrix24/apps', {
    body: { name: 'Chats app' },
  });
}

describe('Bitrix24-compatible REST: chats, sessions and their events', () => {
  let server: TestServer;
  let admin: OpenlinesClient;
  let handler: Awaited<ReturnType<typeof startHandler>>;
  let app: Awaited<ReturnType<typeof issueApp>>;
  let call: Call;
  let line: number;
  let chatId: number;
  let firstSession: number;
  let dialogId: string;
  let leadNumber: number;

  const events = (name: string) => handler.received.filter((item) => item.body.event === name);
  const dialogEventOf = async (name: string, session: number) => {
    const match = (item: Received) =>
      item.body.event === name && item.body.data.DATA[0].session.id === String(session);
    await waitFor(() => handler.received.some(match), `${name} of session ${session}`);
    return handler.received.find(match)!;
  };

  beforeAll(async () => {
    server = await createTestServer();
    admin = await signIn(server);
    handler = await startHandler();
    app = await issueApp(admin);
    call = bitrixClient(server, app.accessToken);
    const me = (await call('profile')).result;
    line = (
      await call('imopenlines.config.add', {
        PARAMS: {
          LINE_NAME: 'Chats line',
          QUEUE: [me.ID],
          CHECK_AVAILABLE: 'N',
          WELCOME_MESSAGE: 'N',
          VOTE_MESSAGE: 'N',
          CRM: 'Y',
          CRM_CREATE: 'none',
        },
      })
    ).result;
    await call('imconnector.register', { ID: 'chats', NAME: 'Chats', ICON: { DATA_IMAGE: 'x' } });
    for (const event of ['OnImConnectorDialogStart', 'OnImConnectorDialogFinish', 'OnImConnectorMessageAdd'])
      await call('event.bind', { event, handler: handler.url });
    await call('imconnector.activate', { CONNECTOR: 'chats', LINE: line, ACTIVE: 'Y' });
    const sent = await call('imconnector.send.messages', {
      CONNECTOR: 'chats',
      LINE: line,
      MESSAGES: [
        {
          user: { id: 'u|1', name: 'Irina' },
          message: { id: 'm-1', text: 'Where is my order?' },
          chat: { id: 'c 1' },
        },
      ],
    });
    chatId = Number(sent.result.DATA.RESULT[0].session.CHAT_ID);
    firstSession = Number(sent.result.DATA.RESULT[0].session.ID);
    await waitFor(async () => {
      const page = await admin.dialogs.list({ view: 'all' });
      dialogId = page.items.find((item) => item.lastMessagePreview === 'Where is my order?')?.id ?? '';
      return dialogId !== '';
    }, 'the dialog');
    const dialog = await admin.dialogs.get(dialogId);
    if (dialog.session?.status === 'queued') await call('imopenlines.operator.answer', { CHAT_ID: chatId });
  });
  afterAll(async () => {
    handler.server.closeAllConnections();
    await new Promise((resolve) => handler.server.close(resolve));
    await server.stop();
  });

  it('tells the connector a session started, form-encoded, naming the chat both ways', async () => {
    const start = await dialogEventOf('ONIMCONNECTORDIALOGSTART', firstSession);
    expect(start.contentType).toBe('application/x-www-form-urlencoded');
    expect(start.body).toMatchObject({
      event: 'ONIMCONNECTORDIALOGSTART',
      data: {
        CONNECTOR: 'chats',
        LINE: String(line),
        DATA: {
          0: {
            connector: { connector_id: 'chats', line_id: String(line), chat_id: 'c 1', user_id: 'u|1' },
            session: { id: String(firstSession), closed: 'N' },
            chat: { id: String(chatId) },
          },
        },
      },
      auth: { application_token: app.applicationToken },
    });
    // Once per session, not per message.
    await call('imconnector.send.messages', {
      CONNECTOR: 'chats',
      LINE: line,
      MESSAGES: [{ user: { id: 'u|1' }, message: { id: 'm-2', text: 'Hello?' }, chat: { id: 'c 1' } }],
    });
    await admin.dialogs.send(dialogId, { text: 'On its way.' });
    await waitFor(
      () =>
        events('ONIMCONNECTORMESSAGEADD').some((item) =>
          String(item.body.data.MESSAGES[0].message.text).includes('On its way.'),
        ),
      'the answer through the connector',
    );
    expect(
      events('ONIMCONNECTORDIALOGSTART').filter((item) => item.body.data.DATA[0].chat.id === String(chatId)),
    ).toHaveLength(1);
  });

  it('finds the chat of a USER_CODE with session.open', async () => {
    const { result: dialog } = await call('imopenlines.dialog.get', { CHAT_ID: chatId });
    expect(dialog.entity_id).toMatch(new RegExp(`^chats\\|${line}\\|c 1\\|\\d+$`));
    expect((await call('imopenlines.session.open', { USER_CODE: dialog.entity_id })).result).toEqual({
      chatId,
    });
    const cases: [Record<string, unknown>, number, string][] = [
      [{}, 400, 'ERROR_ARGUMENT'],
      [{ USER_CODE: 'chats|x|c 1|y' }, 400, 'ERROR_ARGUMENT'],
      [{ USER_CODE: `chats|${line}|c 1|999999` }, 404, 'NOT_FOUND'],
      [{ USER_CODE: `other|${line}|c 1|${dialog.entity_id.split('|')[3]}` }, 404, 'NOT_FOUND'],
    ];
    for (const [params, status, code] of cases) {
      const response = await rest(server, 'imopenlines.session.open', { auth: app.accessToken, ...params });
      expect(response.status, JSON.stringify(params)).toBe(status);
      expect(response.body.error, JSON.stringify(params)).toBe(code);
    }
  });

  it('pins and unpins every chat the caller holds', async () => {
    expect((await call('imopenlines.session.mode.pinAll')).result).toEqual([firstSession]);
    expect((await admin.dialogs.get(dialogId)).session?.pinned).toBe(true);
    expect((await admin.dialogs.get(dialogId)).pinnedOperatorId).toBe((await admin.auth.me()).user.id);
    // Nothing left to pin.
    expect((await call('imopenlines.session.mode.pinAll')).result).toEqual([]);
    expect((await call('imopenlines.session.mode.unpinAll')).result).toEqual([firstSession]);
    const dialog = await admin.dialogs.get(dialogId);
    expect(dialog.session?.pinned).toBe(false);
    expect(dialog.pinnedOperatorId).toBeNull();
  });

  it('renames the chat with imconnector.chat.name.set', async () => {
    const renamed = await rest(
      server,
      'imconnector.chat.name.set',
      { auth: app.accessToken, CONNECTOR: 'chats', LINE: line, CHAT_ID: 'c 1', NAME: 'Irina (order 42)' },
      true,
    );
    expect(renamed.body.result).toBe(true);
    expect((await call('imopenlines.dialog.get', { CHAT_ID: chatId })).result.name).toBe('Irina (order 42)');
    expect((await admin.dialogs.get(dialogId)).client.name).toBe('Irina (order 42)');
    const cases: [Record<string, unknown>, number, string][] = [
      [{ CONNECTOR: 'chats', LINE: line, CHAT_ID: 'c 1' }, 400, 'ERROR_ARGUMENT'],
      [{ CONNECTOR: 'chats', LINE: line, NAME: 'x' }, 400, 'ERROR_ARGUMENT'],
      [{ CONNECTOR: 'chats', LINE: line, CHAT_ID: 'nobody', NAME: 'x' }, 404, 'NOT_FOUND'],
      [{ CONNECTOR: 'chats', LINE: line, CHAT_ID: 'c 1', USER_ID: 'someone', NAME: 'x' }, 404, 'NOT_FOUND'],
      [{ CONNECTOR: 'unknown', LINE: line, CHAT_ID: 'c 1', NAME: 'x' }, 400, 'CONNECTOR_NOT_FOUND'],
      [{ CONNECTOR: 'chats', LINE: 999999, CHAT_ID: 'c 1', NAME: 'x' }, 400, 'NOT_ACTIVE_LINE'],
    ];
    for (const [params, status, code] of cases) {
      const response = await rest(server, 'imconnector.chat.name.set', { auth: app.accessToken, ...params });
      expect(response.status, JSON.stringify(params)).toBe(status);
      expect(response.body.error, JSON.stringify(params)).toBe(code);
    }
    // By chat and user, form-encoded as well.
    const byUser = await rest(
      server,
      'imconnector.chat.name.set',
      {
        auth: app.accessToken,
        CONNECTOR: 'chats',
        LINE: line,
        CHAT_ID: 'c 1',
        USER_ID: 'u|1',
        NAME: 'Irina',
      },
      true,
    );
    expect(byUser.body.result).toBe(true);
    expect((await admin.dialogs.get(dialogId)).client.name).toBe('Irina');
  });

  it('lets the connector change a client’s message with imconnector.update.messages', async () => {
    const before = (await admin.dialogs.messages(dialogId)).length;
    const user = { id: 'u|1' };
    const chat = { id: 'c 1' };
    const updated = await call('imconnector.update.messages', {
      CONNECTOR: 'chats',
      LINE: line,
      MESSAGES: [{ user, message: { id: 'm-1', text: 'Where is my order #42?' }, chat }],
    });
    expect(updated.result).toMatchObject({ SUCCESS: true, DATA: { RESULT: [{ SUCCESS: true }] } });
    const messages = await admin.dialogs.messages(dialogId);
    const edited = messages.find((item) => item.text === 'Where is my order #42?');
    expect(edited).toMatchObject({ authorKind: 'client' });
    expect(edited?.editedAt).toBeTruthy();
    expect(messages).toHaveLength(before);

    const bad = await call('imconnector.update.messages', {
      CONNECTOR: 'chats',
      LINE: line,
      MESSAGES: [
        { user, message: { id: 'unknown', text: 'x' }, chat },
        { user, message: { text: 'x' }, chat },
        { user, message: { id: 'm-1', text: 'x', date: 'soon' }, chat },
      ],
    });
    expect(bad.result.SUCCESS).toBe(false);
    expect(
      bad.result.DATA.RESULT.map((item: { ERRORS: { code: string }[] }) => item.ERRORS[0]!.code),
    ).toEqual(['NOT_FOUND', 'ERROR_ARGUMENT', 'ERROR_ARGUMENT']);
    // Nothing was stored as a new message.
    expect(await admin.dialogs.messages(dialogId)).toHaveLength(before);
  });

  it('lets the connector withdraw a client’s message with imconnector.delete.messages', async () => {
    const before = await admin.dialogs.messages(dialogId);
    const target = before.find((item) => item.text === 'Hello?');
    expect(target).toMatchObject({ authorKind: 'client', deletedAt: null });
    // Form-encoded with PHP-style keys, as connectors send it.
    const form = (id: string, user = 'u|1') =>
      new URLSearchParams({
        auth: app.accessToken,
        CONNECTOR: 'chats',
        LINE: String(line),
        'MESSAGES[0][user][id]': user,
        'MESSAGES[0][message][id]': id,
        'MESSAGES[0][chat][id]': 'c 1',
      }).toString();
    const post = async (body: string) => {
      const response = await fetch(`${server.url}/rest/imconnector.delete.messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      return { status: response.status, body: await response.json() };
    };
    const deleted = await post(form('m-2'));
    expect(deleted.status).toBe(200);
    expect(deleted.body.result).toMatchObject({
      SUCCESS: true,
      DATA: { RESULT: [{ SUCCESS: true, message: { id: 'm-2' }, chat: { id: 'c 1' } }] },
    });
    const after = await admin.dialogs.messages(dialogId);
    expect(after).toHaveLength(before.length);
    const gone = after.find((item) => item.id === target!.id);
    expect(gone?.deletedAt).toBeTruthy();
    expect(gone?.text).toBeNull();
    // The event log keeps no copy of the text; operators heard of the deletion as message.updated.
    const logged = await server.ctx.store.db
      .selectFrom('events')
      .select(['type', 'data'])
      .where('dialog_id', '=', dialogId)
      .where('type', 'in', ['message.created', 'message.updated'])
      .execute();
    const ofTarget = logged.filter(
      (event) => (event.data as { message?: { id: string } }).message?.id === target!.id,
    );
    expect(ofTarget.map((event) => event.type)).toContain('message.updated');
    expect(JSON.stringify(ofTarget)).not.toContain('Hello?');
    // The same deletion again succeeds and changes nothing.
    expect((await post(form('m-2'))).body.result.SUCCESS).toBe(true);

    // Another client's message, an unknown id, a missing field: that element fails, the rest pass.
    const bad = await call('imconnector.delete.messages', {
      CONNECTOR: 'chats',
      LINE: line,
      MESSAGES: [
        { user: { id: 'u|2' }, message: { id: 'm-1' }, chat: { id: 'c 1' } },
        { user: { id: 'u|1' }, message: { id: 'unknown' }, chat: { id: 'c 1' } },
        { user: { id: 'u|1' }, message: { id: 'm-1' } },
      ],
    });
    expect(bad.result.SUCCESS).toBe(false);
    expect(
      bad.result.DATA.RESULT.map((item: { ERRORS: { code: string }[] }) => item.ERRORS[0]!.code),
    ).toEqual(['NOT_FOUND', 'NOT_FOUND', 'ERROR_ARGUMENT']);
    expect((await admin.dialogs.messages(dialogId)).filter((item) => item.deletedAt)).toHaveLength(1);
    const unknownLine = await rest(server, 'imconnector.delete.messages', {
      auth: app.accessToken,
      CONNECTOR: 'chats',
      LINE: 999999,
      MESSAGES: [{ user: { id: 'u|1' }, message: { id: 'm-1' }, chat: { id: 'c 1' } }],
    });
    expect(unknownLine.body.error).toBe('NOT_ACTIVE_LINE');
  });

  it('finds a CRM record’s chats and adds and removes colleagues there (imopenlines.crm.chat.*)', async () => {
    expect((await call('imopenlines.crm.lead.create', { CHAT_ID: chatId })).result).toBe(true);
    const { result: dialog } = await call('imopenlines.dialog.get', { CHAT_ID: chatId });
    const lead = dialog.crm_bindings.find(
      (item: { CRM_ENTITY_TYPE: string }) => item.CRM_ENTITY_TYPE === 'LEAD',
    );
    expect(Number.isInteger(lead?.CRM_ENTITY)).toBe(true);
    leadNumber = lead.CRM_ENTITY;
    const entity = { CRM_ENTITY_TYPE: 'lead', CRM_ENTITY: leadNumber };
    expect((await call('imopenlines.crm.chat.get', entity)).result).toEqual([
      { CHAT_ID: String(chatId), CONNECTOR_ID: 'chats', CONNECTOR_TITLE: 'Chats' },
    ]);
    expect(
      (await call('imopenlines.crm.chat.getLastId', { ...entity, CRM_ENTITY_TYPE: 'LEAD' })).result,
    ).toBe(chatId);

    const colleague = await createSignedInUser(server, admin, 'operator');
    const users = (await call('user.get')).result;
    const colleagueNumber = Number(
      users.find((user: { EMAIL: string }) => user.EMAIL === colleague.email).ID,
    );
    expect(
      (await call('imopenlines.crm.chat.user.add', { ...entity, USER_ID: colleagueNumber })).result,
    ).toBe(chatId);
    expect((await admin.dialogs.get(dialogId)).session?.participantIds).toContain(colleague.user.id);
    expect(
      (
        await call('imopenlines.crm.chat.user.delete', {
          ...entity,
          CHAT_ID: chatId,
          USER_ID: colleagueNumber,
        })
      ).result,
    ).toBe(true);
    expect((await admin.dialogs.get(dialogId)).session?.participantIds).not.toContain(colleague.user.id);

    // Another chat of the connector, not linked to the lead.
    const other = await call('imconnector.send.messages', {
      CONNECTOR: 'chats',
      LINE: line,
      MESSAGES: [{ user: { id: 'u2' }, message: { id: 'm-9', text: 'Hi' }, chat: { id: 'c2' } }],
    });
    const otherChat = Number(other.result.DATA.RESULT[0].session.CHAT_ID);
    const cases: [string, Record<string, unknown>, number, string][] = [
      [
        'imopenlines.crm.chat.get',
        { CRM_ENTITY_TYPE: 'invoice', CRM_ENTITY: leadNumber },
        400,
        'ERROR_ARGUMENT',
      ],
      ['imopenlines.crm.chat.get', { CRM_ENTITY_TYPE: 'lead' }, 400, 'ERROR_ARGUMENT'],
      ['imopenlines.crm.chat.get', { CRM_ENTITY_TYPE: 'lead', CRM_ENTITY: 999999 }, 404, 'NOT_FOUND'],
      // A number of another kind (the chat's own) is no lead.
      ['imopenlines.crm.chat.getLastId', { CRM_ENTITY_TYPE: 'lead', CRM_ENTITY: chatId }, 404, 'NOT_FOUND'],
      [
        'imopenlines.crm.chat.user.add',
        { ...entity, USER_ID: colleagueNumber, CHAT_ID: otherChat },
        400,
        'CHAT_NOT_IN_CRM',
      ],
      ['imopenlines.crm.chat.user.add', { ...entity, USER_ID: 999999 }, 404, 'NOT_FOUND'],
      ['imopenlines.crm.chat.user.add', { ...entity }, 400, 'ERROR_ARGUMENT'],
      ['imopenlines.crm.chat.user.delete', { ...entity, USER_ID: colleagueNumber }, 400, 'ERROR_WRONG_STATE'],
    ];
    for (const [method, params, status, code] of cases) {
      const response = await rest(server, method, { auth: app.accessToken, ...params });
      expect(response.status, `${method} ${JSON.stringify(params)}`).toBe(status);
      expect(response.body.error, `${method} ${JSON.stringify(params)}`).toBe(code);
    }
    // Form-encoded, as PHP sends it.
    const form = await rest(
      server,
      'imopenlines.crm.chat.getLastId',
      { auth: app.accessToken, ...entity },
      true,
    );
    expect(form.body.result).toBe(chatId);
  });

  it('writes in a CRM record’s chat with imopenlines.crm.message.add', async () => {
    const me = (await call('profile')).result;
    const entity = { CRM_ENTITY_TYPE: 'lead', CRM_ENTITY: leadNumber, CHAT_ID: chatId };
    const added = await call('imopenlines.crm.message.add', {
      ...entity,
      USER_ID: me.ID,
      MESSAGE: 'Your lead is noted.',
    });
    expect(Number.isInteger(added.result)).toBe(true);
    const written = (await admin.dialogs.messages(dialogId)).find(
      (item) => item.text === 'Your lead is noted.',
    );
    expect(written).toMatchObject({ authorKind: 'operator', private: false });
    // It reaches the client through the connector like any operator message.
    await waitFor(
      () =>
        events('ONIMCONNECTORMESSAGEADD').some((item) =>
          String(item.body.data.MESSAGES[0].message.text).includes('Your lead is noted.'),
        ),
      'the CRM message through the connector',
    );
    const colleague = await createSignedInUser(server, admin, 'operator');
    const colleagueNumber = (await call('user.get')).result.find(
      (user: { EMAIL: string }) => user.EMAIL === colleague.email,
    ).ID;
    const cases: [Record<string, unknown>, number, string][] = [
      [{ ...entity, USER_ID: colleagueNumber, MESSAGE: 'x' }, 403, 'ACCESS_DENIED'],
      [{ ...entity, USER_ID: me.ID }, 400, 'ERROR_ARGUMENT'],
      [{ ...entity, CHAT_ID: undefined, USER_ID: me.ID, MESSAGE: 'x' }, 400, 'ERROR_ARGUMENT'],
      [{ ...entity, CHAT_ID: 999999, USER_ID: me.ID, MESSAGE: 'x' }, 404, 'NOT_FOUND'],
      [{ ...entity, CRM_ENTITY: 999999, USER_ID: me.ID, MESSAGE: 'x' }, 404, 'NOT_FOUND'],
    ];
    for (const [params, status, code] of cases) {
      const response = await rest(server, 'imopenlines.crm.message.add', {
        auth: app.accessToken,
        ...params,
      });
      expect(response.status, JSON.stringify(params)).toBe(status);
      expect(response.body.error, JSON.stringify(params)).toBe(code);
    }
    expect((await admin.dialogs.messages(dialogId)).filter((item) => item.text === 'x')).toHaveLength(0);
  });

  it('refuses silent mode, which Openlines does not have (imopenlines.session.mode.silent)', async () => {
    const on = await rest(server, 'imopenlines.session.mode.silent', {
      auth: app.accessToken,
      CHAT_ID: chatId,
      ACTIVATE: 'Y',
    });
    expect(on.status).toBe(400);
    expect(on.body).toMatchObject({ error: 'ERROR_ARGUMENT' });
    expect(on.body.error_description).toContain('not supported');
    const off = await rest(
      server,
      'imopenlines.session.mode.silent',
      { auth: app.accessToken, CHAT_ID: chatId, ACTIVATE: 'N' },
      true,
    );
    expect(off.body.result).toBe(true);
    const unknown = await rest(server, 'imopenlines.session.mode.silent', {
      auth: app.accessToken,
      CHAT_ID: 999999,
      ACTIVATE: 'N',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('NOT_FOUND');
  });

  it('tells the connector the session finished, and starts a new one with session.start', async () => {
    expect((await call('imopenlines.operator.finish', { CHAT_ID: chatId })).result).toBe(true);
    const finish = await dialogEventOf('ONIMCONNECTORDIALOGFINISH', firstSession);
    expect(finish.body.data).toMatchObject({
      CONNECTOR: 'chats',
      DATA: { 0: { session: { id: String(firstSession), closed: 'Y' }, chat: { id: String(chatId) } } },
    });

    expect((await call('imopenlines.session.start', { CHAT_ID: chatId })).result).toBe(true);
    const { result: reopened } = await call('imopenlines.dialog.get', { CHAT_ID: chatId });
    expect(reopened.session_state).toBe('assigned');
    expect(reopened.session_id).not.toBe(firstSession);
    await dialogEventOf('ONIMCONNECTORDIALOGSTART', reopened.session_id);
    // The operator writes first, and the connector gets it in the same chat.
    await admin.dialogs.send(dialogId, { text: 'Your order arrived.' });
    await waitFor(
      () =>
        events('ONIMCONNECTORMESSAGEADD').some(
          (item) =>
            String(item.body.data.MESSAGES[0].message.text).includes('Your order arrived.') &&
            item.body.data.MESSAGES[0].im.chat_id === String(chatId),
        ),
      'the operator’s first message',
    );

    const cases: [Record<string, unknown>, number, string][] = [
      [{ CHAT_ID: chatId }, 400, 'ERROR_WRONG_STATE'],
      [{ CHAT_ID: 999999 }, 404, 'NOT_FOUND'],
      [{}, 400, 'ERROR_ARGUMENT'],
    ];
    for (const [params, status, code] of cases) {
      const response = await rest(server, 'imopenlines.session.start', { auth: app.accessToken, ...params });
      expect(response.status, JSON.stringify(params)).toBe(status);
      expect(response.body.error, JSON.stringify(params)).toBe(code);
    }
  });

  it('tells the connector its channel was switched off or its line deleted (StatusDelete, LineDelete)', async () => {
    // Bound form-encoded, as connectors do it.
    for (const event of ['OnImConnectorStatusDelete', 'OnImConnectorLineDelete']) {
      const bound = await rest(
        server,
        'event.bind',
        { auth: app.accessToken, event, handler: handler.url },
        true,
      );
      expect(bound.body.result, event).toBe(true);
    }
    const other = (
      await call('imopenlines.config.add', { PARAMS: { LINE_NAME: 'Second line', WELCOME_MESSAGE: 'N' } })
    ).result;
    await call('imconnector.activate', { CONNECTOR: 'chats', LINE: other, ACTIVE: 'Y' });
    const channels = await admin.request<{ id: string; kind: string; settings: { line?: number } }[]>(
      'GET',
      '/channels',
    );
    const channel = channels.find((item) => item.kind === 'bitrix24' && item.settings.line === other)!;
    expect(channel).toBeDefined();
    const ofLine = (name: string) => events(name).filter((item) => item.body.data.LINE === String(other));

    // An administrator disconnects the channel in Openlines.
    await admin.request('PATCH', `/channels/${channel.id}`, { body: { status: 'disconnected' } });
    await waitFor(() => ofLine('ONIMCONNECTORSTATUSDELETE').length > 0, 'OnImConnectorStatusDelete');
    const statusDelete = ofLine('ONIMCONNECTORSTATUSDELETE')[0]!;
    expect(statusDelete.contentType).toBe('application/x-www-form-urlencoded');
    expect(statusDelete.body).toMatchObject({
      event: 'ONIMCONNECTORSTATUSDELETE',
      data: { CONNECTOR: 'chats', LINE: String(other) },
      auth: { application_token: app.applicationToken },
    });
    // Saving it disconnected again is no news.
    await admin.request('PATCH', `/channels/${channel.id}`, { body: { status: 'disconnected' } });

    // Active again, then the line is deleted.
    await call('imconnector.activate', { CONNECTOR: 'chats', LINE: other, ACTIVE: 'Y' });
    expect((await call('imopenlines.config.delete', { CONFIG_ID: other })).result).toBe(true);
    await waitFor(() => ofLine('ONIMCONNECTORLINEDELETE').length > 0, 'OnImConnectorLineDelete');
    expect(ofLine('ONIMCONNECTORLINEDELETE')[0]!.body).toMatchObject({
      event: 'ONIMCONNECTORLINEDELETE',
      data: { CONNECTOR: 'chats', LINE: String(other) },
      auth: { application_token: app.applicationToken },
    });
    expect(ofLine('ONIMCONNECTORSTATUSDELETE')).toHaveLength(1);
    expect(ofLine('ONIMCONNECTORLINEDELETE')).toHaveLength(1);
  });

  it('keeps another account’s calls away from these chats', async () => {
    const email = uniqueEmail('chats-other');
    await createAccount(server.ctx, {
      accountName: 'Other',
      admin: { email, name: 'Other', password: 'correct horse battery' },
    });
    const other = await signIn(server, { email, password: 'correct horse battery' });
    const otherApp = await issueApp(other);
    const { result: dialog } = await call('imopenlines.dialog.get', { CHAT_ID: chatId });
    for (const [method, params] of [
      ['imopenlines.session.open', { USER_CODE: dialog.entity_id }],
      ['imopenlines.session.start', { CHAT_ID: chatId }],
      ['imopenlines.session.mode.pin', { CHAT_ID: chatId }],
      ['imopenlines.session.mode.silent', { CHAT_ID: chatId, ACTIVATE: 'N' }],
      ['imopenlines.crm.chat.get', { CRM_ENTITY_TYPE: 'lead', CRM_ENTITY: leadNumber }],
      [
        'imopenlines.crm.message.add',
        { CRM_ENTITY_TYPE: 'lead', CRM_ENTITY: leadNumber, CHAT_ID: chatId, USER_ID: 1, MESSAGE: 'x' },
      ],
    ] as const) {
      const response = await rest(server, method, { auth: otherApp.accessToken, ...params });
      expect(response.status, method).toBe(404);
      expect(response.body.error, method).toBe('NOT_FOUND');
    }
    expect(
      (await bitrixClient(server, otherApp.accessToken)('imopenlines.session.mode.pinAll')).result,
    ).toEqual([]);
  });
});
