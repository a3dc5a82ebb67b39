import { createHmac } from 'node:crypto';
import type { Channel, VisitorMessage, WidgetConversation } from '@openlines/contract';
import { CrmApi } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WIDGET_RATE_LIMITS } from '../src/channels/widget/edge';
import { createEngineWorld, type EngineWorld, type Operator } from './engine-fixture';
import { problemOf } from './harness';
import { PNG_1X1, TestVisitor } from './widget-visitor';

// The website widget's public endpoints and visitor socket (issue 4), through real HTTP and
// WebSocket calls, as the widget script makes them.

const ORIGIN = 'https://shop.example.test';

let world: EngineWorld;
let operator: Operator;

interface WidgetChannel {
  channel: Channel;
  key: string;
  identitySecret: string;
}

async function createWidget(settings: Record<string, unknown> = {}): Promise<WidgetChannel> {
  const { channel, secrets } = await world.admin.channels.create({
    kind: 'widget',
    name: `Site ${Math.random().toString(36).slice(2, 8)}`,
    lineId: world.line.id,
    settings: { allowedDomains: ['shop.example.test', '*.example.org'], ...settings },
  });
  return { channel, key: String(channel.settings.publicKey), identitySecret: secrets.identitySecret! };
}

const visitorOf = (widget: WidgetChannel, origin: string | null = ORIGIN) =>
  new TestVisitor(world.server.url, widget.key, origin);

/** The operators' view of the visitor's dialog. */
async function dialogOf(widget: WidgetChannel) {
  const { items } = await world.admin.dialogs.list({ channelId: widget.channel.id, view: 'all' });
  expect(items).toHaveLength(1);
  return items[0]!;
}

beforeAll(async () => {
  // No welcome text: these tests count messages; the automatic texts are the line automation's tests.
  world = await createEngineWorld({
    operatorCount: 1,
    settings: { automaticActions: { welcome: { enabled: false } } },
    server: { env: { MAX_UPLOAD_BYTES: '65536' } },
  });
  operator = world.operators[0]!;
  await world.online(operator);
});
afterAll(async () => world?.stop());

describe('a widget channel', () => {
  it('is created with a public key, an identity secret shown once, and an install snippet', async () => {
    const widget = await createWidget({ appearance: { color: '#FF0000', position: 'left' } });
    expect(widget.key).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(widget.identitySecret).toMatch(/^olwi_/);
    expect(widget.channel.settings).toEqual({
      allowedDomains: ['shop.example.test', '*.example.org'],
      appearance: { color: '#ff0000', position: 'left', title: null },
      language: 'auto',
      publicKey: widget.key,
    });
    const fetched = await world.admin.channels.get(widget.channel.id);
    expect(JSON.stringify(fetched)).not.toContain(widget.identitySecret);

    const snippet = (await world.admin.client.transport.request(
      'GET',
      `/channels/${widget.channel.id}/widget`,
    )) as {
      publicKey: string;
      loaderUrl: string;
      snippet: string;
    };
    expect(snippet.publicKey).toBe(widget.key);
    expect(snippet.loaderUrl).toBe(`${world.server.url}/widget/loader.js`);
    expect(snippet.snippet).toMatch(/^<script>.*<\/script>$/s);
    expect(snippet.snippet).toContain(JSON.stringify(widget.key));
    expect(snippet.snippet).toContain('window.Openlines'.split('.')[0]!);

    // Updating settings keeps the key: it is in every page that embeds the widget.
    const updated = await world.admin.channels.update(widget.channel.id, {
      settings: { allowedDomains: ['other.example.test'], publicKey: 'forged-key-12345' },
    });
    expect(updated.settings.publicKey).toBe(widget.key);
    expect(updated.settings.allowedDomains).toEqual(['other.example.test']);
  });

  it('refuses settings without allowed domains or with an entry that is not a host', async () => {
    const missing = await problemOf(
      world.admin.channels.create({
        kind: 'widget',
        name: 'No domains',
        lineId: world.line.id,
        settings: {},
      }),
    );
    expect(missing.status).toBe(400);
    expect(missing.problem.errors?.[0]?.field).toBe('body.settings.allowedDomains');
    const wrong = await problemOf(
      world.admin.channels.create({
        kind: 'widget',
        name: 'Bad domain',
        lineId: world.line.id,
        settings: { allowedDomains: ['example.com', 'https://example.com/path?x=1'] },
      }),
    );
    expect(wrong.problem.errors).toEqual([
      expect.objectContaining({ field: 'body.settings.allowedDomains.1' }),
    ]);
  });
});

