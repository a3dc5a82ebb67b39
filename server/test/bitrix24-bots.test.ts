import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Bitrix } from '@2bad/bitrix';
import type { OpenlinesClient } from '@openlines/sdk';
import { parse } from 'qs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSignedInUser,
  createTestServer,
  type SignedInUser,
  signIn,
  type TestServer,
  waitFor,
} from './harness';

// imbot.* and imopenlines.bot.session.* of the Bitrix24-compatible REST (PL-4) against a running
// server, driven by a real Bitrix24 client (@2bad/bitrix): a bot registered with imbot.register is
// a line's welcome bot, hears ONIMBOTJOINCHAT / ONIMBOTMESSAGEADD form-encoded on a local handler,
// answers first with imbot.message.add, and hands the client to the operators.

type Json = ReturnType<typeof JSON.parse>;
type Call = (method: string, params?: object) => Promise<{ result: Json; total?: number; next?: number }>;

interface Received {
  contentType: string | undefined;
  body: Record<string, Json>;
}

/** One local handler for the application's events: the connector's and the bot's. */
async function startHandler(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        contentType: request.headers['content-type'],
        body: parse(Buffer.concat(chunks).toString('utf8'), { parseArrays: false }) as Record<string, Json>,
      });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, received };
}

function bitrixClient(server: TestServer, accessToken: string): Call {
  const client = Bitrix(`${server.url}/rest`);
  const call = client.call as unknown as Call;
  return (method, params = {}) => call(method, { ...params, auth: accessToken });
}

