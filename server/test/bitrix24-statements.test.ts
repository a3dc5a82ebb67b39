import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OpenlinesClient } from '@openlines/sdk';
import { parse } from 'qs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSqlCounter, sqlStatements } from '../../bench/sql-counter';
import { createSignedInUser, createTestServer, type SignedInUser, signIn, type TestServer } from './harness';

/**
 * What the Bitrix24-compatible connector costs on the message path (docs/benchmarks.md): counts,
 * not timings. Workers are driven by the test, so nothing else runs while a count is taken.
 */
installSqlCounter();

async function statementsOf<T>(work: () => Promise<T>): Promise<{ count: number; value: T }> {
  const before = sqlStatements();
  const value = await work();
  return { count: sqlStatements() - before, value };
}

describe('Bitrix24 connector: statements per message', () => {
  let server: TestServer;
  let admin: OpenlinesClient;
  let operator: SignedInUser;
  let receiver: Server;
  let received = 0;
  /** Runs inside the event handler before it answers, when a test sets it. */
  let onEvent: ((body: string) => Promise<void>) | null = null;
  let token = '';
  let line = 0;

  const rest = async (method: string, body: object) => {
    const response = await fetch(`${server.url}/rest/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: token, ...body }),
    });
    return (await response.json()) as { result: { DATA: { RESULT: { SUCCESS: boolean }[] } } };
  };
  const clientSays = (id: string, text: string) =>
    rest('imconnector.send.messages', {
      CONNECTOR: 'budget',
      LINE: line,
      MESSAGES: [{ user: { id: 'u1' }, message: { id, text }, chat: { id: 'c1' } }],
    });

  beforeAll(async () => {
    server = await createTestServer({ workers: false });
    admin = await signIn(server);
    operator = await createSignedInUser(server, admin, 'operator');
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', async () => {
        received++;
        await onEvent?.(body);
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const app = await admin.request<{ accessToken: string }>('POST', '/bitrix24/apps', {
      body: { name: 'Budget' },
    });
    token = app.accessToken;
    const users = (await fetch(`${server.url}/rest/user.get?auth=${token}`).then((r) => r.json())) as {
      result: { ID: string; EMAIL: string }[];
    };
    const operatorNumber = users.result.find((user) => user.EMAIL === operator.email)!.ID;
    const added = (await fetch(`${server.url}/rest/imopenlines.config.add`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: token,
        PARAMS: { LINE_NAME: 'Budget', QUEUE: [operatorNumber], CHECK_AVAILABLE: 'N', WELCOME_MESSAGE: 'N' },
      }),
    }).then((r) => r.json())) as { result: number };
    line = added.result;
    await rest('imconnector.register', { ID: 'budget', NAME: 'Budget', ICON: {} });
    const { port } = receiver.address() as AddressInfo;
    await rest('event.bind', {
      event: 'ONIMCONNECTORMESSAGEADD',
      handler: `http://127.0.0.1:${port}/events`,
    });
    await rest('imconnector.activate', { CONNECTOR: 'budget', LINE: line, ACTIVE: 'Y' });
  });
  afterAll(async () => {
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
    await server.stop();
  });

  it('a client message in a held dialog through imconnector.send.messages costs at most 14 statements', async () => {
    await clientSays('m1', 'Hello');
    const dialog = (await operator.client.dialogs.list({ view: 'all' })).items[0]!;
    if (dialog.session?.status === 'queued') await operator.client.dialogs.take(dialog.id);
    await operator.client.dialogs.send(dialog.id, { text: 'Yes?' });
    await clientSays('m2', 'My order');
    // Measured 14: the held-dialog intake (statement-budget.test.ts), plus the caller's token and
    // user (2), the connector, line and channel (3), the duplicate check by external id (1), and
    // the stored message's session and numeric ids for the answer (2).
    const { count, value } = await statementsOf(() => clientSays('m3', 'Order 1234'));
    expect(value.result.DATA.RESULT[0]!.SUCCESS).toBe(true);
    expect(count).toBeLessThanOrEqual(14);
    const texts = (await operator.client.dialogs.messages(dialog.id)).map((message) => message.text);
    expect(texts).toEqual(['Hello', 'Yes?', 'My order', 'Order 1234']);
  });

  it('an operator message delivered as OnImConnectorMessageAdd costs at most 11 statements, claim to event', async () => {
    while ((await server.workers.outbox.runOnce()).claimed > 0) {}
    const dialog = (await operator.client.dialogs.list({ view: 'all' })).items[0]!;
    const before = received;
    const answer = await operator.client.dialogs.send(dialog.id, { text: 'Shipped today' });
    // The outbox's 10 for any channel, plus one for the message's and chat's numeric ids.
    const { count } = await statementsOf(() => server.workers.outbox.runOnce());
    expect(count).toBeLessThanOrEqual(11);
    expect(received).toBe(before + 1);
    const stored = (await operator.client.dialogs.messages(dialog.id)).find(
      (message) => message.id === answer.id,
    );
    expect(stored?.deliveryState).toBe('sent');
  });

  it('a delivery the connector confirms before it answers the event stays delivered', async () => {
    const dialog = (await operator.client.dialogs.list({ view: 'all' })).items[0]!;
    const answer = await operator.client.dialogs.send(dialog.id, { text: 'Confirmed at once' });
    let confirmed: unknown = null;
    onEvent = async (body) => {
      const event = parse(body) as { data: { MESSAGES: { im: unknown }[] } };
      confirmed = await rest('imconnector.send.status.delivery', {
        CONNECTOR: 'budget',
        LINE: line,
        MESSAGES: [{ im: event.data.MESSAGES[0]!.im, message: { id: ['x'] }, chat: { id: 'c1' } }],
      });
    };
    try {
      await server.workers.outbox.runOnce();
    } finally {
      onEvent = null;
    }
    expect(confirmed).toMatchObject({ result: { DATA: { RESULT: [{ SUCCESS: true }] } } });
    const stored = (await operator.client.dialogs.messages(dialog.id)).find(
      (message) => message.id === answer.id,
    );
    expect(stored?.deliveryState).toBe('delivered');
  });
});
