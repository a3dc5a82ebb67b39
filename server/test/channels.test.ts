import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Channel, Message, Problem } from '@openlines/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxPayload } from '../src/channels/types';
import { FakeClock } from '../src/core/clock';
import { verifyWebhookSignature } from '../src/delivery/signature';
import { createAccount } from '../src/services/accounts';
import { hashToken } from '../src/services/secrets';
import { OutboxWorker } from '../src/workers/outbox';
import { createTestServer, type TestServer, waitFor } from './harness';

// The channels API and the generic API channel (LN-3, LN-5, LN-6) through real HTTP: admin
// routes, the public inbound endpoint, and delivery to a local webhook receiver driven by the
// outbox worker's runOnce() with a fake clock (no waiting, no timing assertions).

interface Reply<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** A signed-in caller: an API token (Bearer) or a session cookie with its CSRF token. */
class Caller {
  constructor(
    readonly server: TestServer,
    readonly headers: Record<string, string>,
  ) {}

  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<Reply<T>> {
    const response = await fetch(`${this.server.url}/api/v1${path}`, {
      method,
      headers: {
        ...this.headers,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...extra,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: (text ? JSON.parse(text) : null) as T,
      headers: response.headers,
    };
  }
}

async function login(server: TestServer, email: string, password: string): Promise<Caller> {
  const response = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  expect(response.status).toBe(200);
  const cookie = response.headers
    .getSetCookie()
    .find((c) => c.startsWith('ol_session='))!
    .split(';')[0]!;
  const { csrfToken } = (await response.json()) as { csrfToken: string };
  return new Caller(server, { cookie, 'x-csrf-token': csrfToken });
}

async function withApiToken(session: Caller): Promise<Caller> {
  const created = await session.call<{ token: string }>('POST', '/me/api-tokens', { name: 'channels test' });
  expect(created.status).toBe(201);
  return new Caller(session.server, { authorization: `Bearer ${created.body.token}` });
}

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  /** Checked as a receiver would, with the secret it was given and its own clock. */
  signatureValid: boolean;
}

/** A local webhook receiver; each path has its own answers (default 200) and its own deliveries. */
class WebhookReceiver {
  readonly deliveries = new Map<string, Delivery[]>();
  readonly answers = new Map<
    string,
    Array<{ status: number; headers?: Record<string, string>; body?: string }>
  >();
  readonly secrets = new Map<string, string>();
  #server: Server | null = null;
  url = '';

  constructor(readonly clock: FakeClock) {}

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '/';
        const body = Buffer.concat(chunks).toString('utf8');
        const secret = this.secrets.get(path) ?? '';
        const signatureValid = verifyWebhookSignature(
          secret,
          request.headers['x-openlines-timestamp'] as string | undefined,
          body,
          request.headers['x-openlines-signature'] as string | undefined,
          this.clock.now(),
        );
        const list = this.deliveries.get(path) ?? [];
        list.push({ headers: request.headers, body, signatureValid });
        this.deliveries.set(path, list);
        // A receiver rejects what it cannot verify.
        const answer = signatureValid
          ? (this.answers.get(path)?.shift() ?? { status: 200, body: '' })
          : { status: 401, body: 'bad signature' };
        response.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  answer(
    path: string,
    ...answers: Array<{ status: number; headers?: Record<string, string>; body?: string }>
  ) {
    this.answers.set(path, [...(this.answers.get(path) ?? []), ...answers]);
  }

