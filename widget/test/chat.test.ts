import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { VisitorMessage, VisitorSession, WidgetConfig, WidgetConversation } from '@openlines/contract';
import { type Browser, chromium, type Page, type WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS_DIR, CHROMIUM, CHROMIUM_ARGS } from '../../server/test/web-build';
import { buildWidget } from '../build';

// The chat app in Chromium against a scripted API and socket (no server): the prompts and states a
// real conversation in e2e.test.ts does not reach — outside working hours, consent, the contact
// form, a slim rating, a refused message, older history, files, and what the socket pushes.

const SITE = 'http://site.test';
const KEY = 'pk_test';
const PREFIX = `/api/v1/widget/${KEY}`;

interface Request {
  method: string;
  path: string;
  body: unknown;
}

interface Reply {
  status?: number;
  body?: unknown;
}

type Replies = Record<string, Reply | ((body: unknown) => Reply)>;

interface Mounted {
  page: Page;
  requests: Request[];
  socket: Promise<WebSocketRoute>;
  events: () => Promise<[string, unknown][]>;
}

const CONFIG: WidgetConfig = {
  language: 'en',
  languageFixed: false,
  appearance: { color: '#2563eb', position: 'right', title: null },
  availability: { open: true, nextOpenAt: null, whenClosed: 'offline_form' },
  watchTyping: false,
  agreement: null,
  greeting: null,
  contactFormFields: ['name', 'email'],
  limits: {
    textLength: 4000,
    attachments: 5,
    uploadBytes: 1024 * 1024,
    uploadTypes: ['image/png', 'application/pdf'],
  },
};

const SESSION: VisitorSession = {
  status: 'waiting',
  operator: null,
  consentPending: false,
  ratingPending: false,
  ratingAllowed: false,
};

let ids = 0;
function message(fields: Partial<VisitorMessage>): VisitorMessage {
  ids++;
  return {
    id: `00000000-0000-4000-8000-${String(ids).padStart(12, '0')}`,
    author: 'operator',
    name: 'Anna',
    avatarUrl: null,
    text: null,
    attachments: [],
    createdAt: `2030-01-01T10:${String(ids % 60).padStart(2, '0')}:00.000Z`,
    clientMessageId: null,
    systemKind: null,
    quickReplies: [],
    editedAt: null,
    deleted: false,
    seen: false,
    ...fields,
  };
}

function conversation(fields: Partial<WidgetConversation> = {}): WidgetConversation {
  return {
    token: 'visitor-token',
    visitor: { id: 'v1', name: null, email: null, identified: false },
    cursor: 1,
    messages: [],
    hasMore: false,
    session: SESSION,
    consentNeeded: false,
    ...fields,
  };
}

/** The stored message the scripted server answers a POST /messages with. */
function stored(body: unknown): Reply {
  const sent = body as {
    clientMessageId: string;
    text?: string;
    attachments?: VisitorMessage['attachments'];
  };
  return {
    body: {
      duplicate: false,
      message: message({
        author: 'visitor',
        name: null,
        text: sent.text ?? null,
        attachments: sent.attachments ?? [],
        clientMessageId: sent.clientMessageId,
      }),
    },
  };
}

