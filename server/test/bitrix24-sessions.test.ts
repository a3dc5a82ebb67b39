import { Bitrix } from '@2bad/bitrix';
import type { OpenlinesClient } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSignedInUser,
  createTestServer,
  type SignedInUser,
  signIn,
  type TestServer,
  waitFor,
} from './harness';

// imopenlines.session.* (join, intercept, head.vote, history.get), operator.another.finish and
// crm.lead.create of the Bitrix24-compatible REST (PL-4), through a real Bitrix24 client
// (@2bad/bitrix) against a running server, on a dialog that came in through a connector.

type Json = ReturnType<typeof JSON.parse>;
type Call = (method: string, params?: object) => Promise<{ result: Json }>;

function bitrixClient(server: TestServer, accessToken: string): Call {
  const call = Bitrix(`${server.url}/rest`).call as unknown as Call;
  return (method, params = {}) => call(method, { ...params, auth: accessToken });
}

async function rest(server: TestServer, path: string, body: object): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${server.url}/rest/${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return { status: response.status, body: await response.json() };
}

async function issueApp(admin: OpenlinesClient, userId?: string) {
  return admin.request<{ accessToken: string }>('POST', '/bitrix24/apps', {
    body: { name: 'Supervisor app', ...(userId ? { userId } : {}) },
  });
}