  received(path: string): Delivery[] {
    return this.deliveries.get(path) ?? [];
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }
}

interface Created {
  channel: Channel;
  secrets: { inboundToken: string; webhookSecret: string };
}

interface InboundResult {
  messageId: string;
  dialogId: string;
  sessionId: string | null;
  duplicate: boolean;
}

describe('channels and the API channel', () => {
  const clock = new FakeClock('2026-01-05T09:00:00Z');
  const receiver = new WebhookReceiver(clock);
  let server: TestServer;
  let admin: Caller;
  let lineId: string;
  let otherLineId: string;
  let pathSeq = 0;

  beforeAll(async () => {
    await receiver.start();
    server = await createTestServer({ clock, workers: false, env: { DEFAULT_PLAN_MAX_LINES: '20' } });
    admin = await withApiToken(await login(server, server.admin.email, server.admin.password));
    // These tests count deliveries of operators' messages: the lines send no automatic texts.
    const quiet = {
      automaticActions: { welcome: { enabled: false }, close: { rule: 'none' } },
      rating: { enabled: false },
    };
    lineId = (await admin.call<{ id: string }>('POST', '/lines', { name: 'Support', settings: quiet })).body
      .id;
    otherLineId = (await admin.call<{ id: string }>('POST', '/lines', { name: 'Sales', settings: quiet }))
      .body.id;
  });
  afterAll(async () => {
    await server?.stop();
    await receiver.stop();
  });

  const worker = () => server.workers.outbox;
  const db = () => server.ctx.store.db;

  /** A new API channel on its own receiver path. */
  async function apiChannel(name = 'Shop'): Promise<Created & { path: string }> {
    const path = `/hook/${++pathSeq}`;
    const created = await admin.call<Created>('POST', '/channels', {
      kind: 'api',
      name,
      lineId,
      settings: { webhookUrl: `${receiver.url}${path}` },
    });
    expect(created.status).toBe(201);
    receiver.secrets.set(path, created.body.secrets.webhookSecret);
    return { ...created.body, path };
  }

  async function inbound(token: string | null, body: unknown): Promise<Reply<InboundResult & Problem>> {
    const response = await fetch(`${server.url}/api/v1/channel-api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
  }

  let externalSeq = 0;
  /** A client writes in over the channel; returns the dialog. */
  async function clientWrites(token: string, userId = 'client-1'): Promise<InboundResult> {
    const result = await inbound(token, {
      externalId: `in-${++externalSeq}`,
      user: { id: userId, name: 'Ivan' },
      text: 'Hello, I need help',
    });
    expect(result.status).toBe(201);
    return result.body;
  }

  /** The administrator answers in the dialog: a pending message and an outbox row. */
  async function operatorAnswers(dialogId: string, text = 'How can I help?'): Promise<Message> {
    const sent = await admin.call<Message>('POST', `/dialogs/${dialogId}/messages`, { text });
    expect(sent.status).toBe(201);
    expect(sent.body.deliveryState).toBe('pending');
    return sent.body;
  }

  const messageRow = (id: string) =>
    db().selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const outboxRow = (messageId: string) =>
    db().selectFrom('outbox').selectAll().where('message_id', '=', messageId).executeTakeFirstOrThrow();

  describe('administration', () => {
    it('creates an API channel whose secrets are shown once and stored hashed or encrypted', async () => {
      const { channel, secrets } = await apiChannel('Website backend');
      expect(channel).toMatchObject({
        kind: 'api',
        name: 'Website backend',
        lineId,
        status: 'connected',
        settings: { webhookUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/hook\/\d+$/) },
      });
      expect(secrets.inboundToken).toMatch(/^olc_/);
      expect(secrets.webhookSecret).toMatch(/^olw_/);

      const one = await admin.call<Channel>('GET', `/channels/${channel.id}`);
      expect(one.status).toBe(200);
      expect(one.body).toEqual(channel);
      const list = await admin.call<Channel[]>('GET', '/channels');
      expect(list.body.map((c) => c.id)).toContain(channel.id);
      const onLine = await admin.call<Channel[]>('GET', `/channels?lineId=${otherLineId}`);
      expect(onLine.body.map((c) => c.id)).not.toContain(channel.id);
      for (const shown of [JSON.stringify(one.body), JSON.stringify(list.body)]) {
        expect(shown).not.toContain(secrets.inboundToken);
        expect(shown).not.toContain(secrets.webhookSecret);
        expect(shown).not.toMatch(/secret|token_hash/i);
      }

      const row = await db()
        .selectFrom('channels')
        .selectAll()
        .where('id', '=', channel.id)
        .executeTakeFirstOrThrow();
      expect(row.inbound_token_hash).toBe(hashToken(secrets.inboundToken));
      expect(row.secrets).toMatch(/^v1\./);
      expect(row.secrets).not.toContain(secrets.webhookSecret);
      const events = await db()
        .selectFrom('events')
        .select(['type', 'data', 'audience'])
        .where('type', '=', 'channel.changed')
        .execute();
      expect(events).toContainEqual({
        type: 'channel.changed',
        data: { channelId: channel.id, deleted: false },
        audience: { permission: 'manageLines' },
      });
    });

    it.each([
      [{ kind: 'carrier-pigeon', settings: {} }, 'body.kind'],
      [{ settings: {} }, 'body.settings.webhookUrl'],
      [{ settings: { webhookUrl: 'ftp://example.test/in' } }, 'body.settings.webhookUrl'],
      [{ settings: { webhookUrl: 'not a url' } }, 'body.settings.webhookUrl'],
      [{ settings: { webhookUrl: 42 } }, 'body.settings.webhookUrl'],
      [{ settings: { webhookUrl: 'https://u:p@example.test/' } }, 'body.settings.webhookUrl'],
      [{ settings: { webhookUrl: 'https://example.test/', extra: 1 } }, 'body.settings.extra'],
      [{ name: '' }, 'body.name'],
    ])('rejects %j naming %s', async (change, field) => {
      const response = await admin.call<Problem>('POST', '/channels', {
        kind: 'api',
        name: 'Bad',
        lineId,
        settings: { webhookUrl: 'https://example.test/hook' },
        ...change,
      });
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('validation_failed');
      expect(response.body.errors?.map((e) => e.field)).toContain(field);
    });

    it('answers 404 naming body.lineId for a line that does not exist', async () => {
      const response = await admin.call<Problem>('POST', '/channels', {
        kind: 'api',
        name: 'Orphan',
        lineId: '00000000-0000-4000-8000-000000000000',
        settings: { webhookUrl: 'https://example.test/hook' },
      });
      expect(response.status).toBe(404);
      expect(response.body.errors).toEqual([
        { field: 'body.lineId', message: 'no such line in this account' },
      ]);
    });

    it('keeps accounts apart: another account gets 404 on our channel and cannot use our line', async () => {
      const { channel } = await apiChannel('Private');
      const email = `other-${Date.now()}@example.test`;
      await createAccount(server.ctx, {
        accountName: 'Other',
        admin: { email, name: 'Other admin', password: 'correct horse battery' },
      });
      const other = await login(server, email, 'correct horse battery');
      for (const [method, path, body] of [
        ['GET', `/channels/${channel.id}`, undefined],
        ['PATCH', `/channels/${channel.id}`, { name: 'Mine now' }],
        ['POST', `/channels/${channel.id}/rotate-secrets`, undefined],
        ['DELETE', `/channels/${channel.id}`, undefined],
      ] as const) {
        const response = await other.call<Problem>(method, path, body);
        expect(response.status, `${method} ${path}`).toBe(404);
        expect(response.body.code).toBe('not_found');
      }
      expect((await other.call<Channel[]>('GET', '/channels')).body).toEqual([]);
      const borrowed = await other.call<Problem>('POST', '/channels', {
        kind: 'api',
        name: 'Borrowed',
        lineId,
        settings: { webhookUrl: 'https://example.test/hook' },
      });
      expect(borrowed.status).toBe(404);
      expect(borrowed.body.errors?.[0]?.field).toBe('body.lineId');
      expect((await admin.call<Channel>('GET', `/channels/${channel.id}`)).body.name).toBe('Private');
    });

    it('refuses an operator without manageLines with 403', async () => {
      const roles = await admin.call<Array<{ id: string; builtIn: string | null }>>('GET', '/roles');
      const operatorRole = roles.body.find((r) => r.builtIn === 'operator')!.id;
      const email = `operator-${Date.now()}@example.test`;
      const user = await admin.call('POST', '/users', {
        email,
        name: 'Olga',
        password: 'correct horse battery',
        roleId: operatorRole,
      });
      expect(user.status).toBe(201);
      const operator = await login(server, email, 'correct horse battery');
      const { channel } = await apiChannel('Guarded');
      const attempts = [
        await operator.call<Problem>('GET', '/channels'),
        await operator.call<Problem>('GET', `/channels/${channel.id}`),
        await operator.call<Problem>('POST', '/channels', {
          kind: 'api',
          name: 'Nope',
          lineId,
          settings: { webhookUrl: 'https://example.test/hook' },
        }),
        await operator.call<Problem>('PATCH', `/channels/${channel.id}`, { status: 'disconnected' }),
        await operator.call<Problem>('POST', `/channels/${channel.id}/rotate-secrets`),
        await operator.call<Problem>('DELETE', `/channels/${channel.id}`),
      ];
      for (const attempt of attempts) {
        expect(attempt.status).toBe(403);
        expect(attempt.body.code).toBe('forbidden');
      }
    });

    it('renames, changes settings and moves a channel to another line (LN-3)', async () => {
      const { channel, secrets, path } = await apiChannel('Mover');
      const before = await clientWrites(secrets.inboundToken, 'mover-client');
      const renamed = await admin.call<Channel>('PATCH', `/channels/${channel.id}`, { name: 'Moved' });
      expect(renamed.body.name).toBe('Moved');
      const badSettings = await admin.call<Problem>('PATCH', `/channels/${channel.id}`, {
        settings: { webhookUrl: 'gopher://x' },
      });
      expect(badSettings.status).toBe(400);
      expect(badSettings.body.errors?.[0]?.field).toBe('body.settings.webhookUrl');
      const newPath = `${path}-moved`;
      receiver.secrets.set(newPath, secrets.webhookSecret);
      const changed = await admin.call<Channel>('PATCH', `/channels/${channel.id}`, {
        settings: { webhookUrl: `${receiver.url}${newPath}` },
      });
      expect(changed.body.settings).toEqual({ webhookUrl: `${receiver.url}${newPath}` });
      const moved = await admin.call<Channel>('PATCH', `/channels/${channel.id}`, { lineId: otherLineId });
      expect(moved.status).toBe(200);
      expect(moved.body.lineId).toBe(otherLineId);
      // The same client's next message starts a dialog on the line the channel is on now.
      const after = await clientWrites(secrets.inboundToken, 'mover-client');
      expect(after.dialogId).not.toBe(before.dialogId);
      const dialog = await admin.call<{ lineId: string }>('GET', `/dialogs/${after.dialogId}`);
      expect(dialog.body.lineId).toBe(otherLineId);
      // Settings changes keep the secrets: deliveries still verify with the original secret.
      await operatorAnswers(after.dialogId);
      await worker().runOnce();
      expect(receiver.received(newPath).map((d) => d.signatureValid)).toEqual([true]);
    });

    it('rotates secrets: the old token stops working, deliveries are signed with the new secret', async () => {
      const { channel, secrets, path } = await apiChannel('Rotating');
      const { dialogId } = await clientWrites(secrets.inboundToken, 'rotating-client');
      const rotated = await admin.call<Created>('POST', `/channels/${channel.id}/rotate-secrets`);
      expect(rotated.status).toBe(200);
      expect(rotated.body.channel.id).toBe(channel.id);
      expect(rotated.body.secrets.inboundToken).not.toBe(secrets.inboundToken);
      expect(rotated.body.secrets.webhookSecret).not.toBe(secrets.webhookSecret);
      const old = await inbound(secrets.inboundToken, { externalId: 'x1', user: { id: 'u' }, text: 'hi' });
      expect(old.status).toBe(401);
      expect(old.body.code).toBe('unauthenticated');
      await clientWrites(rotated.body.secrets.inboundToken, 'rotating-client');
      receiver.secrets.set(path, rotated.body.secrets.webhookSecret);
      await operatorAnswers(dialogId);
      await worker().runOnce();
      expect(receiver.received(path).map((d) => d.signatureValid)).toEqual([true]);
    });

    it('deletes a channel, asking for confirmation when it has dialogs', async () => {
      const empty = await apiChannel('Empty');
      expect((await admin.call('DELETE', `/channels/${empty.channel.id}`)).status).toBe(204);
      expect((await admin.call('GET', `/channels/${empty.channel.id}`)).status).toBe(404);

      const used = await apiChannel('Used');
      await clientWrites(used.secrets.inboundToken, 'used-client');
      const refused = await admin.call<Problem>('DELETE', `/channels/${used.channel.id}`);
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('confirmation_required');
      expect((await admin.call('DELETE', `/channels/${used.channel.id}?confirm=Used`)).status).toBe(204);
      const gone = await inbound(used.secrets.inboundToken, {
        externalId: 'z',
        user: { id: 'u' },
        text: 'hi',
      });
      expect(gone.status).toBe(401);
    });
  });

  describe('inbound', () => {
    it('stores a message once per externalId: 201, then 200 with duplicate', async () => {
      const { secrets } = await apiChannel('Inbound');
      const body = { externalId: 'msg-1', user: { id: 'customer-7', name: 'Maria' }, text: 'Hi there' };
      const first = await inbound(secrets.inboundToken, body);
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ duplicate: false, dialogId: expect.any(String) });
      const again = await inbound(secrets.inboundToken, body);
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ ...first.body, duplicate: true });
      const messages = await admin.call<Message[]>('GET', `/dialogs/${first.body.dialogId}/messages`);
      expect(messages.body).toHaveLength(1);
      expect(messages.body[0]).toMatchObject({
        authorKind: 'client',
        text: 'Hi there',
        deliveryState: 'received',
        externalId: 'msg-1',
      });
    });

    it('authenticates before validating: 401 for no, unknown or non-channel tokens', async () => {
      const { secrets } = await apiChannel('Auth');
      const valid = { externalId: 'a', user: { id: 'u' }, text: 'hi' };
      for (const token of [null, 'olc_unknown', 'not-a-channel-token']) {
        const response = await inbound(token, valid);
        expect(response.status).toBe(401);
        expect(response.body.code).toBe('unauthenticated');
        expect((await inbound(token, { nonsense: true })).status).toBe(401);
      }
      const invalid = await inbound(secrets.inboundToken, { externalId: '', user: {}, extra: 1 });
      expect(invalid.status).toBe(400);
      expect(invalid.body.errors?.map((e) => e.field)).toEqual(
        expect.arrayContaining(['body.externalId', 'body.user.id', 'body.extra']),
      );
      // An admin's API token is not a channel token.
      const adminToken = admin.headers.authorization!.replace('Bearer ', '');
      expect((await inbound(adminToken, valid)).status).toBe(401);
    });

    it('refuses intake on a disconnected channel (LN-5) and fails what was waiting to go out', async () => {
      const { channel, secrets, path } = await apiChannel('Switchable');
      const { dialogId } = await clientWrites(secrets.inboundToken, 'switch-client');
      const pending = await operatorAnswers(dialogId);
      const off = await admin.call<Channel>('PATCH', `/channels/${channel.id}`, { status: 'disconnected' });
      expect(off.body.status).toBe('disconnected');

      const refused = await inbound(secrets.inboundToken, {
        externalId: 'late',
        user: { id: 'u' },
        text: 'hello?',
      });
      expect(refused.status).toBe(404);
      expect(refused.body).toMatchObject({
        code: 'not_found',
        detail: 'The channel is disconnected',
        reason: 'channel_disconnected',
      });
      expect(
        await db().selectFrom('messages').select('id').where('external_id', '=', 'late').execute(),
      ).toEqual([]);

      await worker().runOnce();
      expect(receiver.received(path)).toEqual([]);
      expect(await messageRow(pending.id)).toMatchObject({
        delivery_state: 'failed',
        delivery_error: 'The channel is disconnected',
      });

      const on = await admin.call<Channel>('PATCH', `/channels/${channel.id}`, { status: 'connected' });
      expect(on.body.status).toBe('connected');
      expect(
        (await inbound(secrets.inboundToken, { externalId: 'back', user: { id: 'u' }, text: 'hi' })).status,
      ).toBe(201);
    });
  });

  describe('outbound delivery', () => {
    it('delivers an operator message to the webhook, signed, and marks it sent', async () => {
      const { channel, secrets, path } = await apiChannel('Delivery');
      const { dialogId } = await clientWrites(secrets.inboundToken, 'customer-42');
      receiver.answer(path, {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ externalId: 'their-99' }),
      });
      const message = await operatorAnswers(dialogId, 'We are on it');

      const report = await worker().runOnce();
      expect(report).toMatchObject({ sent: 1, failed: 0, retried: 0 });
      const [delivery] = receiver.received(path);
      expect(delivery?.signatureValid).toBe(true);
      expect(delivery?.headers['x-openlines-delivery']).toBe(message.id);
      expect(Number(delivery?.headers['x-openlines-timestamp'])).toBe(clock.now().getTime() / 1000);
      expect(JSON.parse(delivery!.body)).toMatchObject({
        type: 'message',
        channelId: channel.id,
        message: {
          id: message.id,
          dialogId,
          user: { id: 'customer-42' },
          author: { kind: 'operator' },
          text: 'We are on it',
          attachments: [],
        },
      });

      const messages = await admin.call<Message[]>('GET', `/dialogs/${dialogId}/messages`);
      expect(messages.body.find((m) => m.id === message.id)).toMatchObject({
        deliveryState: 'sent',
        deliveryError: null,
        externalId: 'their-99',
      });
      expect(await outboxRow(message.id)).toMatchObject({ state: 'sent', attempts: 1, last_error: null });
      const updates = await db()
        .selectFrom('events')
        .select(['data', 'audience'])
        .where('type', '=', 'message.updated')
        .execute();
      const update = updates.find((e) => (e.data as { message: Message }).message.id === message.id);
      expect(update?.data).toMatchObject({ lineId, message: { deliveryState: 'sent' } });
      expect(update?.audience).toMatchObject({ lineId, dialogId });

      // Nothing is sent twice.
      expect(await worker().runOnce()).toMatchObject({ claimed: 0 });
      expect(receiver.received(path)).toHaveLength(1);
    });

    it('retries after a 500 with backoff, then delivers', async () => {
      const { secrets, path } = await apiChannel('Flaky');
      const { dialogId } = await clientWrites(secrets.inboundToken, 'flaky-client');
      receiver.answer(path, { status: 500, body: 'oops' });
      const message = await operatorAnswers(dialogId);

      expect(await worker().runOnce()).toMatchObject({ claimed: 1, retried: 1 });
      const now = clock.now().getTime();
      const waiting = await outboxRow(message.id);
      expect(waiting).toMatchObject({ state: 'pending', attempts: 1 });
      expect(waiting.last_error).toMatch(/HTTP 500/);
      // Full jitter over the first window: [now, now + 2 s).
      expect(waiting.next_attempt_at.getTime()).toBeGreaterThanOrEqual(now);
      expect(waiting.next_attempt_at.getTime()).toBeLessThan(now + 2_000);
      expect((await messageRow(message.id)).delivery_state).toBe('pending');

      clock.advance(2_000);
      expect(await worker().runOnce()).toMatchObject({ sent: 1 });
      expect(await outboxRow(message.id)).toMatchObject({ state: 'sent', attempts: 2 });
      expect((await messageRow(message.id)).delivery_state).toBe('sent');
      expect(receiver.received(path).map((d) => d.signatureValid)).toEqual([true, true]);
    });

    it('honours Retry-After on 429', async () => {
      const { secrets, path } = await apiChannel('Busy');
      const { dialogId } = await clientWrites(secrets.inboundToken, 'busy-client');
      receiver.answer(path, { status: 429, headers: { 'retry-after': '120' } });
      const message = await operatorAnswers(dialogId);

      await worker().runOnce();
      const start = clock.now().getTime();
      const waiting = await outboxRow(message.id);
      expect(waiting.state).toBe('pending');
      expect(waiting.last_error).toMatch(/429/);
      // The first backoff window is 2 s; Retry-After 120 s is longer, so it wins exactly.
      expect(waiting.next_attempt_at.getTime()).toBe(start + 120_000);

      clock.advance(119_000);
      expect(await worker().runOnce()).toMatchObject({ claimed: 0 });
      clock.advance(1_000);
      expect(await worker().runOnce()).toMatchObject({ sent: 1 });
      expect(receiver.received(path)).toHaveLength(2);
    });

    it('fails at once on 401 and shows the failure on the message', async () => {
      const { secrets, path } = await apiChannel('Revoked');
      const { dialogId } = await clientWrites(secrets.inboundToken, 'revoked-client');
      receiver.answer(path, { status: 401, body: 'who are you?' });
      const message = await operatorAnswers(dialogId);

      expect(await worker().runOnce()).toMatchObject({ failed: 1 });
      const messages = await admin.call<Message[]>('GET', `/dialogs/${dialogId}/messages`);
      const shown = messages.body.find((m) => m.id === message.id);
      expect(shown?.deliveryState).toBe('failed');
      expect(shown?.deliveryError).toMatch(/HTTP 401/);
      expect(await outboxRow(message.id)).toMatchObject({ state: 'failed', attempts: 1 });

      clock.advance(24 * 60 * 60 * 1000);
      expect(await worker().runOnce()).toMatchObject({ claimed: 0 });
      expect(receiver.received(path)).toHaveLength(1);
      const failed = await db()
        .selectFrom('events')
        .select('data')
        .where('type', '=', 'message.updated')
        .execute();
      expect(
        failed.some((e) => {
          const m = (e.data as { message: Message }).message;
          return m.id === message.id && m.deliveryState === 'failed';
        }),
      ).toBe(true);
    });

    it('gives up after the last attempt', async () => {
      const { secrets, path } = await apiChannel('Down');
      const { dialogId } = await clientWrites(secrets.inboundToken, 'down-client');
      receiver.answer(path, { status: 503 }, { status: 503 }, { status: 503 });
      const message = await operatorAnswers(dialogId);
      const impatient = new OutboxWorker(server.ctx, { maxAttempts: 3, random: () => 0.5 });
      for (let round = 0; round < 3; round++) {
        await impatient.runOnce();
        clock.advance(10_000);
      }
      expect(await outboxRow(message.id)).toMatchObject({ state: 'failed', attempts: 3 });
      const row = await messageRow(message.id);
      expect(row.delivery_state).toBe('failed');
      expect(row.delivery_error).toMatch(/^Gave up after 3 attempts: .*HTTP 503/);
      expect(receiver.received(path)).toHaveLength(3);
    });

    it('never sends private notes or client messages, whatever is queued (no echo loops)', async () => {
      const { channel, secrets, path } = await apiChannel('Guard');
      const { dialogId, messageId: clientMessageId } = await clientWrites(
        secrets.inboundToken,
        'guard-client',
      );
      await operatorAnswers(dialogId, 'Taking it');
      await worker().runOnce();
      const note = await admin.call<Message>('POST', `/dialogs/${dialogId}/messages`, {
        text: 'internal: VIP',
        private: true,
      });
      expect(note.body).toMatchObject({ private: true, deliveryState: 'none' });
      expect(
        await db().selectFrom('outbox').select('id').where('message_id', '=', note.body.id).execute(),
      ).toEqual([]);

      // Queue both by hand, as a buggy caller might.
      const account = await db()
        .selectFrom('channels')
        .select('account_id')
        .where('id', '=', channel.id)
        .executeTakeFirstOrThrow();
      for (const messageId of [note.body.id, clientMessageId]) {
        const payload: OutboxPayload = {
          kind: 'message',
          message: {
            messageId,
            dialogId,
            recipientId: 'guard-client',
            authorKind: 'operator',
            authorName: null,
            authorAvatarUrl: null,
            text: 'should never leave',
            attachments: [],
            createdAt: clock.now().toISOString(),
          },
        };
        await db()
          .insertInto('outbox')
          .values({
            account_id: account.account_id,
            channel_id: channel.id,
            message_id: messageId,
            payload: JSON.stringify(payload),
            next_attempt_at: clock.now(),
          })
          .execute();
      }
      const delivered = receiver.received(path).length;
      expect(await worker().runOnce()).toMatchObject({ claimed: 2, failed: 2, sent: 0 });
      expect(receiver.received(path)).toHaveLength(delivered);
      expect(await outboxRow(note.body.id)).toMatchObject({
        state: 'failed',
        last_error: 'A private message is never sent to the channel',
      });
      expect(await outboxRow(clientMessageId)).toMatchObject({
        state: 'failed',
        last_error: "A client's message is not sent back to the channel it came from",
      });
      // Their own states are left as they were: a note stays "none", a client message "received".
      expect((await messageRow(note.body.id)).delivery_state).toBe('none');
      expect((await messageRow(clientMessageId)).delivery_state).toBe('received');
    });

    it('claims a row once across two workers (SKIP LOCKED + lease)', async () => {
      const { secrets, path } = await apiChannel('Contended');
      const { dialogId } = await clientWrites(secrets.inboundToken, 'contended-client');
      await operatorAnswers(dialogId);
      const a = new OutboxWorker(server.ctx);
      const b = new OutboxWorker(server.ctx);
      const reports = await Promise.all([a.runOnce(), b.runOnce(), worker().runOnce()]);
      expect(reports.reduce((sum, r) => sum + r.sent, 0)).toBe(1);
      expect(receiver.received(path)).toHaveLength(1);
    });
  });
});

describe('the outbox worker running in the background', () => {
  const receiver = new WebhookReceiver(new FakeClock());
  let server: TestServer;

  beforeAll(async () => {
    await receiver.start();
    // The real clock and the worker started by the server, as in production.
    server = await createTestServer();
  });
  afterAll(async () => {
    await server?.stop();
    await receiver.stop();
  });

  it('delivers as soon as an operator message is committed, without being driven', async () => {
    const admin = await withApiToken(await login(server, server.admin.email, server.admin.password));
    const line = await admin.call<{ id: string }>('POST', '/lines', { name: 'Live' });
    const created = await admin.call<Created>('POST', '/channels', {
      kind: 'api',
      name: 'Live',
      lineId: line.body.id,
      settings: { webhookUrl: `${receiver.url}/live` },
    });
    receiver.secrets.set('/live', created.body.secrets.webhookSecret);
    receiver.clock.set(Date.now());
    const response = await fetch(`${server.url}/api/v1/channel-api/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${created.body.secrets.inboundToken}`,
      },
      body: JSON.stringify({ externalId: 'live-1', user: { id: 'live-user' }, text: 'anyone?' }),
    });
    const { dialogId } = (await response.json()) as InboundResult;
    const sent = await admin.call<Message>('POST', `/dialogs/${dialogId}/messages`, { text: 'Yes!' });
    await waitFor(() => receiver.received('/live').length > 0, 'the webhook delivery');
    expect(receiver.received('/live')[0]?.signatureValid).toBe(true);
    const deliveryState = async () =>
      (
        await server.ctx.store.db
          .selectFrom('messages')
          .select('delivery_state')
          .where('id', '=', sent.body.id)
          .executeTakeFirstOrThrow()
      ).delivery_state;
    // The state is recorded right after the answer; poll the database, no timing assumption.
    let state = await deliveryState();
    for (let i = 0; i < 500 && state !== 'sent'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      state = await deliveryState();
    }
    expect(state).toBe('sent');
  });
});