let browser: Browser;
let app: Uint8Array;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium`);
  }
  const [launched, built] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS }),
    buildWidget(),
  ]);
  browser = launched;
  app = built.app.contents;
}, 120_000);

afterAll(async () => browser?.close());

/**
 * Mounts the app as the loader would, in a page of `SITE`, and opens it. The API answers from
 * `replies` (by "METHOD /path"), 200 {} otherwise; the socket says hello to the visitor's auth.
 */
async function mountChat(
  options: { config?: Partial<WidgetConfig>; lang?: 'en' | 'ru'; token?: string; replies?: Replies } = {},
): Promise<Mounted> {
  const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
  const page = await context.newPage();
  const requests: Request[] = [];
  await page.route(`${SITE}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/') {
      return route.fulfill({
        contentType: 'text/html',
        body: `<!doctype html><html lang="${options.lang ?? 'en'}"><head><meta charset="utf-8"></head><body>
<script type="module">import { mount } from '/app.js'; window.__mount = mount;</script></body></html>`,
      });
    }
    if (url.pathname === '/app.js') {
      return route.fulfill({ contentType: 'text/javascript', body: Buffer.from(app) });
    }
    const where = url.pathname.slice(PREFIX.length) + url.search;
    const raw = route.request().postData();
    const isJson = route.request().headers()['content-type']?.includes('json');
    const body = raw && isJson ? JSON.parse(raw) : raw;
    requests.push({ method: route.request().method(), path: where, body });
    const scripted = options.replies?.[`${route.request().method()} ${where}`];
    const reply = typeof scripted === 'function' ? scripted(body) : (scripted ?? {});
    return route.fulfill({
      status: reply.status ?? 200,
      contentType: 'application/json',
      body: JSON.stringify(reply.body ?? {}),
    });
  });
  let connected: (socket: WebSocketRoute) => void = () => {};
  const socket = new Promise<WebSocketRoute>((resolve) => {
    connected = resolve;
  });
  await page.routeWebSocket(/\/ws(\?|$)/, (ws) => {
    ws.onMessage((data) => {
      if (JSON.parse(String(data)).kind === 'auth') ws.send(JSON.stringify({ kind: 'hello', cursor: 1 }));
    });
    connected(ws);
  });
  await page.goto(`${SITE}/`);
  await page.waitForFunction(() => '__mount' in window);
  await page.evaluate(
    ({ config, lang, token, key }) => {
      type Mount = (host: unknown) => { open(): void };
      const w = window as unknown as { __mount: Mount; __events: [string, unknown][] };
      const element = document.createElement('div');
      element.setAttribute('data-openlines-widget', '');
      document.body.appendChild(element);
      const data = new Map<string, string>(token ? [['token', token]] : []);
      w.__events = [];
      const record = (name: string) => (payload?: unknown) => w.__events.push([name, payload]);
      w.__mount({
        base: location.origin,
        key,
        root: element.attachShadow({ mode: 'open' }),
        config,
        lang,
        store: {
          get: (name: string) => data.get(name) ?? null,
          set: (name: string, value: string) => data.set(name, value),
          remove: (name: string) => data.delete(name),
        },
        identity: null,
        emit: (name: string, payload?: unknown) => record(name)(payload),
        setUnread: record('setUnread'),
        setOpen: record('setOpen'),
      }).open();
    },
    { config: { ...CONFIG, ...options.config }, lang: options.lang ?? 'en', token: options.token, key: KEY },
  );
  await page.locator('section.panel').waitFor({ state: 'visible' });
  const events = () => page.evaluate(() => (window as unknown as { __events: [string, unknown][] }).__events);
  return { page, requests, socket, events };
}

/** The focused element in the widget: its tag, its `name`, and whether it is in the cards or the composer. */
const focusedIn = (page: Page) =>
  page.evaluate(() => {
    const active = document.querySelector('[data-openlines-widget]')?.shadowRoot?.activeElement;
    return active
      ? [active.tagName, active.getAttribute('name'), active.closest('.cards, .composer')?.className]
      : null;
  });

const requested = (chat: Mounted, method: string, where: string) =>
  chat.requests.filter((request) => request.method === method && request.path === where);

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, name) });
}

