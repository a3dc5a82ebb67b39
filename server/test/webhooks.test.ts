import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '@openlines/contract';
import type { OpenlinesError } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSqlCounter, sqlStatements } from '../../bench/sql-counter';
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
} from '../src/delivery/signature';
import { clearChannelFailure, markChannelFailing } from '../src/services/channels';
import { runInTransaction } from '../src/services/transaction';
import { forgetDialogDeliveries, pruneWebhookLog } from '../src/services/webhooks';
import { WebhookWorker } from '../src/workers/webhooks';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { createSignedInUser, createTestServer, signIn, type TestServer } from './harness';

/**
 * Event webhooks (SPEC PL-1) end to end: a real local HTTP receiver that checks every signature,
 * answers 500 and 429 + Retry-After before it succeeds; ordering per dialog; pause and resume with
 * nothing lost; the bad input a subscription refuses.
 */
installSqlCounter();

interface Received {
  deliveryId: string;
  eventType: string;
  body: {
    id: string;
    type: WebhookEventType;
    createdAt: string;
    accountId: string;
    data: Record<string, unknown>;
  };
  signatureValid: boolean;
}

type Answer = { status: number; headers?: Record<string, string> };

/** A webhook receiver: verifies the signature of every request, answers what the test queues. */
class Receiver {
  readonly received: Received[] = [];
  /** Answers for the next requests about a dialog (then 200). */
  readonly answers = new Map<string, Answer[]>();
  /** Dialogs whose requests fail with 500 while listed. */
  readonly failing = new Set<string>();
  secret = '';
  #server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(raw) as Received['body'];
      const signatureValid = verifyWebhookSignature(
        this.secret,
        request.headers[TIMESTAMP_HEADER.toLowerCase()] as string,
        raw,
        request.headers[SIGNATURE_HEADER.toLowerCase()] as string,
        this.now(),
      );
      this.received.push({
        deliveryId: request.headers[DELIVERY_HEADER.toLowerCase()] as string,
        eventType: request.headers['x-openlines-event'] as string,
        body,
        signatureValid,
      });
      const dialogId = dialogOf(body);
      const answer: Answer =
        dialogId && this.failing.has(dialogId)
          ? { status: 500 }
          : ((dialogId ? this.answers.get(dialogId)?.shift() : undefined) ?? { status: 200 });
      response.writeHead(answer.status, answer.headers ?? {});
      response.end(answer.status === 200 ? 'ok' : 'no');
    });
  });

  constructor(readonly now: () => Date) {}

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  of(dialogId: string): Received[] {
    return this.received.filter((r) => dialogOf(r.body) === dialogId);
  }
}

function dialogOf(body: Received['body']): string | null {
  const data = body.data as { dialogId?: string; dialog?: { id: string } };
  return data.dialogId ?? data.dialog?.id ?? null;
}

/** The texts of the clients' messages among the requests, in the order they arrived. */
function clientTexts(requests: Received[]): string[] {
  return requests
    .filter((r) => r.body.type === 'message.created')
    .map((r) => r.body.data.message as { text: string; authorKind: string })
    .filter((m) => m.authorKind === 'client')
    .map((m) => m.text);
}

const EMITTED = WEBHOOK_EVENT_TYPES.filter((type) => !type.startsWith('crm.'));