describe('origin checks and CORS', () => {
  let widget: WidgetChannel;
  beforeAll(async () => {
    widget = await createWidget();
  });

  it.each([
    ['no Origin', null],
    ['another site', 'https://evil.example.net'],
    ['a look-alike domain', 'https://shop.example.test.evil.net'],
    ['the parent of a wildcard', 'https://example.org'],
    ['an opaque origin', 'null'],
  ])('refuses %s with 403 and no CORS header', async (_name, origin) => {
    const answer = await visitorOf(widget, origin).call<{ code: string; reason: string }>('GET', '/config');
    expect(answer.status).toBe(403);
    expect(answer.body.reason).toBe('origin_not_allowed');
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    const started = await visitorOf(widget, origin).start();
    expect(started.status).toBe(403);
    // Nothing was created for a refused origin.
    expect(started.body.token).toBeUndefined();
  });

  it.each([ORIGIN, 'http://shop.example.test:8080', 'https://a.example.org', 'https://deep.a.example.org'])(
    'serves %s and names it in CORS',
    async (origin) => {
      const answer = await visitorOf(widget, origin).config();
      expect(answer.status).toBe(200);
      expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
      expect(answer.headers.get('vary')).toContain('Origin');
      expect(answer.body).toMatchObject({
        language: 'en',
        availability: { open: true },
        watchTyping: true,
        limits: { textLength: 10_000, uploadBytes: 65_536 },
      });
    },
  );

  it('answers the CORS preflight for allowed origins only', async () => {
    const preflight = (origin: string) =>
      fetch(`${world.server.url}/api/v1/widget/${widget.key}/messages`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
    const allowed = await preflight(ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    const refused = await preflight('https://evil.example.net');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers 404 for an unknown key and for a disconnected widget (LN-5)', async () => {
    expect((await new TestVisitor(world.server.url, 'no-such-widget-key', ORIGIN).config()).status).toBe(404);
    const gone = await createWidget();
    await world.admin.channels.update(gone.channel.id, { status: 'disconnected' });
    const answer = await visitorOf(gone).call<{ reason: string }>('GET', '/config');
    expect(answer.status).toBe(404);
    expect(answer.body.reason).toBe('channel_disconnected');
  });
});

describe('visitors and their messages', () => {
  let widget: WidgetChannel;
  beforeAll(async () => {
    widget = await createWidget();
  });

  it('starts an anonymous conversation with a token, and resumes it with that token', async () => {
    const visitor = visitorOf(widget);
    const first = await visitor.start();
    expect(first.status).toBe(201);
    expect(first.body.token).toMatch(/^olv_/);
    expect(first.body).toMatchObject({ messages: [], hasMore: false, session: { status: 'none' } });
    expect(first.body.visitor.identified).toBe(false);
    const again = await visitor.start();
    expect(again.status).toBe(200);
    expect(again.body.token).toBeUndefined();
    expect(again.body.visitor.id).toBe(first.body.visitor.id);
    const stranger = await new TestVisitor(world.server.url, widget.key, ORIGIN).call<WidgetConversation>(
      'POST',
      '/session',
      { body: {}, token: 'olv_not-a-real-token' },
    );
    expect(stranger.status).toBe(201);
    expect(stranger.body.visitor.id).not.toBe(first.body.visitor.id);
    // Only a hash of the token is stored.
    const rows = await world.server.ctx.store.db.selectFrom('widget_visitors').select('token_hash').execute();
    expect(JSON.stringify(rows)).not.toContain(visitor.token!.slice(4));
  });

  it('stores a message once per client message id, however often it is retried', async () => {
    const visitor = visitorOf(widget);
    await visitor.start();
    const first = await visitor.send('Hello, is anyone there?', 'cmid-000000001');
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      duplicate: false,
      message: { author: 'visitor', text: 'Hello, is anyone there?', clientMessageId: 'cmid-000000001' },
    });
    const retried = await Promise.all([
      visitor.send('Hello, is anyone there?', 'cmid-000000001'),
      visitor.send('Hello, is anyone there?', 'cmid-000000001'),
    ]);
    for (const answer of retried) {
      expect(answer.status).toBe(200);
      expect(answer.body.duplicate).toBe(true);
      expect(answer.body.message.id).toBe(first.body.message.id);
    }
    const stored = await world.server.ctx.store.db
      .selectFrom('messages')
      .select('id')
      .where('channel_id', '=', widget.channel.id)
      .where('author_kind', '=', 'client')
      .execute();
    expect(stored).toHaveLength(1);
    const history = await visitor.history();
    expect(history.body.items.map((m) => m.text)).toEqual(['Hello, is anyone there?']);
  });

  it('refuses empty, oversized and foreign-attachment messages', async () => {
    const visitor = visitorOf(widget);
    await visitor.start();
    const empty = await visitor.call<{ code: string }>('POST', '/messages', {
      body: { clientMessageId: 'cmid-empty-1' },
    });
    expect(empty.status).toBe(400);
    const long = await visitor.send('x'.repeat(10_001));
    expect(long.status).toBe(400);
    const tooBig = await visitor.call('POST', '/messages', {
      body: { clientMessageId: 'cmid-big-0001', text: 'y'.repeat(70_000) },
    });
    expect(tooBig.status).toBe(413);
    const foreign = await visitor.send('look', undefined, [
      { name: 'x.png', url: 'https://evil.example.net/x.png', mimeType: 'image/png', size: 1 },
    ]);
    expect(foreign.status).toBe(400);
    const anonymous = await visitor.call('POST', '/messages', {
      body: { clientMessageId: 'cmid-no-token', text: 'hi' },
      token: null,
    });
    expect(anonymous.status).toBe(401);
  });

  it('shows the operator per OPERATOR_DATA (Q-8), never private notes', async () => {
    const visitor = visitorOf(widget);
    await visitor.start();
    await visitor.send('Where is my order?');
    const dialog = (await operator.ws.dialogs.list({ channelId: widget.channel.id, view: 'all' })).items.find(
      (d) =>
        d.client.identities.some((i) => i.externalId.startsWith('v:')) &&
        d.lastMessagePreview === 'Where is my order?',
    )!;
    await operator.ws.dialogs.send(dialog.id, { text: 'Let me check.' });
    await operator.ws.dialogs.note(dialog.id, 'internal: VIP customer');
    await world.admin.lines.update(world.line.id, {
      settings: { queue: { operatorData: { mode: 'replaced', replacementName: 'Support team' } } },
    });
    await operator.ws.dialogs.send(dialog.id, { text: 'Found it.' });
    await world.admin.lines.update(world.line.id, {
      settings: { queue: { operatorData: { mode: 'hidden' } } },
    });
    await operator.ws.dialogs.send(dialog.id, { text: 'Anything else?' });
    await world.admin.lines.update(world.line.id, {
      settings: { queue: { operatorData: { mode: 'profile' } } },
    });

    const { body } = await visitor.history();
    const shown = body.items.filter((m) => m.author === 'operator').map((m) => [m.text, m.name]);
    expect(shown).toEqual([
      ['Let me check.', operator.user.name],
      ['Found it.', 'Support team'],
      ['Anything else?', null],
    ]);
    expect(JSON.stringify(body)).not.toContain('VIP');
    expect(JSON.stringify(body)).not.toContain(operator.id);
    const started = await visitor.start();
    expect(started.body.session).toMatchObject({ status: 'active', operator: { name: operator.user.name } });
  });

  it('pages back through history', async () => {
    const visitor = visitorOf(widget);
    await visitor.start();
    for (let i = 1; i <= 5; i++) await visitor.send(`message ${i}`);
    const page = await visitor.history('?limit=2');
    expect(page.body.items.map((m) => m.text)).toEqual(['message 4', 'message 5']);
    expect(page.body.hasMore).toBe(true);
    const older = await visitor.history(`?limit=10&before=${page.body.items[0]!.id}`);
    expect(older.body.items.map((m) => m.text)).toEqual(['message 1', 'message 2', 'message 3']);
    expect(older.body.hasMore).toBe(false);
  });

  it('uploads attachments within the size and type limits, with clear errors', async () => {
    const visitor = visitorOf(widget);
    await visitor.start();
    const image = await visitor.upload(PNG_1X1, 'photo.png', 'image/png');
    expect(image.status).toBe(201);
    expect(image.body).toMatchObject({ name: 'photo.png', mimeType: 'image/png', size: PNG_1X1.length });
    const sent = await visitor.send('my photo', undefined, [image.body]);
    expect(sent.status).toBe(201);
    expect(sent.body.message.attachments).toEqual([image.body]);
    const file = await fetch(image.body.url);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(PNG_1X1)).toBe(true);

    const html = await visitor.upload(Buffer.from('<script>alert(1)</script>'), 'x.html', 'text/html');
    expect(html.status).toBe(415);
    expect((html.body as unknown as { detail: string }).detail).toContain('cannot be sent');
    const fake = await visitor.upload(Buffer.from('<html>not a png</html>'), 'x.png', 'image/png');
    expect(fake.status).toBe(415);
    const big = await visitor.upload(Buffer.alloc(70_000, 1), 'big.pdf', 'application/pdf');
    expect(big.status).toBe(413);
    expect((big.body as unknown as { detail: string }).detail).toMatch(/at most/);

    // Another visitor cannot send this visitor's upload as theirs.
    const other = visitorOf(widget);
    await other.start();
    expect((await other.send('stolen', undefined, [image.body])).status).toBe(400);
  });
});