async function waitForRequest(chat: Mounted, method: string, where: string): Promise<Request> {
  for (let i = 0; i < 100; i++) {
    const found = requested(chat, method, where)[0];
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${method} ${where}`);
}

describe('the chat app against a scripted API', () => {
  it('outside working hours, shows the offline form in the page’s language and sends it', async () => {
    const chat = await mountChat({
      lang: 'ru',
      config: {
        availability: { open: false, nextOpenAt: '2030-01-02T09:00:00.000Z', whenClosed: 'offline_form' },
      },
      replies: { 'POST /session': { body: conversation() }, 'POST /messages': stored },
    });
    const { page } = chat;
    await page.locator('form.card.offline').waitFor();
    expect(await page.locator('form.card.offline strong').textContent()).toBe('Сейчас мы не работаем');
    expect(await page.locator('form.composer').isHidden()).toBe(true);
    expect(await focusedIn(page)).toEqual(['INPUT', 'name', 'cards']);
    expect(await page.locator('form.card.offline label span').allTextContents()).toEqual([
      'Имя',
      'E-mail',
      'Сообщение',
    ]);
    await screenshot(page, 'widget-offline-form-ru.png');

    // Nothing is sent without the message itself.
    await page.locator('form.card.offline input[name="name"]').fill('Ivan');
    await page.locator('form.card.offline button[type="submit"]').click();
    expect(requested(chat, 'POST', '/messages')).toEqual([]);

    await page.locator('form.card.offline input[name="email"]').fill('ivan@example.test');
    await page.locator('form.card.offline textarea[name="message"]').fill('  Call me <b>back</b>  ');
    await page.locator('form.card.offline button[type="submit"]').click();
    await page.locator('.log .msg.me .text', { hasText: 'Call me <b>back</b>' }).waitFor();
    expect((await waitForRequest(chat, 'POST', '/messages')).body).toMatchObject({
      text: 'Call me <b>back</b>',
    });
    expect((await waitForRequest(chat, 'POST', '/contact-form')).body).toEqual({
      name: 'Ivan',
      email: 'ivan@example.test',
    });
    // With a message written, the form gives way to a notice and the composer.
    await page.locator('form.card.offline').waitFor({ state: 'detached' });
    expect(await page.locator('.cards .card strong').textContent()).toBe('Сейчас мы не работаем');
    expect(await page.locator('form.composer').isVisible()).toBe(true);
    await page.context().close();
  });

  it('asks for consent and for contact details, and takes both answers', async () => {
    const consentAsk = message({
      author: 'system',
      name: null,
      text: 'Terms apply.',
      systemKind: 'consent_request',
    });
    const formAsk = message({
      author: 'system',
      name: null,
      text: 'How can we reach you?',
      systemKind: 'contact_form_request',
    });
    const chat = await mountChat({
      token: 'visitor-token',
      config: { contactFormFields: ['name', 'phone'] },
      replies: {
        'POST /session': {
          body: conversation({
            messages: [consentAsk, formAsk],
            session: { ...SESSION, consentPending: true },
          }),
        },
      },
    });
    const { page } = chat;
    await page.locator('.cards button', { hasText: 'I agree' }).waitFor();
    expect(await page.locator('.log .msg.sys .bubble').allTextContents()).toEqual([
      'Terms apply.',
      'How can we reach you?',
    ]);
    expect(await page.locator('.cards form.card label span').allTextContents()).toEqual(['Name', 'Phone']);
    expect(await page.locator('.cards input[name="phone"]').getAttribute('type')).toBe('tel');
    await screenshot(page, 'widget-prompts.png');

    await page.locator('.cards button', { hasText: 'I agree' }).click();
    await page.locator('.cards button', { hasText: 'I agree' }).waitFor({ state: 'detached' });
    expect(requested(chat, 'POST', '/consent')).toHaveLength(1);
    expect(await page.locator('.err.ok').textContent()).toBe('Thank you!');
    expect(await focusedIn(page)).toEqual(['TEXTAREA', null, 'composer']);

    await page.locator('.cards input[name="phone"]').fill(' +1 555 0100 ');
    await page.locator('.cards form.card button[type="submit"]').click();
    await page.locator('.cards form.card').waitFor({ state: 'detached' });
    expect(requested(chat, 'POST', '/contact-form').map((request) => request.body)).toEqual([
      { phone: '+1 555 0100' },
    ]);
    await page.context().close();
  });

  it('lets the visitor refuse consent, which is sent as a refusal', async () => {
    const chat = await mountChat({
      token: 'visitor-token',
      replies: {
        'POST /session': {
          body: conversation({
            messages: [
              message({ author: 'system', name: null, text: 'Terms apply.', systemKind: 'consent_request' }),
            ],
            session: { ...SESSION, consentPending: true },
          }),
        },
      },
    });
    const { page } = chat;
    const decline = page.locator('.cards button', { hasText: 'I do not agree' });
    await decline.click();
    await decline.waitFor({ state: 'detached' });
    expect(requested(chat, 'POST', '/consent/refuse')).toHaveLength(1);
    expect(requested(chat, 'POST', '/consent')).toHaveLength(0);
    await page.context().close();
  });

  it('asks for consent before the first message: nothing is written or sent until the visitor decides', async () => {
    let decided = false;
    const chat = await mountChat({
      token: 'visitor-token',
      config: { agreement: { text: 'We process your name and messages.' }, greeting: 'Hello! Ask away.' },
      replies: {
        'POST /session': () => ({ body: conversation({ consentNeeded: !decided }) }),
        'POST /consent': () => {
          decided = true;
          return { status: 204 };
        },
        'POST /messages': (body) => stored(body),
      },
    });
    const { page } = chat;
    const card = page.locator('.cards .card', { hasText: 'We process your name and messages.' });
    await card.waitFor();
    expect(await page.locator('.log .msg.greeting .text').textContent()).toBe('Hello! Ask away.');
    const box = page.locator('.composer textarea');
    expect(await box.isDisabled()).toBe(true);
    expect(await page.locator('.composer button.send').isDisabled()).toBe(true);
    expect(requested(chat, 'POST', '/messages')).toHaveLength(0);
    // The page the visitor is on is told once the conversation exists (no referrer here).
    await waitForRequest(chat, 'POST', '/page');
    expect(requested(chat, 'POST', '/page').map((r) => r.body)).toEqual([
      { url: `${SITE}/`, referrer: null },
    ]);

    await card.getByRole('button', { name: 'I agree' }).click();
    await card.waitFor({ state: 'detached' });
    expect(await box.isDisabled()).toBe(false);
    await box.fill('Now I can write');
    await box.press('Enter');
    await page.locator('.log .msg.me .text', { hasText: 'Now I can write' }).waitFor();
    expect(requested(chat, 'POST', '/messages')).toHaveLength(1);
    expect(await page.locator('.log .msg.greeting').count()).toBe(0);
    await page.context().close();
  });

  it('offers a slim rating when the line allows one, and sends the choice with a comment', async () => {
    const chat = await mountChat({
      token: 'visitor-token',
      replies: {
        'POST /session': {
          body: conversation({ session: { ...SESSION, status: 'active', ratingAllowed: true } }),
        },
      },
    });
    const { page } = chat;
    await page.locator('.cards .card.slim .rate').waitFor();
    expect(await page.locator('.cards textarea').count()).toBe(0);
    await page.locator('.rate button[aria-label="Bad"]').click();
    expect(await page.locator('.rate button[aria-label="Bad"]').getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('.rate button[aria-label="Good"]').getAttribute('aria-pressed')).toBe('false');
    expect(await page.locator('.cards .card.slim').count()).toBe(0);
    expect(await focusedIn(page)).toEqual(['TEXTAREA', null, 'cards']);
    await page.locator('.cards textarea').fill('Slow');
    await screenshot(page, 'widget-rating.png');
    await page.locator('.cards button.primary', { hasText: 'Send rating' }).click();
    await page.locator('.rate').waitFor({ state: 'detached' });
    expect(requested(chat, 'POST', '/rating').map((request) => request.body)).toEqual([
      { value: 'dislike', comment: 'Slow' },
    ]);
    await page.context().close();
  });

  it('shows what the socket pushes: typing, the operator, and answers (as text), counted while closed', async () => {
    const chat = await mountChat({
      token: 'visitor-token',
      replies: { 'POST /session': { body: conversation() } },
    });
    const { page } = chat;
    const socket = await chat.socket;
    await page.locator('.status', { hasText: 'We will answer shortly' }).waitFor();
    socket.send(JSON.stringify({ kind: 'typing', typing: true }));
    await page.locator('.typing', { hasText: 'Operator is typing…' }).waitFor();
    // "Stopped typing" ends the notice at once, without waiting for the frames to stop.
    socket.send(JSON.stringify({ kind: 'typing', typing: false }));
    await expect.poll(() => page.locator('.typing').textContent(), { timeout: 10_000 }).toBe('');
    socket.send(JSON.stringify({ kind: 'typing', typing: true }));
    await page.locator('.typing', { hasText: 'Operator is typing…' }).waitFor();
    socket.send(
      JSON.stringify({
        kind: 'session',
        cursor: 2,
        session: { ...SESSION, status: 'active', operator: { name: 'Anna', avatarUrl: null } },
      }),
    );
    await page.locator('.status', { hasText: 'Anna' }).waitFor();
    expect(await page.locator('.avatar').textContent()).toBe('A');

    await page.keyboard.press('Escape');
    await page.locator('section.panel').waitFor({ state: 'hidden' });
    const answer = message({ text: '<img src=x onerror="window.__xss=1">Hello' });
    socket.send(JSON.stringify({ kind: 'message', cursor: 3, message: answer }));
    await page.waitForFunction(() =>
      (window as unknown as { __events: [string, unknown][] }).__events.some(([name]) => name === 'message'),
    );
    expect(await chat.events()).toEqual(
      expect.arrayContaining([
        ['setOpen', false],
        ['setUnread', 1],
        ['message', { id: answer.id, author: 'operator', text: answer.text }],
      ]),
    );
    // An answer ends the typing notice.
    expect(await page.locator('.typing').textContent()).toBe('');
    expect(await page.locator('.log .msg.op .text').allTextContents()).toEqual([answer.text]);
    expect(await page.locator('.log .msg.op .text img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await page.context().close();
  });

  it('reads the conversation again when the server answers its socket with resync', async () => {
    const old = message({ text: 'An answer the server has since erased' });
    let starts = 0;
    const chat = await mountChat({
      token: 'visitor-token',
      replies: {
        'POST /session': () => {
          starts++;
          return { body: conversation(starts === 1 ? { messages: [old] } : { cursor: 40, messages: [] }) };
        },
      },
    });
    const { page } = chat;
    const socket = await chat.socket;
    await page.locator('.log .msg.op .text', { hasText: old.text! }).waitFor();
    socket.send(JSON.stringify({ kind: 'resync', cursor: 40 }));
    await expect.poll(() => requested(chat, 'POST', '/session').length, { timeout: 10_000 }).toBe(2);
    await expect.poll(() => page.locator('.log .msg.op').count(), { timeout: 10_000 }).toBe(0);
    await page.context().close();
  });

  it('keeps a refused message with Retry and Remove, sends files, and loads older history', async () => {
    const older = message({ text: 'An older answer' });
    const newer = message({ text: 'The latest answer' });
    let refuse = true;
    const chat = await mountChat({
      token: 'visitor-token',
      replies: {
        'POST /session': { body: conversation({ messages: [newer], hasMore: true }) },
        'POST /messages': (body) =>
          refuse ? { status: 422, body: { detail: 'Not allowed here' } } : stored(body),
        'POST /files': {
          body: { name: 'photo.png', mimeType: 'image/png', size: 68, url: `${SITE}/files/photo.png` },
        },
        [`GET /messages?before=${newer.id}`]: { body: { items: [older], hasMore: false } },
      },
    });
    const { page } = chat;
    await page.locator('.log .msg.op .text', { hasText: 'The latest answer' }).waitFor();

    const box = page.locator('form.composer textarea');
    await box.fill('Please refuse this');
    await box.press('Enter');
    await page.locator('.msg.me.failed .fail', { hasText: 'Not allowed here' }).waitFor();
    expect(await page.locator('.msg.me.failed .state').getAttribute('aria-label')).toBe('Not sent');
    expect(await box.inputValue()).toBe('');
    refuse = false;
    await page.locator('.msg.me.failed button', { hasText: 'Retry' }).click();
    await page.locator('.msg.me .text', { hasText: 'Please refuse this' }).waitFor();
    await page.locator('.msg.me .state[aria-label="Sent"]').waitFor();
    expect(requested(chat, 'POST', '/messages')).toHaveLength(2);

    refuse = true;
    await box.fill('Remove me');
    await box.press('Enter');
    await page.locator('.msg.me.failed button', { hasText: 'Remove' }).click();
    await page.locator('.msg.me.failed').waitFor({ state: 'detached' });
    expect(await page.locator('.log .msg.me .text').allTextContents()).toEqual(['Please refuse this']);

    // A draft over the line's limit is kept whole (not cut), counted, and not sent.
    await box.fill('x'.repeat(4001));
    expect((await box.inputValue()).length).toBe(4001);
    const counter = page.locator('form.composer .counter');
    expect(await counter.textContent()).toBe('4001 / 4000');
    expect(await counter.getAttribute('class')).toContain('over');
    await box.press('Enter');
    await page.locator('.err', { hasText: 'at most 4000 characters' }).waitFor();
    expect(requested(chat, 'POST', '/messages')).toHaveLength(3);
    await box.fill('short');
    expect(await counter.isHidden()).toBe(true);

    // Shift+Enter is a new line, not a send.
    await box.fill('line one');
    await box.press('Shift+Enter');
    expect(requested(chat, 'POST', '/messages')).toHaveLength(3);

    refuse = false;
    await box.fill('');
    await page.locator('form.composer input[type="file"]').setInputFiles({
      name: 'photo.png',
      mimeType: 'image/png',
      buffer: Buffer.from('89504e470d0a1a0a', 'hex'),
    });
    await page.locator('.log .msg.me .files img[alt="photo.png"]').waitFor();
    expect(requested(chat, 'POST', '/files')).toHaveLength(1);
    // A type the line does not take is refused before any upload.
    await page.locator('form.composer input[type="file"]').setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('hello'),
    });
    await page.locator('.err', { hasText: 'This type of file cannot be sent' }).waitFor();
    expect(requested(chat, 'POST', '/files')).toHaveLength(1);

    await page.locator('.log button.more').click();
    await page.locator('.log .msg.op .text', { hasText: 'An older answer' }).waitFor();
    expect((await page.locator('.log .msg.op .text').allTextContents()).slice(0, 2)).toEqual([
      'An older answer',
      'The latest answer',
    ]);
    expect(await page.locator('.log button.more').isHidden()).toBe(true);
    await page.context().close();
  });
});
