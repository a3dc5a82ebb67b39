import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Channel, Line, LineSettingsPatch, OpenlinesEvent } from '@openlines/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../src/services/accounts';
import { eraseAccount } from '../src/services/erasure';
import { storeFile } from '../src/services/files';
import { runInTransaction } from '../src/services/transaction';
import { WebhookWorker } from '../src/workers/webhooks';
import { createEngineWorld, type EngineWorld, type Operator } from './engine-fixture';
import { createSignedInUser, openRealtime, problemOf, waitFor } from './harness';
import { databaseHits, fileHits } from './marker-search';
import { startBotPeer } from './peers/bot-peer';
import { TestVisitor } from './widget-visitor';

// Personal data that is really forgotten (issue 18): a unique marker is written into a client's
// name, a message, an attachment (its name and bytes), a form answer, an operator's reply and a
// rating comment; each erasure path runs; then every text/json/bytea column of every table and every
// file of the data directory is searched for the marker, and a socket replay from cursor 0 too.

const ORIGIN = 'https://shop.example.test';
const DAY_MS = 24 * 60 * 60 * 1000;

let world: EngineWorld;
let operator: Operator;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'openlines-privacy-'));
  world = await createEngineWorld({
    operatorCount: 1,
    settings: { automaticActions: { welcome: { enabled: false } } },
    server: {
      env: {
        DATA_DIR: dataDir,
        DEFAULT_PLAN_MAX_LINES: '100',
        SESSION_TTL_DAYS: '365',
        // The event-webhook receiver of the copies test listens on loopback.
        WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
      },
    },
  });
  operator = world.operators[0]!;
  await world.online(operator);
});
afterAll(async () => {
  await world?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const newMarker = (label: string) => `mrk${label}${randomBytes(6).toString('hex')}`;

async function lineWithWidget(
  settings: LineSettingsPatch = {},
): Promise<{ line: Line; channel: Channel; key: string }> {
  const line = await world.admin.lines.create({
    name: `Privacy ${randomBytes(3).toString('hex')}`,
    settings: {
      ...settings,
      automaticActions: { welcome: { enabled: false }, ...settings.automaticActions },
      queue: { members: [{ type: 'user', id: operator.id }] },
    },
  });
  const { channel } = await world.admin.channels.create({
    kind: 'widget',
    name: `Site ${randomBytes(3).toString('hex')}`,
    lineId: line.id,
    settings: { allowedDomains: ['shop.example.test'] },
  });
  return { line, channel, key: String(channel.settings.publicKey) };
}

interface Planted {
  visitor: TestVisitor;
  dialogId: string;
  clientId: string;
}

/**
 * A visitor writes `content` into a message and an attachment, the operator quotes it, and the
 * contact form puts `identity` into the client's name and e-mail (the form's answers).
 */
async function plant(key: string, content: string, identity: string): Promise<Planted> {
  const visitor = new TestVisitor(world.server.url, key, ORIGIN);
  await visitor.start();
  const file = await visitor.upload(
    Buffer.from(`attachment bytes ${content}`),
    `${content}.txt`,
    'text/plain',
  );
  expect(file.status).toBe(201);
  expect((await visitor.send(`my message ${content}`, undefined, [file.body])).status).toBe(201);
  const form = await visitor.call('POST', '/contact-form', {
    body: { name: `Name ${identity}`, email: `${identity}@example.test`, phone: '+7 900 000-00-00' },
  });
  expect(form.status).toBe(204);
  const { items } = await world.admin.dialogs.list({ view: 'all', search: `Name ${identity}` });
  const dialog = items.find((d) => d.client.name === `Name ${identity}`);
  expect(dialog).toBeDefined();
  await operator.ws.dialogs.send(dialog!.id, { text: `About ${content}: noted` });
  return { visitor, dialogId: dialog!.id, clientId: dialog!.client.id };
}

/** Everything an administrator's socket replays from cursor 0, as one text. */
async function operatorReplayFromZero(): Promise<{ text: string; ended: 'replayed' | 'resync' }> {
  const { realtime, events } = openRealtime(world.admin.client, { after: 0 });
  let ended: 'replayed' | 'resync' | null = null;
  realtime.on('replayed', () => {
    ended = 'replayed';
  });
  realtime.on('resync', () => {
    ended = 'resync';
  });
  await waitFor(() => ended !== null, 'the replay from cursor 0');
  realtime.close();
  return { text: JSON.stringify(events satisfies OpenlinesEvent[]), ended: ended! };
}

async function expectForgotten(marker: string): Promise<void> {
  // Bytes of erased files leave the disk in the privacy worker's round.
  await world.server.workers.privacy.runOnce();
  expect(await databaseHits(world.server.ctx.store.db, marker)).toEqual([]);
  expect(await fileHits(dataDir, marker)).toEqual([]);
  const replay = await operatorReplayFromZero();
  expect(replay.text).not.toContain(marker);
}

describe('the marker search itself', () => {
  it('finds a planted marker in the database, the files and the replay (so zero hits means something)', async () => {
    const { key } = await lineWithWidget();
    const marker = newMarker('probe');
    await plant(key, marker, marker);
    const hits = await databaseHits(world.server.ctx.store.db, marker);
    expect(hits).toEqual(
      expect.arrayContaining(['clients.name', 'clients.email', 'messages.text', 'files.name', 'events.data']),
    );
    expect((await fileHits(dataDir, marker)).length).toBe(1);
    expect((await operatorReplayFromZero()).text).toContain(marker);
  });
});

describe('history saving off (OT-1)', () => {
  it('erases the session at the close, and the rating reply written after it, rows, files and events', async () => {
    const { key } = await lineWithWidget({ other: { saveHistory: false } });
    const content = newMarker('hist');
    const identity = newMarker('card');
    const planted = await plant(key, content, identity);
    await operator.ws.dialogs.close(planted.dialogId);
    // After the close: the visitor rates, quoting the marker in the comment.
    const rated = await planted.visitor.call('POST', '/rating', {
      body: { value: 'dislike', comment: `slow ${content}` },
    });
    expect(rated.status).toBe(204);
    await expectForgotten(content);
    const messages = await world.admin.dialogs.messages(planted.dialogId);
    expect(messages.length).toBeGreaterThan(3);
    expect(messages.every((m) => m.text === null && m.attachments.length === 0)).toBe(true);
    // The client's card is not message history: the dialog keeps its client.
    expect(await databaseHits(world.server.ctx.store.db, identity)).toEqual(
      expect.arrayContaining(['clients.name', 'clients.email', 'widget_visitors.name']),
    );
    const replay = await planted.visitor.socket(0);
    await replay.until(
      (frames) => frames.some((f) => f.kind === 'replayed' || f.kind === 'resync'),
      'visitor replay',
    );
    expect(JSON.stringify(replay.frames)).not.toContain(content);
    await replay.close();
  });

  it('erases a delayed rating request once the session is final (the history_erasure timer)', async () => {
    const { key } = await lineWithWidget({
      other: { saveHistory: false },
      rating: { when: 'after_delay', delaySeconds: 60, timeLimitSeconds: 120 },
    });
    const content = newMarker('late');
    const planted = await plant(key, content, newMarker('card'));
    await operator.ws.dialogs.close(planted.dialogId);
    world.clock.advance(61_000);
    await world.server.workers.timers.runOnce();
    const asked = await world.admin.dialogs.messages(planted.dialogId);
    const request = asked.find((m) => m.systemKind === 'rating_request');
    expect(request?.text).not.toBeNull();
    world.clock.advance(121_000);
    await world.server.workers.timers.runOnce();
    const after = await world.admin.dialogs.messages(planted.dialogId);
    expect(after.every((m) => m.text === null)).toBe(true);
    await expectForgotten(content);
  });
});

describe('deleting a line (LN-2)', () => {
  it('removes everything of its dialogs everywhere: rows, events, outbox, files and the client', async () => {
    const { line, key } = await lineWithWidget();
    const marker = newMarker('line');
    await plant(key, marker, marker);
    await world.admin.lines.delete(line.id, line.name);
    await expectForgotten(marker);
  });
});

describe('deleting a channel', () => {
  it('removes everything of its dialogs everywhere, like a line', async () => {
    const { channel, key } = await lineWithWidget();
    const marker = newMarker('chan');
    await plant(key, marker, marker);
    await world.admin.channels.delete(channel.id, channel.name);
    await expectForgotten(marker);
  });
});

describe('deleting an account', () => {
  it('takes every row with it and queues its files for removal from disk', async () => {
    const { ctx } = world.server;
    const marker = newMarker('acct');
    const { account } = await createAccount(ctx, {
      accountName: `Gone ${marker}`,
      admin: { email: `${marker}@example.test`, name: `Admin ${marker}`, password: 'correct horse battery' },
    });
    await storeFile(
      ctx,
      {
        accountId: account.id,
        name: `${marker}.txt`,
        mimeType: 'text/plain',
        data: Buffer.from(`bytes ${marker}`),
        uploadedBy: { kind: 'user', id: null },
      },
      world.server.url,
    );
    expect(await fileHits(dataDir, marker)).toHaveLength(1);
    expect(await databaseHits(ctx.store.db, marker)).toEqual(
      expect.arrayContaining(['accounts.name', 'users.email', 'files.name']),
    );
    await runInTransaction(ctx, ({ tx }) => eraseAccount(ctx, tx, account.id, null));
    await expectForgotten(marker);
  });
});

describe('erasing a client on request (152-FZ art. 14, 21; GDPR art. 17)', () => {
  it("needs managePersonalData, the client's name as confirmation and a closed dialog", async () => {
    const { key } = await lineWithWidget();
    const marker = newMarker('guard');
    const planted = await plant(key, marker, marker);
    const supervisor = await createSignedInUser(world.server, world.admin.client, 'supervisor');
    const denied = await problemOf(
      supervisor.client.privacy.eraseClient(planted.clientId, {
        mode: 'anonymise',
        confirm: `Name ${marker}`,
      }),
    );
    expect(denied.status).toBe(403);
    const unconfirmed = await problemOf(
      world.admin.client.privacy.eraseClient(planted.clientId, {
        mode: 'anonymise',
        confirm: 'someone else',
      }),
    );
    expect(unconfirmed.status).toBe(409);
    expect(unconfirmed.problem.code).toBe('confirmation_required');
    expect(unconfirmed.fields).toContain('body.confirm');
    const badMode = await problemOf(
      world.admin.client.transport.request('POST', `/clients/${planted.clientId}/erase`, {
        body: { mode: 'shred', confirm: `Name ${marker}` },
      }),
    );
    expect(badMode.status).toBe(400);
    expect(badMode.fields.some((field) => field.startsWith('body.mode'))).toBe(true);
    const open = await problemOf(
      world.admin.client.privacy.eraseClient(planted.clientId, {
        mode: 'anonymise',
        confirm: `Name ${marker}`,
      }),
    );
    expect(open.status).toBe(409);
    expect(open.problem.code).toBe('invalid_state');
    const missing = await problemOf(
      world.admin.client.privacy.eraseClient('00000000-0000-4000-8000-000000000000', {
        mode: 'delete',
        confirm: 'x',
      }),
    );
    expect(missing.status).toBe(404);
    // Nothing was erased by the refused calls.
    expect(await databaseHits(world.server.ctx.store.db, marker)).toContain('messages.text');
  });

  it('anonymise: the dialog stays as "Deleted client", with no text, file or event of the client left', async () => {
    const { key } = await lineWithWidget();
    const marker = newMarker('anon');
    const planted = await plant(key, marker, marker);
    await operator.ws.dialogs.close(planted.dialogId);
    const summary = await world.admin.client.privacy.eraseClient(planted.clientId, {
      mode: 'anonymise',
      confirm: `Name ${marker}`,
    });
    expect(summary).toMatchObject({ dialogs: 1, clients: 1, files: 1 });
    expect(summary.messages).toBeGreaterThanOrEqual(2);
    await expectForgotten(marker);
    const dialog = await world.admin.dialogs.get(planted.dialogId);
    expect(dialog.client).toMatchObject({ name: 'Deleted client', email: null, phone: null, identities: [] });
    expect((await world.admin.dialogs.messages(planted.dialogId)).every((m) => m.text === null)).toBe(true);
    // The visitor's token is forgotten with them: the widget starts a new, empty conversation.
    const oldToken = planted.visitor.token;
    const again = await planted.visitor.start();
    expect(again.body.token).toBeDefined();
    expect(again.body.token).not.toBe(oldToken);
    expect(again.body.messages).toEqual([]);
  });

  it('delete: the dialogs go too', async () => {
    const { key } = await lineWithWidget();
    const marker = newMarker('del');
    const planted = await plant(key, marker, marker);
    await operator.ws.dialogs.close(planted.dialogId);
    const summary = await world.admin.client.privacy.eraseClient(planted.clientId, {
      mode: 'delete',
      confirm: `Name ${marker}`,
    });
    expect(summary).toMatchObject({ dialogs: 1, clients: 1 });
    await expectForgotten(marker);
    expect((await problemOf(world.admin.dialogs.get(planted.dialogId))).status).toBe(404);
  });

  it('the copies sent to event webhooks go with the client', async () => {
    const receiver = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(200).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const worker = new WebhookWorker(world.server.ctx);
    try {
      const { webhook } = await world.admin.client.webhooks.create({ url, events: ['message.created'] });
      const { key } = await lineWithWidget();
      const marker = newMarker('hook');
      const planted = await plant(key, marker, marker);
      for (let round = 0; round < 20; round++) {
        const report = await worker.runOnce();
        if (report.claimed === 0 && report.queued === 0) break;
      }
      // Delivered, and kept in the delivery log: the marker is there until the client is erased.
      expect(await databaseHits(world.server.ctx.store.db, marker)).toContain('webhook_deliveries.body');
      await operator.ws.dialogs.close(planted.dialogId);
      await world.admin.client.privacy.eraseClient(planted.clientId, {
        mode: 'anonymise',
        confirm: `Name ${marker}`,
      });
      await expectForgotten(marker);
      await world.admin.client.webhooks.delete(webhook.id);
    } finally {
      await worker.stop();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});

describe('copies sent to event webhooks and external bots, still waiting when the history is erased', () => {
  /**
   * A line whose external bot answers first, and an event webhook on client messages: the
   * visitor's marker is in a bot event (`bot_deliveries`) and an event-webhook delivery, both
   * waiting (the receiver refuses for now) when `erase` runs; then both receivers accept and the
   * workers deliver what is still queued. Nothing of the marker may stay anywhere after that.
   */
  async function copiesAfter(
    settings: LineSettingsPatch,
    erase: (planted: {
      line: Line;
      channel: Channel;
      dialogId: string;
      clientId: string;
      name: string;
    }) => Promise<void>,
  ): Promise<{ botSaw: boolean; hookSaw: boolean }> {
    const received: string[] = [];
    let hookStatus = 503;
    const receiver = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        // Only what the receiver accepted counts as delivered.
        if (hookStatus === 200) received.push(body);
        response.writeHead(hookStatus).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const peer = await startBotPeer(() => world.clock.now());
    const hooks = new WebhookWorker(world.server.ctx);
    const drainHooks = async () => {
      for (let round = 0; round < 20; round++) {
        const report = await hooks.runOnce();
        if (report.claimed === 0 && report.queued === 0 && report.fed === 0) break;
      }
    };
    try {
      const created = await world.admin.client.bots.create({
        kind: 'external',
        name: 'Copier',
        webhookUrl: peer.url,
      });
      peer.secret = created.secrets!.webhookSecret;
      const { webhook } = await world.admin.client.webhooks.create({ url, events: ['message.created'] });
      const { line, channel, key } = await lineWithWidget({
        ...settings,
        bot: { welcomeBot: { enabled: true, botId: created.bot.id, timeSeconds: 600 } },
      });
      const marker = newMarker('copy');
      const visitor = new TestVisitor(world.server.url, key, ORIGIN);
      await visitor.start();
      expect((await visitor.send(`my message ${marker}`)).status).toBe(201);
      const { items } = await world.admin.dialogs.list({ view: 'all', search: marker });
      const dialog = await world.admin.dialogs.get(items[0]!.id);
      expect(dialog.session?.status).toBe('bot');
      // Queued and refused once: the webhook's copy waits for a retry; the bot's was not sent yet.
      await drainHooks();
      const hits = await databaseHits(world.server.ctx.store.db, marker);
      expect(hits).toEqual(expect.arrayContaining(['bot_deliveries.payload', 'webhook_deliveries.body']));
      await erase({
        line,
        channel,
        dialogId: dialog.id,
        clientId: dialog.client.id,
        name: dialog.client.name,
      });
      // The receivers accept now; whatever is still queued is delivered.
      hookStatus = 200;
      peer.status = 200;
      world.clock.advance(60 * 60_000);
      await drainHooks();
      while ((await world.server.workers.bots.runOnce()).claimed > 0) {}
      await expectForgotten(marker);
      await world.admin.client.webhooks.delete(webhook.id);
      return {
        botSaw: peer.events.some((event) => JSON.stringify(event).includes(marker)),
        hookSaw: received.some((body) => body.includes(marker)),
      };
    } finally {
      await hooks.stop();
      await peer.close();
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  }

  it('history saving off: the waiting copies still reach the bot and the webhook, and keep no body after', async () => {
    const seen = await copiesAfter({ other: { saveHistory: false } }, async ({ dialogId }) => {
      await world.admin.dialogs.close(dialogId);
    });
    // What was waiting at the close still went out (the subscriber hears of the conversation)…
    expect(seen).toEqual({ botSaw: true, hookSaw: true });
  });

  it('erasing the client: the waiting copies go with them, unsent', async () => {
    const seen = await copiesAfter({}, async ({ dialogId, clientId, name }) => {
      await world.admin.dialogs.close(dialogId);
      await world.admin.client.privacy.eraseClient(clientId, { mode: 'anonymise', confirm: name });
    });
    expect(seen).toEqual({ botSaw: false, hookSaw: false });
  });

  it('deleting the line: the waiting copies go with its dialogs, unsent', async () => {
    const seen = await copiesAfter({}, async ({ line }) => {
      await world.admin.lines.delete(line.id, line.name);
    });
    expect(seen).toEqual({ botSaw: false, hookSaw: false });
  });
});

describe('the outbox', () => {
  it("keeps a message's content only until it is delivered", async () => {
    const received: string[] = [];
    const receiver = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        received.push(body);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as AddressInfo;
      await world.admin.channels.update(world.channelId, {
        settings: { webhookUrl: `http://127.0.0.1:${port}/hook` },
      });
      const marker = newMarker('out');
      const intake = await world.clientSays(`outbox-${marker}`, 'Hello');
      while ((await world.server.workers.outbox.runOnce()).claimed > 0) {}
      await operator.ws.dialogs.send(intake.dialogId, { text: `Your code is ${marker}` });
      expect(await databaseHits(world.server.ctx.store.db, marker)).toContain('outbox.payload');
      await world.server.workers.outbox.runOnce();
      expect(received.some((body) => body.includes(marker))).toBe(true);
      const hits = await databaseHits(world.server.ctx.store.db, marker);
      expect(hits).toContain('messages.text');
      expect(hits).not.toContain('outbox.payload');
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});

describe('retention (per account and per line)', () => {
  it('validates the account setting and names the field', async () => {
    const wrong = await problemOf(world.admin.client.privacy.updateSettings({ messageRetentionDays: 0 }));
    expect(wrong.status).toBe(400);
    expect(wrong.fields.some((field) => field.startsWith('body.messageRetentionDays'))).toBe(true);
    const line = await problemOf(
      world.admin.lines.update(world.line.id, { settings: { other: { retentionDays: -1 } } }),
    );
    expect(line.fields).toContain('body.settings.other.retentionDays');
    const operatorCall = await problemOf(operator.client.privacy.settings());
    expect(operatorCall.status).toBe(403);
    expect(await world.admin.client.privacy.settings()).toEqual({
      messageRetentionDays: null,
      eventRetentionHours: 24,
    });
    // A change is an audit entry naming the setting, not its value; a refused one is none.
    await world.admin.client.privacy.updateSettings({ messageRetentionDays: 3650 });
    await world.admin.client.privacy.updateSettings({ messageRetentionDays: null });
    const { items } = await world.admin.client.privacy.auditLog({ action: 'account.privacy_updated' });
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({ targetType: 'account', changedKeys: ['messageRetentionDays'] });
    expect(JSON.stringify(items)).not.toContain('3650');
  });

  it("erases a line's messages and files older than its retention, and the event log past its window", async () => {
    const { key } = await lineWithWidget({ other: { retentionDays: 30 } });
    const { key: keptKey } = await lineWithWidget();
    const content = newMarker('old');
    const kept = newMarker('kept');
    const identity = newMarker('card');
    const planted = await plant(key, content, identity);
    await plant(keptKey, kept, newMarker('card'));
    await operator.ws.dialogs.close(planted.dialogId);
    world.clock.advance(29 * DAY_MS);
    await world.server.workers.privacy.runOnce();
    // Not yet 30 days old: still there.
    expect(await databaseHits(world.server.ctx.store.db, content)).toContain('messages.text');
    world.clock.advance(2 * DAY_MS);
    await expectForgotten(content);
    // The line without retention keeps its messages (the account keeps them by default), though
    // its events are past the 24-hour resume window: a replay from 0 is a resync.
    expect(await databaseHits(world.server.ctx.store.db, kept)).toContain('messages.text');
    const replay = await operatorReplayFromZero();
    expect(replay.ended).toBe('resync');
    // The visitor's socket too: it reloads its conversation instead of replaying.
    const visitorSocket = await planted.visitor.socket(0);
    await visitorSocket.until((frames) => frames.some((f) => f.kind === 'resync'), 'the visitor resync');
    expect(visitorSocket.frames.some((f) => f.kind === 'replayed' || f.kind === 'message')).toBe(false);
    await visitorSocket.close();
    // The client's card is not a message: retention keeps it.
    expect(await databaseHits(world.server.ctx.store.db, identity)).toContain('clients.name');
  });

  it("applies the account's retention to every line that has none of its own", async () => {
    const { key } = await lineWithWidget();
    const content = newMarker('acct');
    const planted = await plant(key, content, newMarker('card'));
    await operator.ws.dialogs.close(planted.dialogId);
    expect(await world.admin.client.privacy.updateSettings({ messageRetentionDays: 7 })).toMatchObject({
      messageRetentionDays: 7,
    });
    world.clock.advance(8 * DAY_MS);
    await expectForgotten(content);
    await world.admin.client.privacy.updateSettings({ messageRetentionDays: null });
  });
});