async function rest(
  server: TestServer,
  path: string,
  body?: object,
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${server.url}/rest/${path}`, {
    method: body ? 'POST' : 'GET',
    ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  return { status: response.status, body: await response.json() };
}

async function issueApp(admin: OpenlinesClient) {
  return admin.request<{ app: { id: number }; accessToken: string; applicationToken: string }>(
    'POST',
    '/bitrix24/apps',
    { body: { name: 'Bot app' } },
  );
}

describe('Bitrix24-compatible REST: a chatbot answers first', () => {
  let server: TestServer;
  let admin: OpenlinesClient;
  let operator: SignedInUser;
  let handler: Awaited<ReturnType<typeof startHandler>>;
  let app: Awaited<ReturnType<typeof issueApp>>;
  let call: Call;
  let operatorNumber: string;
  let line: number;
  let botId: number;
  let clientSeq = 0;

  const events = (name: string) => handler.received.filter((item) => item.body.event === name);

  /** A new client writes on the connector; answers the chat's numeric id. */
  async function clientWrites(text: string): Promise<number> {
    clientSeq += 1;
    const sent = await call('imconnector.send.messages', {
      CONNECTOR: 'botconnector',
      LINE: line,
      MESSAGES: [
        {
          user: { id: `client-${clientSeq}`, name: 'Olga' },
          message: { id: `ext-${clientSeq}`, text },
          chat: { id: `chat-${clientSeq}` },
        },
      ],
    });
    expect(sent.result.SUCCESS).toBe(true);
    return Number(sent.result.DATA.RESULT[0].session.CHAT_ID);
  }

  async function botMessageOf(chatId: number): Promise<Received> {
    const match = (item: Received) =>
      item.body.event === 'ONIMBOTMESSAGEADD' && item.body.data.PARAMS.DIALOG_ID === `chat${chatId}`;
    await waitFor(() => handler.received.some(match), `ONIMBOTMESSAGEADD of chat${chatId}`);
    return handler.received.find(match)!;
  }

  beforeAll(async () => {
    server = await createTestServer();
    admin = await signIn(server);
    operator = await createSignedInUser(server, admin, 'operator');
    handler = await startHandler();
    app = await issueApp(admin);
    call = bitrixClient(server, app.accessToken);
    const users = await call('user.get');
    operatorNumber = users.result.find((user: { EMAIL: string }) => user.EMAIL === operator.email).ID;

    const registered = await call('imbot.register', {
      CODE: 'helper_bot',
      TYPE: 'O',
      OPENLINE: 'Y',
      EVENT_HANDLER: handler.url,
      PROPERTIES: { NAME: 'Helper', LAST_NAME: 'Bot', COLOR: 'GREEN' },
    });
    botId = registered.result;
    expect(Number.isInteger(botId)).toBe(true);

    line = (
      await call('imopenlines.config.add', {
        PARAMS: {
          LINE_NAME: 'Bot line',
          QUEUE: [operatorNumber],
          CHECK_AVAILABLE: 'N',
          WELCOME_MESSAGE: 'N',
          VOTE_MESSAGE: 'N',
          WELCOME_BOT_ENABLE: 'Y',
          WELCOME_BOT_ID: botId,
          WELCOME_BOT_JOIN: 'always',
          WELCOME_BOT_TIME: 0,
        },
      })
    ).result;
    await call('imconnector.register', {
      ID: 'botconnector',
      NAME: 'Bot connector',
      ICON: { DATA_IMAGE: 'x' },
    });
    await call('event.bind', { event: 'OnImConnectorMessageAdd', handler: handler.url });
    await call('imconnector.activate', { CONNECTOR: 'botconnector', LINE: line, ACTIVE: 'Y' });
  });
  afterAll(async () => {
    handler.server.closeAllConnections();
    await new Promise((resolve) => handler.server.close(resolve));
    await server.stop();
  });

  it('registers a bot that is one of the account’s bots and the line’s welcome bot', async () => {
    // The same CODE again answers the bot already registered.
    const again = await call('imbot.register', {
      CODE: 'helper_bot',
      EVENT_HANDLER: handler.url,
      PROPERTIES: { NAME: 'Helper' },
    });
    expect(again.result).toBe(botId);
    expect((await call('imbot.bot.list')).result).toEqual({
      [String(botId)]: { ID: botId, NAME: 'Helper Bot', CODE: 'helper_bot', TYPE: 'O', OPENLINE: 'Y' },
    });
    const ours = (await admin.bots.list()).find((bot) => bot.name === 'Helper Bot');
    expect(ours).toMatchObject({ kind: 'external', webhookUrl: handler.url });
    const config = (await call('imopenlines.config.get', { CONFIG_ID: line })).result;
    expect(config).toMatchObject({
      WELCOME_BOT_ENABLE: 'Y',
      WELCOME_BOT_ID: String(botId),
      WELCOME_BOT_JOIN: 'always',
      WELCOME_BOT_TIME: '0',
      WELCOME_BOT_LEFT: 'queue',
    });
  });

  it('tells the bot of the chat and the message, lets it answer first, then hands over to the operator', async () => {
    const chatId = await clientWrites('Hello, is anyone there?');
    const message = await botMessageOf(chatId);
    const joined = events('ONIMBOTJOINCHAT').find(
      (item) => item.body.data.PARAMS.DIALOG_ID === `chat${chatId}`,
    );
    expect(joined).toBeDefined();
    expect(message.contentType).toBe('application/x-www-form-urlencoded');
    expect(message.body).toMatchObject({
      event: 'ONIMBOTMESSAGEADD',
      data: {
        BOT: { [String(botId)]: { BOT_ID: String(botId), BOT_CODE: 'helper_bot' } },
        PARAMS: {
          MESSAGE: 'Hello, is anyone there?',
          DIALOG_ID: `chat${chatId}`,
          CHAT_ID: String(chatId),
          TO_CHAT_ID: String(chatId),
          CHAT_TYPE: 'L',
          CHAT_ENTITY_TYPE: 'LINES',
        },
        USER: { NAME: 'Olga', IS_BOT: 'N', IS_CONNECTOR: 'Y' },
      },
      auth: { application_token: app.applicationToken },
    });
    expect(message.body.data.BOT[String(botId)].AUTH.application_token).toBe(app.applicationToken);
    expect(message.body.data.PARAMS.CHAT_ENTITY_ID).toMatch(
      new RegExp(`^botconnector\\|${line}\\|chat-\\d+\\|\\d+$`),
    );
    expect(message.body.data.PARAMS.FROM_USER_ID).toBe(message.body.data.USER.ID);

    // The bot answers first: the client gets it through the connector, as an operator's message.
    expect((await call('imbot.chat.sendTyping', { BOT_ID: botId, DIALOG_ID: `chat${chatId}` })).result).toBe(
      true,
    );
    const added = await call('imbot.message.add', {
      BOT_ID: botId,
      DIALOG_ID: `chat${chatId}`,
      MESSAGE: 'Hi! I am the helper bot.',
      KEYBOARD: [{ TEXT: 'Talk to a person', COMMAND: 'operator' }],
    });
    expect(Number.isInteger(added.result)).toBe(true);
    const toClient = (item: Received) =>
      item.body.event === 'ONIMCONNECTORMESSAGEADD' &&
      String(item.body.data.MESSAGES[0].message.text).includes('Hi! I am the helper bot.');
    await waitFor(() => handler.received.some(toClient), 'the bot’s answer through the connector');
    const delivered = handler.received.find(toClient)!;
    expect(delivered.body.data.MESSAGES[0].im).toEqual({
      chat_id: String(chatId),
      message_id: String(added.result),
    });

    // The operators do not see it offered while the bot holds it.
    const { result: held } = await call('imopenlines.dialog.get', { CHAT_ID: chatId });
    expect(held.session_state).toBe('bot');

    // The bot hands the client to the operators.
    expect((await call('imopenlines.bot.session.operator', { CHAT_ID: chatId })).result).toBe(true);
    const { result: queued } = await call('imopenlines.dialog.get', { CHAT_ID: chatId });
    expect(['queued', 'assigned']).toContain(queued.session_state);
    // No longer the bot's: it cannot write there now.
    const late = await rest(server, 'imbot.message.add.json', {
      auth: app.accessToken,
      BOT_ID: botId,
      DIALOG_ID: `chat${chatId}`,
      MESSAGE: 'too late',
    });
    expect(late.status).toBe(400);
    expect(late.body.error).toBe('ERROR_WRONG_STATE');

    // The operator takes it from there, and the chat closes as any other.
    if (queued.session_state === 'queued') {
      expect((await call('imopenlines.operator.answer', { CHAT_ID: chatId })).result).toBe(true);
    }
    const dialogs = await operator.client.dialogs.list({ view: 'all' });
    const dialog = dialogs.items.find((item) => item.lastMessagePreview?.includes('helper bot'));
    expect(dialog?.session?.status).toBe('assigned');
    const messages = await operator.client.dialogs.messages(dialog!.id);
    expect(messages.map((item) => [item.authorKind, item.text])).toEqual(
      expect.arrayContaining([
        ['client', 'Hello, is anyone there?'],
        ['bot', 'Hi! I am the helper bot.'],
      ]),
    );
    expect((await call('imopenlines.operator.finish', { CHAT_ID: chatId })).result).toBe(true);
  });

  it('lets the bot edit and delete its own message, told to the connector as MessageUpdate/Delete', async () => {
    await call('event.bind', { event: 'OnImConnectorMessageUpdate', handler: handler.url });
    await call('event.bind', { event: 'OnImConnectorMessageDelete', handler: handler.url });
    const chatId = await clientWrites('When do you open?');
    await botMessageOf(chatId);
    const added = await call('imbot.message.add', {
      BOT_ID: botId,
      DIALOG_ID: `chat${chatId}`,
      MESSAGE: 'We open at 9.',
    });
    const ofMessage = (event: string) => (item: Received) =>
      item.body.event === event && item.body.data.MESSAGES[0].im.message_id === String(added.result);
    await waitFor(
      () => handler.received.some(ofMessage('ONIMCONNECTORMESSAGEADD')),
      'the bot’s message sent',
    );

    // A form-encoded update, as PHP connectors send it.
    const form = new URLSearchParams({
      auth: app.accessToken,
      BOT_ID: String(botId),
      MESSAGE_ID: String(added.result),
      MESSAGE: 'We open at 10.',
    });
    const updated = await fetch(`${server.url}/rest/imbot.message.update.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    expect(updated.status).toBe(200);
    expect((await updated.json()).result).toBe(true);
    await waitFor(() => handler.received.some(ofMessage('ONIMCONNECTORMESSAGEUPDATE')), 'the update event');
    const update = handler.received.find(ofMessage('ONIMCONNECTORMESSAGEUPDATE'))!;
    expect(update.contentType).toBe('application/x-www-form-urlencoded');
    expect(update.body.data).toMatchObject({
      CONNECTOR: 'botconnector',
      LINE: String(line),
      MESSAGES: {
        0: { im: { chat_id: String(chatId) }, message: { text: '[b]Helper Bot:[/b] [br]We open at 10.' } },
      },
    });
    expect(update.body.auth.application_token).toBe(app.applicationToken);
    const dialog = (await admin.dialogs.list({ view: 'all' })).items.find(
      (item) => item.lastMessagePreview === 'We open at 10.',
    );
    expect(dialog).toBeDefined();
    let stored = (await admin.dialogs.messages(dialog!.id)).find((item) => item.text === 'We open at 10.');
    expect(stored).toMatchObject({ authorKind: 'bot' });
    expect(stored?.editedAt).toBeTruthy();

    // Not the bot's message (the client's), another account's number, or no text: refused.
    const history = (await call('imopenlines.session.history.get', { CHAT_ID: chatId })).result;
    const clientMessage = Object.values(history.message).find(
      (item) => (item as { text: string }).text === 'When do you open?',
    ) as { id: number };
    const bad: [string, object, number, string][] = [
      [
        'imbot.message.update',
        { BOT_ID: botId, MESSAGE_ID: clientMessage.id, MESSAGE: 'x' },
        404,
        'NOT_FOUND',
      ],
      ['imbot.message.update', { BOT_ID: botId, MESSAGE_ID: 999999, MESSAGE: 'x' }, 404, 'NOT_FOUND'],
      ['imbot.message.update', { BOT_ID: botId, MESSAGE_ID: added.result }, 400, 'ERROR_ARGUMENT'],
      ['imbot.message.update', { BOT_ID: botId, MESSAGE: 'x' }, 400, 'ERROR_ARGUMENT'],
      [
        'imbot.message.update',
        { BOT_ID: botId, MESSAGE_ID: added.result, MESSAGE: 'x', ATTACH: [{}] },
        400,
        'ERROR_ARGUMENT',
      ],
      ['imbot.message.delete', { BOT_ID: botId, MESSAGE_ID: clientMessage.id }, 404, 'NOT_FOUND'],
      ['imbot.message.delete', { BOT_ID: 999999, MESSAGE_ID: added.result }, 400, 'BOT_ID_ERROR'],
    ];
    for (const [method, params, status, code] of bad) {
      const response = await rest(server, `${method}.json`, { auth: app.accessToken, ...params });
      expect(response.status, `${method} ${JSON.stringify(params)}`).toBe(status);
      expect(response.body.error, `${method} ${JSON.stringify(params)}`).toBe(code);
    }

    expect((await call('imbot.message.delete', { BOT_ID: botId, MESSAGE_ID: added.result })).result).toBe(
      true,
    );
    await waitFor(() => handler.received.some(ofMessage('ONIMCONNECTORMESSAGEDELETE')), 'the delete event');
    stored = (await admin.dialogs.messages(dialog!.id)).find((item) => item.id === stored!.id);
    expect(stored?.deletedAt).toBeTruthy();
    expect(stored?.text).toBeNull();
    // A deleted message cannot be edited any more.
    const late = await rest(server, 'imbot.message.update.json', {
      auth: app.accessToken,
      BOT_ID: botId,
      MESSAGE_ID: added.result,
      MESSAGE: 'again',
    });
    expect(late.status).toBe(400);
    expect(late.body.error).toBe('ERROR_WRONG_STATE');
    await call('imopenlines.bot.session.finish', { CHAT_ID: chatId });
  });

  it('tells the bot of a client’s edit and deletion as ONIMBOTMESSAGEUPDATE / ONIMBOTMESSAGEDELETE', async () => {
    const chatId = await clientWrites('Where is parcel 7?');
    const added = await botMessageOf(chatId);
    const element = (text?: string) => ({
      user: { id: `client-${clientSeq}` },
      message: { id: `ext-${clientSeq}`, ...(text ? { text } : {}) },
      chat: { id: `chat-${clientSeq}` },
    });
    const ofChat = (name: string) =>
      events(name).filter((item) => item.body.data.PARAMS.DIALOG_ID === `chat${chatId}`);

    const edited = await call('imconnector.update.messages', {
      CONNECTOR: 'botconnector',
      LINE: line,
      MESSAGES: [element('Where is parcel 8?')],
    });
    expect(edited.result.SUCCESS).toBe(true);
    await waitFor(() => ofChat('ONIMBOTMESSAGEUPDATE').length > 0, 'ONIMBOTMESSAGEUPDATE');
    const update = ofChat('ONIMBOTMESSAGEUPDATE')[0]!;
    expect(update.contentType).toBe('application/x-www-form-urlencoded');
    expect(update.body.data.PARAMS).toMatchObject({
      MESSAGE: 'Where is parcel 8?',
      MESSAGE_ID: added.body.data.PARAMS.MESSAGE_ID,
      FROM_USER_ID: added.body.data.PARAMS.FROM_USER_ID,
      CHAT_ENTITY_TYPE: 'LINES',
    });
    expect(update.body.data.BOT[String(botId)]).toMatchObject({ BOT_CODE: 'helper_bot' });
    expect(update.body.auth.application_token).toBe(app.applicationToken);

    const deleted = await call('imconnector.delete.messages', {
      CONNECTOR: 'botconnector',
      LINE: line,
      MESSAGES: [element()],
    });
    expect(deleted.result.SUCCESS).toBe(true);
    await waitFor(() => ofChat('ONIMBOTMESSAGEDELETE').length > 0, 'ONIMBOTMESSAGEDELETE');
    const removal = ofChat('ONIMBOTMESSAGEDELETE')[0]!;
    expect(removal.body.data.PARAMS.MESSAGE_ID).toBe(added.body.data.PARAMS.MESSAGE_ID);
    expect(removal.body.data.PARAMS.MESSAGE).toBeUndefined();
    // Each change once; the edit is not heard again as a new message.
    expect(ofChat('ONIMBOTMESSAGEUPDATE')).toHaveLength(1);
    expect(ofChat('ONIMBOTMESSAGEADD')).toHaveLength(1);
  });

  it('hears a client’s slash command as ONIMCOMMANDADD and answers it with imbot.command.answer', async () => {
    const registered = await call('imbot.command.register', {
      BOT_ID: botId,
      COMMAND: 'order',
      EVENT_COMMAND_ADD: handler.url,
      LANG: [{ LANGUAGE_ID: 'en', TITLE: 'Order status', PARAMS: 'number' }],
    });
    const commandId = registered.result;
    expect(Number.isInteger(commandId)).toBe(true);
    // The same command again is the one registered.
    expect(
      (
        await call('imbot.command.register', {
          BOT_ID: botId,
          COMMAND: '/ORDER',
          EVENT_COMMAND_ADD: handler.url,
        })
      ).result,
    ).toBe(commandId);

    const chatId = await clientWrites('Hello');
    await botMessageOf(chatId);
    const says = (id: string, text: string) =>
      call('imconnector.send.messages', {
        CONNECTOR: 'botconnector',
        LINE: line,
        MESSAGES: [
          { user: { id: `client-${clientSeq}` }, message: { id, text }, chat: { id: `chat-${clientSeq}` } },
        ],
      });
    await says(`cmd-${clientSeq}`, '/order 1234');
    const isCommand = (item: Received) =>
      item.body.event === 'ONIMCOMMANDADD' && item.body.data.PARAMS.DIALOG_ID === `chat${chatId}`;
    await waitFor(() => handler.received.some(isCommand), 'ONIMCOMMANDADD');
    const event = handler.received.find(isCommand)!;
    expect(event.contentType).toBe('application/x-www-form-urlencoded');
    expect(event.body.data.COMMAND[String(commandId)]).toMatchObject({
      BOT_ID: String(botId),
      BOT_CODE: 'helper_bot',
      COMMAND: 'order',
      COMMAND_ID: String(commandId),
      COMMAND_PARAMS: '1234',
      COMMAND_CONTEXT: 'TEXTAREA',
    });
    expect(event.body.data.PARAMS.MESSAGE).toBe('/order 1234');
    expect(event.body.auth.application_token).toBe(app.applicationToken);
    // Not also as an ordinary message.
    expect(events('ONIMBOTMESSAGEADD').some((item) => item.body.data.PARAMS.MESSAGE === '/order 1234')).toBe(
      false,
    );

    const answered = await call('imbot.command.answer', {
      COMMAND_ID: commandId,
      MESSAGE_ID: event.body.data.PARAMS.MESSAGE_ID,
      MESSAGE: 'Order 1234 ships today.',
    });
    expect(Number.isInteger(answered.result)).toBe(true);
    await waitFor(
      () =>
        events('ONIMCONNECTORMESSAGEADD').some((item) =>
          String(item.body.data.MESSAGES[0].message.text).includes('Order 1234 ships today.'),
        ),
      'the answer through the connector',
    );
    expect(
      (await call('imbot.command.update', { COMMAND_ID: commandId, FIELDS: { HIDDEN: 'Y' } })).result,
    ).toBe(true);

    const other = await issueApp(admin);
    const bad: [string, object, number, string, string?][] = [
      ['imbot.command.register', { BOT_ID: botId, EVENT_COMMAND_ADD: handler.url }, 400, 'COMMAND_ERROR'],
      [
        'imbot.command.register',
        { BOT_ID: botId, COMMAND: 'a b', EVENT_COMMAND_ADD: handler.url },
        400,
        'COMMAND_ERROR',
      ],
      ['imbot.command.register', { BOT_ID: botId, COMMAND: 'help' }, 400, 'EVENT_COMMAND_ADD'],
      [
        'imbot.command.register',
        { BOT_ID: botId, COMMAND: 'help', EVENT_COMMAND_ADD: 'ftp://x' },
        400,
        'EVENT_COMMAND_ADD',
      ],
      [
        'imbot.command.register',
        { BOT_ID: 999999, COMMAND: 'help', EVENT_COMMAND_ADD: handler.url },
        400,
        'BOT_ID_ERROR',
      ],
      ['imbot.command.update', { COMMAND_ID: commandId, FIELDS: 'x' }, 400, 'ERROR_ARGUMENT'],
      ['imbot.command.answer', { COMMAND_ID: commandId, MESSAGE_ID: 999999, MESSAGE: 'x' }, 404, 'NOT_FOUND'],
      [
        'imbot.command.answer',
        { COMMAND_ID: commandId, MESSAGE_ID: event.body.data.PARAMS.MESSAGE_ID },
        400,
        'ERROR_ARGUMENT',
      ],
      ['imbot.command.unregister', { COMMAND_ID: 999999 }, 400, 'COMMAND_ID_ERROR'],
      // Another application does not reach this one's command.
      ['imbot.command.unregister', { COMMAND_ID: commandId }, 400, 'COMMAND_ID_ERROR', other.accessToken],
    ];
    for (const [method, params, status, code, token] of bad) {
      const response = await rest(server, `${method}.json`, { auth: token ?? app.accessToken, ...params });
      expect(response.status, `${method} ${JSON.stringify(params)}`).toBe(status);
      expect(response.body.error, `${method} ${JSON.stringify(params)}`).toBe(code);
    }

    // Unregistered, the same text is an ordinary message again.
    expect((await call('imbot.command.unregister', { COMMAND_ID: commandId })).result).toBe(true);
    await says(`cmd2-${clientSeq}`, '/order 5678');
    await waitFor(
      () => events('ONIMBOTMESSAGEADD').some((item) => item.body.data.PARAMS.MESSAGE === '/order 5678'),
      'the text as a message',
    );
    await call('imopenlines.bot.session.finish', { CHAT_ID: chatId });
  });

  it('transfers to an operator, sends as the line, and finishes through imopenlines.bot.session.*', async () => {
    const first = await clientWrites('I want to order');
    await botMessageOf(first);
    expect(
      (
        await call('imopenlines.bot.session.message.send', {
          CHAT_ID: first,
          MESSAGE: 'One moment',
          NAME: 'DEFAULT',
        })
      ).result,
    ).toBe(true);
    expect(
      (
        await call('imopenlines.bot.session.transfer', {
          CHAT_ID: first,
          USER_ID: operatorNumber,
          LEAVE: 'Y',
        })
      ).result,
    ).toBe(true);
    const sentAsLine = (item: Received) =>
      item.body.event === 'ONIMCONNECTORMESSAGEADD' &&
      item.body.data.MESSAGES[0].im.chat_id === String(first) &&
      String(item.body.data.MESSAGES[0].message.text).includes('One moment');
    await waitFor(() => handler.received.some(sentAsLine), 'the bot’s message.send through the connector');
    const { result: transferred } = await call('imopenlines.dialog.get', { CHAT_ID: first });
    expect(transferred).toMatchObject({ session_state: 'assigned', owner: Number(operatorNumber) });

    const second = await clientWrites('Bye');
    await botMessageOf(second);
    expect((await call('imopenlines.bot.session.finish', { CHAT_ID: second })).result).toBe(true);
    expect((await call('imopenlines.dialog.get', { CHAT_ID: second })).result.session_state).toBe('closed');
    // Once it is over, the bot holds nothing there.
    const again = await rest(server, 'imopenlines.bot.session.finish.json', {
      auth: app.accessToken,
      CHAT_ID: second,
    });
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('ERROR_WRONG_STATE');
  });

  it('answers bad bot calls with Bitrix24 errors, and keeps bots to their application', async () => {
    const auth = app.accessToken;
    const cases: [string, object, number, string][] = [
      ['imbot.register', { CODE: 'no_handler', PROPERTIES: { NAME: 'X' } }, 400, 'EVENT_MESSAGE_ADD_ERROR'],
      [
        'imbot.register',
        { CODE: 'bad_url', EVENT_HANDLER: 'ftp://x', PROPERTIES: { NAME: 'X' } },
        400,
        'EVENT_HANDLER_ERROR',
      ],
      ['imbot.register', { CODE: 'no_name', EVENT_HANDLER: handler.url }, 400, 'NAME_ERROR'],
      ['imbot.register', { EVENT_HANDLER: handler.url, PROPERTIES: { NAME: 'X' } }, 400, 'CODE_ERROR'],
      [
        'imbot.register',
        { CODE: 'sv', TYPE: 'S', EVENT_HANDLER: handler.url, PROPERTIES: { NAME: 'X' } },
        400,
        'ERROR_ARGUMENT',
      ],
      ['imbot.message.add', { BOT_ID: 999999, DIALOG_ID: 'chat1', MESSAGE: 'x' }, 400, 'BOT_ID_ERROR'],
      ['imbot.message.add', { BOT_ID: botId, DIALOG_ID: '5', MESSAGE: 'x' }, 400, 'ERROR_ARGUMENT'],
      ['imbot.message.add', { BOT_ID: botId, DIALOG_ID: 'chat999999', MESSAGE: 'x' }, 404, 'NOT_FOUND'],
      [
        'imbot.message.add',
        { BOT_ID: botId, DIALOG_ID: 'chat1', MESSAGE: 'x', ATTACH: [{}] },
        400,
        'ERROR_ARGUMENT',
      ],
      [
        'imbot.message.add',
        { BOT_ID: botId, DIALOG_ID: 'chat1', MESSAGE: 'x'.repeat(4001) },
        400,
        'ERROR_ARGUMENT',
      ],
      ['imopenlines.bot.session.transfer', { CHAT_ID: 999999, USER_ID: 1 }, 404, 'NOT_FOUND'],
      ['imopenlines.config.add', { PARAMS: { WELCOME_BOT_ID: 999999 } }, 400, 'ERROR_ARGUMENT'],
      ['imbot.update', { BOT_ID: botId, FIELDS: 'x' }, 400, 'ERROR_ARGUMENT'],
    ];
    for (const [method, params, status, code] of cases) {
      const response = await rest(server, `${method}.json`, { auth, ...params });
      expect(response.status, `${method} ${JSON.stringify(params)}`).toBe(status);
      expect(response.body.error, `${method} ${JSON.stringify(params)}`).toBe(code);
      expect(typeof response.body.error_description).toBe('string');
    }

    // Another application of the account does not reach this one's bot.
    const other = await issueApp(admin);
    const foreign = await rest(server, 'imbot.unregister.json', { auth: other.accessToken, BOT_ID: botId });
    expect(foreign.body.error).toBe('BOT_ID_ERROR');
    expect((await rest(server, `imbot.bot.list.json?auth=${other.accessToken}`)).body.result).toEqual({});
    // An incoming webhook has no application: imbot.* needs one.
    const hook = await admin.request<{ path: string }>('POST', '/bitrix24/webhooks', {
      body: { name: 'Hook' },
    });
    const viaHook = await rest(server, `${hook.path.slice('/rest/'.length)}imbot.bot.list.json`);
    expect(viaHook.status).toBe(403);
    expect(viaHook.body.error).toBe('WRONG_AUTH_TYPE');
  });

  it('updates and unregisters a bot', async () => {
    const extra = await call('imbot.register', {
      CODE: 'second_bot',
      EVENT_MESSAGE_ADD: handler.url,
      PROPERTIES: { NAME: 'Second' },
    });
    expect(
      (
        await call('imbot.update', {
          BOT_ID: extra.result,
          FIELDS: {
            CODE: 'renamed_bot',
            EVENT_MESSAGE_ADD: `${handler.url}?v=2`,
            PROPERTIES: { NAME: 'Renamed' },
          },
        })
      ).result,
    ).toBe(true);
    const listed = (await call('imbot.bot.list')).result;
    expect(listed[String(extra.result)]).toMatchObject({ NAME: 'Renamed', CODE: 'renamed_bot' });
    expect((await admin.bots.list()).find((bot) => bot.name === 'Renamed')?.webhookUrl).toBe(
      `${handler.url}?v=2`,
    );
    const clash = await rest(server, 'imbot.update.json', {
      auth: app.accessToken,
      BOT_ID: extra.result,
      FIELDS: { CODE: 'helper_bot' },
    });
    expect(clash.body.error).toBe('CODE_ERROR');

    expect((await call('imbot.unregister', { BOT_ID: extra.result })).result).toBe(true);
    expect((await call('imbot.bot.list')).result[String(extra.result)]).toBeUndefined();
    expect((await admin.bots.list()).some((bot) => bot.name === 'Renamed')).toBe(false);
    // A bot a line names cannot go: the line must choose another first.
    const used = await rest(server, 'imbot.unregister.json', { auth: app.accessToken, BOT_ID: botId });
    expect(used.status).toBe(400);
    expect(used.body.error_description).toContain('Bot line');
  });
});