describe('identity verification', () => {
  let widget: WidgetChannel;
  beforeAll(async () => {
    widget = await createWidget();
  });
  const hashOf = (secret: string, id: string) => createHmac('sha256', secret).update(id).digest('hex');

  it('refuses a wrong hash with 403 and changes nothing', async () => {
    const visitor = visitorOf(widget);
    await visitor.start();
    await visitor.send('before identify');
    const wrong = await visitor.call<{ reason: string }>('POST', '/identify', {
      body: { id: 'user-42', name: 'Mallory', hash: hashOf('olwi_not-the-secret', 'user-42') },
    });
    expect(wrong.status).toBe(403);
    expect(wrong.body.reason).toBe('identity_hash_invalid');
    const otherId = await visitor.call('POST', '/identify', {
      body: { id: 'user-43', hash: hashOf(widget.identitySecret, 'user-42') },
    });
    expect(otherId.status).toBe(403);
    const after = await visitor.start();
    expect(after.body.visitor).toMatchObject({ identified: false, name: null });
    const dialog = await dialogOf(widget);
    expect(dialog.client.identities[0]!.externalId).toMatch(/^v:/);
  });

  it('identifies with the right hash: the conversation continues, other devices see it', async () => {
    const visitor = visitorOf(widget);
    await visitor.start();
    await visitor.send('I am anonymous now');
    const identified = await visitor.call<WidgetConversation>('POST', '/identify', {
      body: {
        id: 'user-7',
        name: 'Ivan Petrov',
        email: 'ivan@example.test',
        hash: hashOf(widget.identitySecret, 'user-7'),
      },
    });
    expect(identified.status).toBe(200);
    expect(identified.body.visitor).toMatchObject({
      identified: true,
      name: 'Ivan Petrov',
      email: 'ivan@example.test',
    });
    expect(identified.body.messages.map((m) => m.text)).toEqual(['I am anonymous now']);

    // The same user on another device, identified by the site, sees the same conversation.
    const phone = visitorOf(widget);
    await phone.start();
    const onPhone = await phone.call<WidgetConversation>('POST', '/identify', {
      body: { id: 'user-7', hash: hashOf(widget.identitySecret, 'user-7') },
    });
    expect(onPhone.body.messages.map((m) => m.text)).toEqual(['I am anonymous now']);
    await phone.send('and now from my phone');
    expect((await visitor.history()).body.items.map((m) => m.text)).toEqual([
      'I am anonymous now',
      'and now from my phone',
    ]);
    const { items } = await world.admin.dialogs.list({ channelId: widget.channel.id, view: 'all' });
    const ivan = items.find((d) => d.client.identities.some((i) => i.externalId === 'u:user-7'))!;
    expect(ivan.client).toMatchObject({ name: 'Ivan Petrov', email: 'ivan@example.test' });
  });

  it("brings a consent given before writing to the identified client's conversation (AG-2)", async () => {
    await world.admin.lines.update(world.line.id, { settings: { agreement: { required: true } } });
    try {
      const laptop = visitorOf(widget);
      await laptop.start();
      await laptop.call('POST', '/consent');
      await laptop.send('Written on my laptop');
      await laptop.call('POST', '/identify', {
        body: { id: 'user-8', hash: hashOf(widget.identitySecret, 'user-8') },
      });
      // Another device agrees first, then turns out to be the same user: the decision is theirs.
      const phone = visitorOf(widget);
      expect((await phone.start()).body.consentNeeded).toBe(true);
      await phone.call('POST', '/consent/refuse');
      const joined = await phone.call<WidgetConversation>('POST', '/identify', {
        body: { id: 'user-8', hash: hashOf(widget.identitySecret, 'user-8') },
      });
      expect(joined.body.consentNeeded).toBe(false);
      const { items } = await world.admin.dialogs.list({ channelId: widget.channel.id, view: 'all' });
      const dialog = items.find((d) => d.client.identities.some((i) => i.externalId === 'u:user-8'))!;
      const decisions = (await world.admin.dialogs.consents(dialog.id)).map((c) => [c.decision, c.how]);
      // Both at the same instant of the test's clock: compared in any order.
      expect(decisions.sort()).toEqual([
        ['given', 'button'],
        ['refused', 'button'],
      ]);
    } finally {
      await world.admin.lines.update(world.line.id, { settings: { agreement: { required: false } } });
    }
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After past the per-visitor message budget', async () => {
    const widget = await createWidget();
    const visitor = visitorOf(widget);
    await visitor.start();
    const budget = WIDGET_RATE_LIMITS.message.visitor;
    for (let i = 0; i < budget; i++) expect((await visitor.send(`m${i}`)).status).toBe(201);
    const limited = await visitor.send('one too many');
    expect(limited.status).toBe(429);
    expect((limited.body as unknown as { code: string }).code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    // Another visitor on the same widget is not held back by this one.
    const other = visitorOf(widget);
    await other.start();
    expect((await other.send('hi')).status).toBe(201);
  });

  it('limits new conversations per IP', async () => {
    const widget = await createWidget();
    const budget = WIDGET_RATE_LIMITS.session.ip;
    const answers = await Promise.all(
      Array.from({ length: budget + 1 }, () => visitorOf(widget).call('POST', '/session', { body: {} })),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(budget);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(1);
  });
});

describe('the visitor socket', () => {
  let widget: WidgetChannel;
  beforeAll(async () => {
    widget = await createWidget();
  });

  it('refuses a socket from another origin, and a socket without a valid token', async () => {
    const stranger = new TestVisitor(world.server.url, widget.key, 'https://evil.example.net');
    await expect(stranger.socket()).rejects.toThrow(/403/);
    const visitor = visitorOf(widget);
    visitor.token = 'olv_unknown';
    const socket = await visitor.socket();
    await socket.until(() => socket.closed !== null, 'the socket to close');
    expect(socket.closed?.code).toBe(4401);
  });

  it('delivers its own dialog’s messages and session changes, and resumes after a cursor without gaps or repeats', async () => {
    const visitor = visitorOf(widget);
    const started = await visitor.start();
    const bystander = visitorOf(widget);
    await bystander.start();
    const socket = await visitor.socket(started.body.cursor);
    const bystanderSocket = await bystander.socket();
    await socket.until((f) => f.some((frame) => frame.kind === 'replayed'), 'the replay to finish');

    await visitor.send('Hi from the socket test');
    await socket.until((f) => f.some((frame) => frame.kind === 'message'), 'my own message');
    const dialog = (await world.admin.dialogs.list({ channelId: widget.channel.id, view: 'all' })).items.find(
      (d) => d.lastMessagePreview === 'Hi from the socket test',
    )!;
    await operator.ws.dialogs.send(dialog.id, { text: 'Hello! How can I help?' });
    await operator.ws.dialogs.note(dialog.id, 'secret note');
    await socket.until(
      (f) => f.some((frame) => frame.kind === 'message' && frame.message.text === 'Hello! How can I help?'),
      'the answer',
    );
    await operator.ws.dialogs.typing(dialog.id, 'typing something');
    await socket.until((f) => f.some((frame) => frame.kind === 'typing'), 'the operator typing');
    expect(socket.frames.some((frame) => frame.kind === 'session' && frame.session.status === 'active')).toBe(
      true,
    );

    // The network drops; meanwhile the operator writes twice.
    const cursor = socket.cursor();
    await socket.close();
    await operator.ws.dialogs.send(dialog.id, { text: 'Are you still there?' });
    await operator.ws.dialogs.send(dialog.id, { text: 'I will wait.' });
    await visitor.send('Sorry, I was offline', 'cmid-after-offline');
    const resumed = await visitor.socket(cursor);
    await resumed.until((f) => f.some((frame) => frame.kind === 'replayed'), 'the replay');
    const texts = (list: VisitorMessage[]) => list.map((m) => m.text);
    expect(texts(resumed.messages())).toEqual([
      'Are you still there?',
      'I will wait.',
      'Sorry, I was offline',
    ]);
    await operator.ws.dialogs.send(dialog.id, { text: 'Welcome back' });
    await resumed.until(
      (f) => f.some((frame) => frame.kind === 'message' && frame.message.text === 'Welcome back'),
      'live again',
    );
    const seen = [...socket.messages(), ...resumed.messages()].filter((m) => m.author === 'operator');
    expect(new Set(seen.map((m) => m.id)).size).toBe(seen.length);
    expect(JSON.stringify([...socket.frames, ...resumed.frames])).not.toContain('secret note');
    // Someone else's conversation never reaches this socket, and this one never reaches theirs.
    expect(bystanderSocket.messages()).toEqual([]);
    expect(bystanderSocket.frames.filter((f) => f.kind === 'typing' || f.kind === 'session')).toEqual([]);
    await resumed.close();
    await bystanderSocket.close();
  });

  it("shows an operator's edit and deletion live, and reports what the visitor has seen as read (issue 19)", async () => {
    const visitor = visitorOf(widget);
    await visitor.start();
    await visitor.send('Edit test');
    const dialog = (await world.admin.dialogs.list({ channelId: widget.channel.id, view: 'all' })).items.find(
      (d) => d.lastMessagePreview === 'Edit test',
    )!;
    const socket = await visitor.socket();
    await socket.until((f) => f.some((frame) => frame.kind === 'hello'), 'hello');
    const first = await operator.ws.dialogs.send(dialog.id, { text: 'It costs 10' });
    const second = await operator.ws.dialogs.send(dialog.id, { text: 'Wrong window' });
    await operator.client.dialogs.editMessage(dialog.id, first.id, 'It costs 12');
    await operator.client.dialogs.deleteMessage(dialog.id, second.id);
    const latest = (id: string) =>
      socket
        .messages()
        .filter((m) => m.id === id)
        .at(-1);
    await socket.until(
      () => latest(first.id)?.editedAt != null && latest(second.id)?.deleted === true,
      'the changes',
    );
    expect(latest(first.id)).toMatchObject({ text: 'It costs 12', deleted: false });
    expect(latest(second.id)).toMatchObject({ text: null, deleted: true, attachments: [] });
    // Reloading the conversation shows the same.
    const reloaded = await visitor.start();
    expect(reloaded.body.messages.find((m) => m.id === second.id)).toMatchObject({
      deleted: true,
      text: null,
    });

    // The visitor saw everything up to the edited message: it (not the later one) is read.
    socket.send({ kind: 'seen', messageId: first.id });
    await socket.until(() => latest(first.id)?.seen === true, 'the receipt to come back');
    const states = await world.server.ctx.store.db
      .selectFrom('messages')
      .select(['id', 'delivery_state'])
      .where('id', 'in', [first.id, second.id])
      .execute();
    expect(Object.fromEntries(states.map((r) => [r.id, r.delivery_state]))).toEqual({
      [first.id]: 'read',
      [second.id]: 'sent',
    });
    const shown = await operator.client.dialogs.messages(dialog.id);
    expect(shown.find((m) => m.id === first.id)?.deliveryState).toBe('read');
    // A receipt for someone else's message id changes nothing.
    const other = visitorOf(widget);
    await other.start();
    await other.send('not mine');
    const otherSocket = await other.socket();
    await otherSocket.until((f) => f.some((frame) => frame.kind === 'hello'), 'hello');
    otherSocket.send({ kind: 'seen', messageId: second.id });
    otherSocket.send({ kind: 'seen', messageId: 42 });
    await otherSocket.until((f) => f.some((frame) => frame.kind === 'error'), 'the refusal of a bad id');
    expect(
      (
        await world.server.ctx.store.db
          .selectFrom('messages')
          .select('delivery_state')
          .where('id', '=', second.id)
          .executeTakeFirstOrThrow()
      ).delivery_state,
    ).toBe('sent');
    await otherSocket.close();
    await socket.close();
  });

  it('sends the visitor’s typing to the operators, with the text when the line allows it (AA-8)', async () => {
    const visitor = visitorOf(widget);
    await visitor.start();
    await visitor.send('typing test');
    const { openRealtime } = await import('./harness');
    const stream = openRealtime(operator.client);
    const transients: unknown[] = [];
    stream.realtime.on('transient', (signal) => transients.push(signal));
    await stream.realtime.once('open');
    const socket = await visitor.socket();
    await socket.until((f) => f.some((frame) => frame.kind === 'hello'), 'hello');
    socket.send({ kind: 'typing', text: 'I would like to ret' });
    const { waitFor } = await import('./harness');
    await waitFor(() => transients.length > 0, 'the typing signal');
    expect(transients[0]).toMatchObject({
      type: 'typing',
      data: { author: 'client', text: 'I would like to ret' },
    });
    await world.admin.lines.update(world.line.id, { settings: { queue: { watchTyping: false } } });
    const typed = await visitor.call('POST', '/typing', { body: { text: 'secret draft' } });
    expect(typed.status).toBe(204);
    await waitFor(() => transients.length > 1, 'the second typing signal');
    expect(transients[1]).toMatchObject({ type: 'typing', data: { author: 'client', text: null } });
    await world.admin.lines.update(world.line.id, { settings: { queue: { watchTyping: true } } });
    stream.realtime.close();
    await socket.close();
  });
});

describe('consent, contact form and rating (line automation in the widget)', () => {
  let widget: WidgetChannel;
  beforeAll(async () => {
    widget = await createWidget();
  });

  async function dialogWith(preview: string) {
    const { items } = await world.admin.dialogs.list({ channelId: widget.channel.id, view: 'all' });
    return items.find((d) => d.lastMessagePreview === preview)!;
  }

  it('asks for consent before the first message and records the button as pressed (AG-2)', async () => {
    await world.admin.lines.update(world.line.id, {
      settings: {
        agreement: { required: true, text: 'I consent to the processing of my personal data.' },
        automaticActions: { welcome: { enabled: true, text: 'Hello! Ask us anything.' } },
      },
    });
    try {
      const visitor = visitorOf(widget);
      const config = await visitor.config();
      expect(config.body.agreement).toEqual({ text: 'I consent to the processing of my personal data.' });
      expect(config.body.greeting).toBe('Hello! Ask us anything.');
      expect((await visitor.start()).body.consentNeeded).toBe(true);

      // Before a decision the server refuses the message and stores nothing.
      const early = await visitor.send('I need help with my data');
      expect(early.status).toBe(409);
      expect(early.body).toMatchObject({ code: 'consent_required', reason: 'consent_first' });
      expect((await world.admin.dialogs.list({ channelId: widget.channel.id, view: 'all' })).items).toEqual(
        [],
      );

      expect((await visitor.call('POST', '/consent')).status).toBe(204);
      expect((await visitor.start()).body.consentNeeded).toBe(false);
      const sent = await visitor.send('I need help with my data');
      expect(sent.status).toBe(201);
      const after = await visitor.start();
      expect(after.body.consentNeeded).toBe(false);
      expect(after.body.session.consentPending).toBe(false);
      // Agreed already: the line does not send its agreement text again; the welcome still comes.
      expect(after.body.messages.map((m) => m.systemKind)).toEqual([null, 'welcome']);
      const dialog = await dialogWith('I need help with my data');
      const [consent] = await world.admin.dialogs.consents(dialog.id);
      expect(consent).toMatchObject({ decision: 'given', how: 'button', channelId: widget.channel.id });
      expect(Date.parse(consent!.at)).toBeLessThanOrEqual(Date.parse(sent.body.message.createdAt));
      expect(dialog.session?.consent).toBe('given');

      // Another visitor declines: recorded and shown, no consent (AG-3), and not asked again.
      const refusing = visitorOf(widget);
      await refusing.start();
      expect((await refusing.call('POST', '/consent/refuse')).status).toBe(204);
      expect((await refusing.send('I would rather not say')).status).toBe(201);
      const refusedStart = await refusing.start();
      expect(refusedStart.body.session.consentPending).toBe(false);
      expect(refusedStart.body.messages.some((m) => m.systemKind === 'consent_request')).toBe(false);
      const refusedDialog = await dialogWith('I would rather not say');
      expect(await world.admin.dialogs.consents(refusedDialog.id)).toEqual([
        expect.objectContaining({ decision: 'refused', how: 'button', channelId: widget.channel.id }),
      ]);
    } finally {
      await world.admin.lines.update(world.line.id, {
        settings: { agreement: { required: false }, automaticActions: { welcome: { enabled: false } } },
      });
    }
  });

  it('still asks in the conversation when the agreement text changed after the visitor decided', async () => {
    await world.admin.lines.update(world.line.id, { settings: { agreement: { required: true } } });
    try {
      const visitor = visitorOf(widget);
      await visitor.start();
      await visitor.call('POST', '/consent');
      await visitor.send('Order question');
      const dialog = await dialogWith('Order question');
      await world.admin.dialogs.close(dialog.id);
      await world.admin.lines.update(world.line.id, {
        settings: { agreement: { text: 'A new version of the agreement.' } },
      });
      // The earlier decision lets the visitor write; the new text is asked for in the conversation.
      expect((await visitor.send('Another question')).status).toBe(201);
      const { body } = await visitor.start();
      const ask = body.messages.filter((m) => m.systemKind === 'consent_request').at(-1);
      expect(ask?.text).toBe('A new version of the agreement.');
      expect(body.session.consentPending).toBe(true);
      expect((await visitor.call('POST', '/consent')).status).toBe(204);
      expect((await visitor.start()).body.session.consentPending).toBe(false);
    } finally {
      await world.admin.lines.update(world.line.id, { settings: { agreement: { required: false } } });
    }
  });

  it("reports the visitor's page and referrer to the client card, http(s) only (issue 19)", async () => {
    const visitor = visitorOf(widget);
    await visitor.start();
    const page = (body: unknown) =>
      visitor.call<{ code: string; errors?: { field: string }[] }>('POST', '/page', { body });
    for (const [body, field] of [
      [{ url: 'javascript:alert(1)' }, 'url'],
      [{ url: 'ftp://shop.example.test/file' }, 'url'],
      [{ url: `https://shop.example.test/${'a'.repeat(2100)}` }, 'url'],
      [{ url: 'https://shop.example.test/', referrer: 'data:text/html,<script>' }, 'referrer'],
      [{ url: 'http://' }, 'url'],
    ] as const) {
      const bad = await page(body);
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toContain(field);
    }
    // Before the first message the page waits on the visitor; the first message brings it to the card.
    const first = {
      url: 'https://shop.example.test/catalog?item=42',
      referrer: 'https://search.example.org/?q=kettle',
    };
    expect((await page(first)).status).toBe(204);
    await visitor.send('Is this kettle in stock?');
    const dialog = await dialogWith('Is this kettle in stock?');
    const identityOf = async () =>
      (await world.admin.dialogs.get(dialog.id)).client.identities.find(
        (i) => i.channelId === widget.channel.id,
      );
    expect((await identityOf())?.page).toMatchObject(first);
    // The visitor moves on: the card follows.
    expect((await page({ url: 'https://shop.example.test/cart', referrer: null })).status).toBe(204);
    expect((await identityOf())?.page).toMatchObject({
      url: 'https://shop.example.test/cart',
      referrer: null,
    });
  });

  it('takes the contact form the line asks for (AA-2)', async () => {
    await world.admin.lines.update(world.line.id, {
      settings: { automaticActions: { contactForm: { enabled: true, when: 'first_message' } } },
    });
    try {
      const visitor = visitorOf(widget);
      await visitor.start();
      await visitor.send('Please call me back');
      const { body } = await visitor.start();
      expect(body.messages.some((m) => m.systemKind === 'contact_form_request')).toBe(true);
      const bad = await visitor.call('POST', '/contact-form', { body: { email: 'not-an-email' } });
      expect(bad.status).toBe(400);
      const sent = await visitor.call('POST', '/contact-form', {
        body: { name: 'Anna Smirnova', email: 'anna@example.test', phone: '+7 900 000-00-00' },
      });
      expect(sent.status).toBe(204);
      const dialog = await dialogWith('Please call me back');
      expect(dialog.client).toMatchObject({ name: 'Anna Smirnova', email: 'anna@example.test' });
      // ...and into the CRM: the contact the session created now has her name and e-mail.
      const card = await new CrmApi(world.admin.client.transport).dialogCard(dialog.id);
      expect(card.contact).toMatchObject({ name: 'Anna Smirnova', emails: ['anna@example.test'] });
      expect((await visitor.start()).body.visitor.name).toBe('Anna Smirnova');
    } finally {
      await world.admin.lines.update(world.line.id, {
        settings: { automaticActions: { contactForm: { enabled: false } } },
      });
    }
  });

  it('lets the visitor rate before the end when the line allows it (QR-2)', async () => {
    const visitor = visitorOf(widget);
    await visitor.start();
    await visitor.send('Rate me now');
    const dialog = await dialogWith('Rate me now');
    await operator.ws.dialogs.send(dialog.id, { text: 'Here you go' });
    expect((await visitor.start()).body.session).toMatchObject({ ratingAllowed: true, ratingPending: false });
    expect((await visitor.call('POST', '/rating', { body: { value: 'like' } })).status).toBe(204);
    const after = await visitor.start();
    expect(after.body.session.ratingAllowed).toBe(false);
    expect(after.body.messages.at(-1)?.systemKind).toBe('rating_reply');
  });

  it('takes a like or dislike with a comment once the line asks (QR-1), and refuses it before', async () => {
    await world.admin.lines.update(world.line.id, { settings: { rating: { allowBeforeFinish: false } } });
    const visitor = visitorOf(widget);
    await visitor.start();
    await visitor.send('Rate me later');
    const dialog = await dialogWith('Rate me later');
    await operator.ws.dialogs.send(dialog.id, { text: 'Done!' });
    expect((await visitor.start()).body.session.ratingAllowed).toBe(false);
    const early = await visitor.call<{ code: string }>('POST', '/rating', { body: { value: 'like' } });
    expect(early.status).toBe(409);
    await world.admin.lines.update(world.line.id, { settings: { rating: { allowBeforeFinish: true } } });
    await operator.ws.dialogs.close(dialog.id);
    const asked = await visitor.start();
    expect(asked.body.session).toMatchObject({ status: 'closed', ratingPending: true });
    expect(asked.body.messages.at(-1)?.systemKind).toBe('rating_request');
    const rated = await visitor.call('POST', '/rating', {
      body: { value: 'dislike', comment: 'Too slow <b>!</b>' },
    });
    expect(rated.status).toBe(204);
    const after = await visitor.start();
    expect(after.body.session.ratingPending).toBe(false);
    const session = (await world.admin.dialogs.get(dialog.id)).session!;
    expect(session.rating).toMatchObject({ value: 'dislike', comment: 'Too slow <b>!</b>' });
  });
});

describe("the widget's schedule (WH-3)", () => {
  it('tells the widget it is closed, and whether to hide or to show the offline form', async () => {
    const widget = await createWidget();
    const closedEveryDay = { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] };
    await world.admin.lines.update(world.line.id, {
      settings: { workingHours: { widget: { mode: 'custom', custom: closedEveryDay, whenClosed: 'hide' } } },
    });
    try {
      const hidden = await visitorOf(widget).config();
      expect(hidden.body.availability).toMatchObject({ open: false, whenClosed: 'hide' });
      await world.admin.lines.update(world.line.id, {
        settings: { workingHours: { widget: { whenClosed: 'offline_form' } } },
      });
      const form = await visitorOf(widget).config();
      expect(form.body.availability).toMatchObject({ open: false, whenClosed: 'offline_form' });
      // The offline form's message is stored like any other, for the next working period (WH-2).
      const visitor = visitorOf(widget);
      await visitor.start();
      expect((await visitor.send('Please call me tomorrow')).status).toBe(201);
    } finally {
      await world.admin.lines.update(world.line.id, {
        settings: { workingHours: { widget: { mode: 'same' } } },
      });
    }
    expect((await visitorOf(widget).config()).body.availability.open).toBe(true);
  });
});