describe('event webhooks', () => {
  let world: EngineWorld;
  let receiver: Receiver;
  let url: string;
  let worker: WebhookWorker;
  let webhookId: string;

  /** Runs rounds until nothing more is due now (the fake clock does not move by itself). */
  async function drain(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const report = await worker.runOnce();
      if (report.claimed === 0 && report.queued === 0) return;
    }
    throw new Error('the webhook worker kept finding work');
  }

  beforeAll(async () => {
    world = await createEngineWorld({
      operatorCount: 2,
      server: { env: { WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true' } },
    });
    await world.online(...world.operators);
    receiver = new Receiver(() => world.clock.now());
    url = await receiver.start();
    // A worker of the test's own: a low pause threshold, and a pinned random source (the backoff
    // is then exactly half its window).
    worker = new WebhookWorker(world.server.ctx, { pauseAfterFailures: 3, random: () => 0.5 });
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await world?.stop();
  });

  it('creates a subscription whose secret is shown once and stored sealed', async () => {
    const created = await world.admin.client.webhooks.create({
      url,
      events: [...EMITTED],
      description: 'CRM sync',
    });
    expect(created.secret).toMatch(/^whs_[A-Za-z0-9_-]{40,}$/);
    expect(created.webhook).toMatchObject({
      url,
      status: 'active',
      events: EMITTED,
      lineIds: [],
      pending: 0,
    });
    webhookId = created.webhook.id;
    receiver.secret = created.secret;
    const row = await world.server.ctx.store.db
      .selectFrom('webhook_subscriptions')
      .select('secret')
      .where('id', '=', webhookId)
      .executeTakeFirstOrThrow();
    expect(row.secret.startsWith('v1.')).toBe(true);
    expect(row.secret).not.toContain(created.secret);
    const listed = await world.admin.client.webhooks.list();
    expect(JSON.stringify(listed)).not.toContain(created.secret);
  });

  it('delivers signed events of a dialog in order, after they are committed', async () => {
    const first = await world.clientSays('wh-a', 'Hello');
    // Nothing goes out before the worker runs: the events are committed rows first.
    expect(receiver.received).toHaveLength(0);
    await drain();
    const got = receiver.of(first.dialogId);
    expect(got.every((r) => r.signatureValid)).toBe(true);
    const types = got.map((r) => r.body.type);
    expect(types).toContain('message.created');
    expect(types.indexOf('session.started')).toBeGreaterThanOrEqual(0);
    expect(types.indexOf('session.assigned')).toBeGreaterThan(types.indexOf('session.started'));
    // The event type header and the body agree; the body names the account.
    for (const r of got) expect(r.eventType).toBe(r.body.type);
    const message = got.find((r) => r.body.type === 'message.created')!;
    expect((message.body.data.message as { text: string }).text).toBe('Hello');
    // A wrong secret does not verify the same request.
    expect(
      verifyWebhookSignature(
        'whs_other',
        Math.floor(world.clock.now().getTime() / 1000),
        JSON.stringify(message.body),
        'v1=00',
        world.clock.now(),
      ),
    ).toBe(false);

    // Transfer and close: the session's changes, in order.
    const dialog = await world.admin.dialogs.get(first.dialogId);
    const holder = world.operators.find((o) => o.id === dialog.session?.operatorId)!;
    const other = world.operators.find((o) => o.id !== holder.id)!;
    await holder.ws.dialogs.send(first.dialogId, { text: 'Passing you on' });
    await holder.ws.dialogs.transfer(first.dialogId, { operatorId: other.id });
    await world.admin.dialogs.close(first.dialogId, { confirmed: true });
    await drain();
    const after = receiver.of(first.dialogId).map((r) => r.body);
    const transferred = after.find((b) => b.type === 'session.transferred');
    expect(transferred?.data.from).toMatchObject({ operatorId: holder.id });
    const closed = after.findIndex((b) => b.type === 'session.closed');
    expect(closed).toBeGreaterThan(after.findIndex((b) => b.type === 'session.transferred'));
    // Every delivery is in the log as delivered, with the receiver's status.
    const log = await world.admin.client.webhooks.deliveries(webhookId, { limit: 200 });
    expect(log.length).toBe(receiver.received.length);
    expect(log.every((d) => d.state === 'delivered' && d.lastStatus === 200 && d.attempts === 1)).toBe(true);
  });

  it('retries a 500 and honours 429 Retry-After; a failing dialog holds back only its own events', async () => {
    receiver.received.length = 0;
    const a = await world.clientSays('wh-b', 'First');
    await drain();
    receiver.received.length = 0;
    // Dialog A's next event meets a 500, then a 429 asking for two minutes.
    receiver.answers.set(a.dialogId, [{ status: 500 }, { status: 429, headers: { 'retry-after': '120' } }]);
    await world.clientSays('wh-b', 'Second');
    await world.clientSays('wh-b', 'Third');
    await drain();
    expect(receiver.of(a.dialogId)).toHaveLength(1);
    let log = await world.admin.client.webhooks.deliveries(webhookId);
    const failed = log.find((d) => d.lastStatus === 500)!;
    expect(failed).toMatchObject({ state: 'pending', attempts: 1, lastError: 'The receiver answered 500' });
    // Full jitter with random 0.5: half the first window (2 s).
    expect(Date.parse(failed.nextAttemptAt!) - world.clock.now().getTime()).toBe(1000);

    // Meanwhile another dialog's events are not held back.
    const b = await world.clientSays('wh-c', 'Other dialog');
    await drain();
    expect(receiver.of(b.dialogId).length).toBeGreaterThan(0);
    expect(receiver.of(a.dialogId)).toHaveLength(1);

    world.clock.advance(1000);
    await drain();
    // The retry met the 429: Retry-After (120 s) is longer than the backoff, so it wins.
    log = await world.admin.client.webhooks.deliveries(webhookId);
    const limited = log.find((d) => d.id === failed.id)!;
    expect(limited, JSON.stringify({ limited, failed, now: world.clock.now() })).toMatchObject({
      state: 'pending',
      attempts: 2,
      lastStatus: 429,
    });
    expect(Date.parse(limited.nextAttemptAt!) - world.clock.now().getTime()).toBe(120_000);
    world.clock.advance(119_000);
    await drain();
    expect(receiver.of(a.dialogId)).toHaveLength(2);
    world.clock.advance(1000);
    await drain();
    // Then it went through (500, 429, 200), and the later events of dialog A after it, in order.
    expect(clientTexts(receiver.of(a.dialogId))).toEqual(['Second', 'Second', 'Second', 'Third']);
    const delivered = (await world.admin.client.webhooks.deliveries(webhookId)).find(
      (d) => d.id === failed.id,
    )!;
    expect(delivered).toMatchObject({ state: 'delivered', attempts: 3, lastStatus: 200 });
    const ids = receiver.of(a.dialogId).map((r) => Number(r.deliveryId));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
  });

  it('pauses a subscription that keeps failing, with an alert, and resumes from where it stopped', async () => {
    receiver.received.length = 0;
    const a = await world.clientSays('wh-d', 'Before the outage');
    await drain();
    receiver.failing.add(a.dialogId);
    await world.clientSays('wh-d', 'During 1');
    for (let i = 0; i < 3; i++) {
      await drain();
      world.clock.advance(60 * 60 * 1000);
    }
    const paused = await world.admin.client.webhooks.get(webhookId);
    expect(paused).toMatchObject({ status: 'paused', consecutiveFailures: 3 });
    expect(paused.pausedReason).toBe('The receiver answered 500');
    // The alert: a 'webhook.changed' event with `paused`, for those who manage integrations.
    const alerts = await world.server.ctx.store.db
      .selectFrom('events')
      .select(['data', 'audience'])
      .where('type', '=', 'webhook.changed')
      .execute();
    const alert = alerts.find((e) => (e.data as { paused?: unknown }).paused);
    expect(alert?.audience).toEqual({ permission: 'manageIntegrations' });

    // While paused, nothing is sent, and events keep being queued.
    receiver.failing.clear();
    const sentBefore = receiver.received.length;
    await world.clientSays('wh-d', 'During 2');
    const b = await world.clientSays('wh-e', 'Another, while paused');
    await drain();
    world.clock.advance(60 * 60 * 1000);
    await drain();
    expect(receiver.received.length).toBe(sentBefore);
    expect((await world.admin.client.webhooks.get(webhookId)).pending).toBeGreaterThan(2);

    const resumed = await world.admin.client.webhooks.update(webhookId, { status: 'active' });
    expect(resumed).toMatchObject({ status: 'active', consecutiveFailures: 0, pausedReason: null });
    await drain();
    expect((await world.admin.client.webhooks.get(webhookId)).pending).toBe(0);
    // 'During 1' failed three times, then it and everything after it arrived, in order.
    expect(clientTexts(receiver.of(a.dialogId)).filter((t) => t !== 'Before the outage')).toEqual([
      'During 1',
      'During 1',
      'During 1',
      'During 1',
      'During 2',
    ]);
    expect(receiver.of(b.dialogId).map((r) => r.body.type)).toContain('session.started');
  });

  it('costs, with one subscription, a bounded number of statements per message (docs/benchmarks.md)', async () => {
    receiver.received.length = 0;
    const first = await world.clientSays('wh-cost', 'Opening');
    await drain();
    const holder = (await world.admin.dialogs.get(first.dialogId)).session!.operatorId!;
    await world.operators.find((o) => o.id === holder)!.ws.dialogs.send(first.dialogId, { text: 'Yes?' });
    await drain();
    // One client message in a held dialog: one message.created webhook. Counted: the feed round
    // and the delivery round with their idle parts, as a quiet account pays them.
    await world.clientSays('wh-cost', 'A follow-up');
    const before = sqlStatements();
    await drain();
    const spent = sqlStatements() - before;
    expect(clientTexts(receiver.of(first.dialogId))).toEqual(['Opening', 'A follow-up']);
    expect(spent).toBeLessThanOrEqual(16);
    process.stdout.write(`webhook statements for one message, one subscription: ${spent}\n`);
  });

  it('"send again" repeats a delivered event with its event id under a new delivery id', async () => {
    const log = await world.admin.client.webhooks.deliveries(webhookId, { limit: 1 });
    const last = log[0]!;
    expect(last.state).toBe('delivered');
    const again = await world.admin.client.webhooks.redeliver(webhookId, last.id);
    expect(again).toMatchObject({ eventId: last.eventId, state: 'pending' });
    expect(again.id).not.toBe(last.id);
    receiver.received.length = 0;
    await drain();
    expect(receiver.received.map((r) => [r.deliveryId, r.body.id])).toEqual([[again.id, last.eventId]]);
    expect(receiver.received[0]!.signatureValid).toBe(true);
  });

  it('sends CRM record events, which belong to no line', async () => {
    const crm = await world.admin.client.webhooks.create({
      url,
      events: ['crm.record.created', 'crm.record.updated'],
      lineIds: [world.line.id],
    });
    receiver.received.length = 0;
    const contact = await world.admin.client.crm.contacts.create({ name: 'Webhook contact' });
    await world.admin.client.crm.contacts.update(contact.id, { name: 'Webhook contact, renamed' });
    await drain();
    const mine = receiver.received.filter(
      (r) => (r.body.data as { record?: { id?: string } }).record?.id === contact.id,
    );
    expect(mine.map((r) => r.body.type)).toEqual(['crm.record.created', 'crm.record.updated']);
    expect(mine[0]!.body.data).toMatchObject({ record: { kind: 'contact', id: contact.id } });
    await world.admin.client.webhooks.delete(crm.webhook.id);
  });

  it('reports a failing channel once, with its reason', async () => {
    receiver.received.length = 0;
    const { ctx } = world.server;
    const accountId = (await world.admin.client.auth.me()).user.accountId;
    const channel = { id: world.channelId, account_id: accountId };
    await runInTransaction(ctx, (uow) =>
      markChannelFailing(uow, channel, 'The token was revoked', ctx.clock.now()),
    );
    await drain();
    // The failure cleared (a send succeeded) is no event; failing again is a second one.
    await runInTransaction(ctx, async (uow) => clearChannelFailure(uow, channel));
    await drain();
    const failing = receiver.received.filter((r) => r.body.type === 'channel.failing');
    expect(failing).toHaveLength(1);
    expect(failing[0]!.body.data).toMatchObject({
      channel: { id: world.channelId, kind: 'api', lineId: world.line.id },
      reason: 'The token was revoked',
    });
    await runInTransaction(ctx, (uow) => markChannelFailing(uow, channel, 'Revoked again', ctx.clock.now()));
    await drain();
    expect(receiver.received.filter((r) => r.body.type === 'channel.failing')).toHaveLength(2);
    await runInTransaction(ctx, async (uow) => clearChannelFailure(uow, channel));
  });

  it('two workers on one database send each event once, in order', async () => {
    receiver.received.length = 0;
    const second = new WebhookWorker(world.server.ctx, { random: () => 0.5 });
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) sent.push((await world.clientSays('wh-two', `Two workers ${i}`)).messageId);
    for (let i = 0; i < 30; i++) {
      const [x, y] = await Promise.all([worker.runOnce(), second.runOnce()]);
      if (x.claimed + y.claimed + x.queued + y.queued === 0) break;
    }
    await second.stop();
    const created = receiver.received.filter(
      (r) =>
        r.body.type === 'message.created' &&
        (r.body.data.message as { authorKind: string }).authorKind === 'client',
    );
    expect(created.map((r) => (r.body.data.message as { id: string }).id)).toEqual(sent);
    const eventIds = receiver.received.map((r) => r.body.id);
    expect(new Set(eventIds).size).toBe(eventIds.length);
  });

  it('filters by line and event type', async () => {
    const otherLine = await world.admin.lines.create({ name: 'Elsewhere' });
    const filtered = await world.admin.client.webhooks.create({
      url,
      events: ['session.closed'],
      lineIds: [otherLine.id],
    });
    await world.clientSays('wh-f', 'Hi');
    await drain();
    const rows = await world.admin.client.webhooks.deliveries(filtered.webhook.id);
    expect(rows).toEqual([]);
    await world.admin.client.webhooks.delete(filtered.webhook.id);
  });

  it('refuses bad URLs, events and lines with 400 naming the field; needs manageIntegrations', async () => {
    const bad = async (body: unknown) => {
      try {
        await world.admin.client.transport.request('POST', '/webhooks', { body });
      } catch (error) {
        return error as OpenlinesError;
      }
      throw new Error('accepted');
    };
    const cases: [unknown, string][] = [
      [{ url: 'ftp://example.com/x', events: ['message.created'] }, 'body.url'],
      [{ url: 'not a url', events: ['message.created'] }, 'body.url'],
      [{ url: 'https://user:pw@example.com/x', events: ['message.created'] }, 'body.url'],
      [{ url, events: ['message.deleted'] }, 'body.events'],
      [{ url, events: [] }, 'body.events'],
      [
        { url, events: ['message.created'], lineIds: ['00000000-0000-4000-8000-000000000000'] },
        'body.lineIds.0',
      ],
      [{ url, events: ['message.created'], extra: 1 }, 'body.extra'],
    ];
    for (const [body, field] of cases) {
      const error = await bad(body);
      expect(error.status, JSON.stringify(body)).toBe(400);
      expect(
        error.problem?.errors?.map((e) => e.field).some((f) => f.startsWith(field)),
        JSON.stringify(error.problem),
      ).toBe(true);
    }
    const operator = world.operators[0]!;
    await expect(operator.client.webhooks.list()).rejects.toMatchObject({ status: 403 });
    await expect(operator.client.webhooks.create({ url, events: ['message.created'] })).rejects.toMatchObject(
      {
        status: 403,
      },
    );
  });
  // Last: it moves the clock a month on (sessions expire).
  it("forgets an erased dialog's deliveries, and prunes the log after 30 days", async () => {
    const { ctx } = world.server;
    const said = await world.clientSays('wh-forget', 'Erase me');
    await drain();
    const count = async () =>
      (await ctx.store.db.selectFrom('webhook_deliveries').select(['ordering_key', 'body']).execute()).filter(
        (row) => row.ordering_key === `dialog:${said.dialogId}`,
      );
    expect((await count()).some((row) => row.body.includes('Erase me'))).toBe(true);
    const accountId = (await world.admin.client.auth.me()).user.accountId;
    await runInTransaction(ctx, ({ tx }) => forgetDialogDeliveries(tx, accountId, said.dialogId));
    expect(await count()).toEqual([]);

    const total = async () =>
      (await ctx.store.db.selectFrom('webhook_deliveries').select('id').execute()).length;
    const kept = await total();
    expect(kept).toBeGreaterThan(0);
    expect(await pruneWebhookLog(ctx)).toBe(0);
    world.clock.advance(31 * 24 * 60 * 60 * 1000);
    expect(await pruneWebhookLog(ctx)).toBe(kept);
    expect(await total()).toBe(0);
  });
});

describe('event webhooks, default server', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await createTestServer({ workers: false });
  });
  afterAll(() => server?.stop());

  it('refuses private, loopback and link-local targets unless allowed', async () => {
    const admin = await signIn(server);
    for (const target of [
      'http://127.0.0.1:8080/hook',
      'http://localhost/hook',
      'http://10.1.2.3/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/hook',
      'http://[::ffff:192.168.0.1]/hook',
    ]) {
      await expect(
        admin.webhooks.create({ url: target, events: ['message.created'] }),
        target,
      ).rejects.toMatchObject({
        status: 400,
        problem: { errors: [expect.objectContaining({ field: 'body.url' })] },
      });
    }
  });

  it('with no subscription anywhere, a poll costs one statement and reads no events', async () => {
    const admin = await signIn(server);
    await createSignedInUser(server, admin, 'operator');
    const worker = new WebhookWorker(server.ctx);
    const before = sqlStatements();
    const report = await worker.runOnce();
    expect(sqlStatements() - before).toBe(1);
    expect(report).toMatchObject({ fed: 0, claimed: 0 });
    await worker.stop();
  });
});