describe('Bitrix24-compatible REST: sessions of a supervisor', () => {
  let server: TestServer;
  let admin: OpenlinesClient;
  let operator: SignedInUser;
  let call: Call;
  let operatorCall: Call;
  let operatorToken: string;
  let adminToken: string;
  let chatId: number;
  let sessionId: number;
  let dialogId: string;

  beforeAll(async () => {
    server = await createTestServer();
    admin = await signIn(server);
    operator = await createSignedInUser(server, admin, 'operator');
    adminToken = (await issueApp(admin)).accessToken;
    operatorToken = (await issueApp(admin, operator.user.id)).accessToken;
    call = bitrixClient(server, adminToken);
    operatorCall = bitrixClient(server, operatorToken);
    const users = (await call('user.get')).result;
    const operatorNumber = users.find((user: { EMAIL: string }) => user.EMAIL === operator.email).ID;
    const line = (
      await call('imopenlines.config.add', {
        PARAMS: {
          LINE_NAME: 'Sessions line',
          QUEUE: [operatorNumber],
          CHECK_AVAILABLE: 'N',
          WELCOME_MESSAGE: 'N',
          VOTE_MESSAGE: 'N',
          CRM: 'Y',
          CRM_CREATE: 'none',
        },
      })
    ).result;
    await call('imconnector.register', { ID: 'sessions', NAME: 'Sessions', ICON: { DATA_IMAGE: 'x' } });
    await call('imconnector.activate', { CONNECTOR: 'sessions', LINE: line, ACTIVE: 1 });
    const sent = await call('imconnector.send.messages', {
      CONNECTOR: 'sessions',
      LINE: line,
      MESSAGES: [
        {
          user: { id: 'u-1', name: 'Pavel' },
          message: { id: 'm-1', text: 'My parcel is late' },
          chat: { id: 'c-1' },
        },
      ],
    });
    chatId = Number(sent.result.DATA.RESULT[0].session.CHAT_ID);
    sessionId = Number(sent.result.DATA.RESULT[0].session.ID);
    await waitFor(async () => {
      const page = await operator.client.dialogs.list({ view: 'all' });
      dialogId = page.items.find((item) => item.lastMessagePreview === 'My parcel is late')?.id ?? '';
      return dialogId !== '';
    }, 'the dialog for the operator');
    const dialog = await operator.client.dialogs.get(dialogId);
    if (dialog.session?.status === 'queued') await operator.client.dialogs.take(dialogId);
    await operator.client.dialogs.send(dialogId, { text: 'Let me check, Pavel.' });
  });
  afterAll(async () => server.stop());

  it('reads the chat’s history keyed by numeric ids', async () => {
    const { result } = await call('imopenlines.session.history.get', {
      CHAT_ID: chatId,
      SESSION_ID: sessionId,
    });
    expect(result).toMatchObject({ chatId, sessionId });
    const messages = Object.values(result.message) as { text: string; author_id: number; chat_id: number }[];
    expect(messages.map((message) => message.text)).toEqual(['My parcel is late', 'Let me check, Pavel.']);
    expect(messages.every((message) => message.chat_id === chatId)).toBe(true);
    const names = Object.values(result.users).map((user) => (user as { name: string }).name);
    expect(names).toEqual(expect.arrayContaining(['Pavel', 'Test operator']));
  });

  it('joins, rates and intercepts as a supervisor, and finishes another operator’s chat', async () => {
    expect((await call('imopenlines.session.join', { CHAT_ID: chatId })).result).toBe(true);
    let dialog = await admin.dialogs.get(dialogId);
    expect(dialog.session?.participantIds).toContain((await admin.auth.me()).user.id);

    expect(
      (await call('imopenlines.session.head.vote', { SESSION_ID: sessionId, RATING: 4, COMMENT: 'Polite' }))
        .result,
    ).toBe(true);
    dialog = await admin.dialogs.get(dialogId);
    expect(dialog.session?.supervisorRating).toMatchObject({ value: 4, comment: 'Polite' });
    // An operator may not rate.
    const denied = await rest(server, 'imopenlines.session.head.vote.json', {
      auth: operatorToken,
      SESSION_ID: sessionId,
      RATING: 5,
    });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe('ACCESS_DENIED');

    expect((await call('imopenlines.crm.lead.create', { CHAT_ID: chatId })).result).toBe(true);
    const leads = await admin.crm.leads.list();
    const lead = leads.items.find((item) => item.title.startsWith('Pavel'));
    expect(lead).toBeDefined();
    expect((await admin.crm.dialogCard(dialogId)).session.leadId).toBe(lead!.id);

    expect((await call('imopenlines.session.intercept', { CHAT_ID: chatId })).result).toBe(true);
    dialog = await admin.dialogs.get(dialogId);
    expect(dialog.session?.operatorId).toBe((await admin.auth.me()).user.id);
    // The operator no longer holds it: finishing it is not theirs to do.
    const notTheirs = await rest(server, 'imopenlines.operator.finish.json', {
      auth: operatorToken,
      CHAT_ID: chatId,
    });
    expect(notTheirs.status).toBeGreaterThanOrEqual(400);
    expect(notTheirs.status).toBeLessThan(500);

    expect((await call('imopenlines.operator.another.finish', { CHAT_ID: chatId })).result).toBe(true);
    expect((await admin.dialogs.get(dialogId)).session?.status).toBe('closed');
  });

  it('refuses bad session calls with Bitrix24 errors', async () => {
    const cases: [string, object, number, string][] = [
      ['imopenlines.session.head.vote', { SESSION_ID: sessionId, RATING: 9 }, 400, 'ERROR_ARGUMENT'],
      ['imopenlines.session.head.vote', { SESSION_ID: sessionId }, 400, 'ERROR_ARGUMENT'],
      ['imopenlines.session.head.vote', { RATING: 3 }, 400, 'ERROR_ARGUMENT'],
      ['imopenlines.session.head.vote', { SESSION_ID: 999999, RATING: 3 }, 404, 'NOT_FOUND'],
      ['imopenlines.session.history.get', { CHAT_ID: 999999 }, 404, 'NOT_FOUND'],
      ['imopenlines.session.history.get', { CHAT_ID: 'abc' }, 400, 'ERROR_ARGUMENT'],
      ['imopenlines.session.join', { CHAT_ID: chatId }, 400, 'ERROR_WRONG_STATE'],
      ['imopenlines.crm.lead.create', {}, 400, 'ERROR_ARGUMENT'],
    ];
    for (const [method, params, status, code] of cases) {
      const response = await rest(server, `${method}.json`, { auth: adminToken, ...params });
      expect(response.status, `${method} ${JSON.stringify(params)}`).toBe(status);
      expect(response.body.error, `${method} ${JSON.stringify(params)}`).toBe(code);
    }
    // The operator's app sees only what the operator sees.
    expect((await operatorCall('profile')).result.ADMIN).toBe(false);
  });
});
