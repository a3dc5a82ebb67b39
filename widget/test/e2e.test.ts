import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { WidgetSnippet } from '@openlines/contract';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Operator, type Workspace, workspaceOf } from '../../server/test/engine-fixture';
import {
  createSignedInUser,
  createTestServer,
  signIn,
  type TestServer,
  waitFor,
} from '../../server/test/harness';
import { ARTIFACTS_DIR } from '../../server/test/web-build';
import { ORANGE_PNG } from '../../server/test/widget-visitor';
import { buildWidget, DIST_DIR } from '../build';

// The widget in a real browser (Debian's Chromium, driven by playwright-core): a site's page embeds
// the snippet, a visitor chats with an operator who answers through the SDK, reloads, loses the
// network and comes back, and rates the conversation.

const CHROMIUM = '/usr/bin/chromium';
const XSS_VISITOR = '<img src=x onerror="window.__xss=1">';
const XSS_OPERATOR = 'Hi! <b>bold</b> <img src=x onerror="window.__xss=2"><script>window.__xss=3</script>';

let server: TestServer;
let admin: Workspace;
let operator: Operator;
let channelId: string;
let identitySecret: string;
let snippet: WidgetSnippet;
let consentSnippet: WidgetSnippet | undefined;
let photoSnippet: WidgetSnippet | undefined;
let site: http.Server;
let sitePort: number;
let browser: Browser | undefined;
let launching: Promise<Browser> | undefined;

/** The site's page: its own CSS tries to restyle everything, and it records its globals first. */
function pageHtml(lang: string, embed = snippet): string {
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shop</title>
<script>window.__globals = Object.getOwnPropertyNames(window);</script>
<style>* { color: rgb(255, 0, 0); font-family: serif; } button { background: rgb(0, 128, 0); padding: 30px; }</style>
</head><body>
<h1>Welcome to the shop</h1>
<button id="buy">Buy</button>
${embed.snippet}
</body></html>`;
}

function startSite(): Promise<void> {
  site = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    // The operator's photo (a solid orange square), and one that is gone.
    if (url.pathname === '/face.png') {
      response.writeHead(200, { 'content-type': 'image/png' });
      return void response.end(ORANGE_PNG);
    }
    if (url.pathname === '/gone.png') {
      response.writeHead(404);
      return void response.end();
    }
    const query = url.searchParams;
    const lang = query.get('lang') ?? 'en';
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    // ?w=consent: the page embeds the widget of the line that asks for consent first.
    const embed =
      query.get('w') === 'consent' && consentSnippet
        ? consentSnippet
        : query.get('w') === 'photo' && photoSnippet
          ? photoSnippet
          : snippet;
    response.end(pageHtml(lang, embed));
  });
  return new Promise((resolve) =>
    site.listen(0, '127.0.0.1', () => {
      sitePort = (site.address() as AddressInfo).port;
      resolve();
    }),
  );
}

function newContext(options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
  if (!browser) throw new Error('the browser did not start');
  return browser.newContext(options);
}

const siteUrl = (path = '/') => `http://127.0.0.1:${sitePort}${path}`;

async function openWidget(page: Page): Promise<void> {
  await page.locator('button.launcher').click();
  await page.locator('section.panel').waitFor({ state: 'visible' });
}

async function say(page: Page, text: string): Promise<void> {
  const box = page.locator('section.panel textarea[aria-label]').last();
  await box.fill(text);
  await box.press('Enter');
}

/** What the page showed, into test-artifacts/ for a look after a change to the widget's looks. */
async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, name) });
}

/** The texts of the messages shown in the widget, in order. */
function shownTexts(page: Page): Promise<string[]> {
  return page.locator('.log .msg .text').allTextContents();
}

/** Polls until `read` gives a value (the server side of what the browser did). */
async function eventually<T>(read: () => Promise<T | null | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const value = await read();
    if (value !== null && value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const dialogId = () =>
  eventually(async () => (await admin.dialogs.list({ channelId, view: 'all' })).items[0]?.id, 'the dialog');

async function clientMessages(text: string): Promise<number> {
  const rows = await server.ctx.store.db
    .selectFrom('messages')
    .select('id')
    .where('channel_id', '=', channelId)
    .where('author_kind', '=', 'client')
    .where('text', '=', text)
    .execute();
  return rows.length;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium`);
  }
  // The browser starts while the widget builds and the server comes up.
  launching = chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  launching.then(
    (launched) => {
      browser = launched;
    },
    () => {},
  );
  await buildWidget({ outDir: DIST_DIR });
  server = await createTestServer();
  admin = workspaceOf(await signIn(server));
  const signed = await createSignedInUser(server, admin.client, 'operator');
  operator = { ...signed, ws: workspaceOf(signed.client), id: signed.user.id };
  await operator.client.auth.setPresence('online');
  const line = await admin.lines.create({
    name: 'Website',
    settings: { queue: { members: [{ type: 'user', id: operator.id }] } },
  });
  await startSite();
  const created = await admin.channels.create({
    kind: 'widget',
    name: 'Shop site',
    lineId: line.id,
    settings: { allowedDomains: [`127.0.0.1:${sitePort}`], appearance: { color: '#2563eb' } },
  });
  channelId = created.channel.id;
  identitySecret = created.secrets.identitySecret!;
  snippet = (await admin.client.transport.request('GET', `/channels/${channelId}/widget`)) as WidgetSnippet;
  await launching;
}, 120_000);

afterAll(async () => {
  await launching?.catch(() => {});
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
  await server?.stop();
});

describe('the website widget in a browser', () => {
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    context = await newContext({ viewport: { width: 1200, height: 800 } });
    page = await context.newPage();
  });
  afterAll(async () => context?.close());

  it('serves the scripts gzipped, cacheable and loadable from any site', async () => {
    const loader = await fetch(snippet.loaderUrl, { headers: { 'accept-encoding': 'gzip' } });
    expect(loader.status).toBe(200);
    expect(loader.headers.get('content-type')).toContain('javascript');
    expect(loader.headers.get('cache-control')).toContain('max-age=300');
    expect(loader.headers.get('access-control-allow-origin')).toBe('*');
    const code = await loader.text();
    const appName = /app\.[0-9a-f]{12}\.js/.exec(code)?.[0];
    expect(appName).toBeDefined();
    const app = await fetch(snippet.loaderUrl.replace('loader.js', appName!));
    expect(app.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = app.headers.get('etag')!;
    const again = await fetch(snippet.loaderUrl.replace('loader.js', appName!), {
      headers: { 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
    expect((await fetch(snippet.loaderUrl.replace('loader.js', '..%2Fpackage.json'))).status).toBe(404);
  });

  it('adds one global and a button, and loads the chat only on first open', async () => {
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    await page.goto(siteUrl());
    await page.locator('button.launcher').waitFor();
    const added = await page.evaluate(() => {
      const before = (window as unknown as { __globals: string[] }).__globals;
      return Object.getOwnPropertyNames(window).filter(
        (name) => !before.includes(name) && name !== '__globals',
      );
    });
    expect(added).toEqual(['Openlines']);
    expect(
      await page.evaluate(() => Object.keys((window as unknown as { Openlines: object }).Openlines).sort()),
    ).toEqual(['close', 'identify', 'loaded', 'off', 'on', 'open', 'reset', 'toggle']);
    expect(requested.some((url) => /\/widget\/app\.[0-9a-f]+\.js$/.test(url))).toBe(false);

    // The page's CSS does not reach the widget, and the widget's does not reach the page.
    const launcherBackground = await page
      .locator('button.launcher')
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(launcherBackground).toBe('rgb(37, 99, 235)');
    const pageButton = await page.locator('#buy').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(pageButton).toBe('rgb(0, 128, 0)');

    await openWidget(page);
    expect(requested.some((url) => /\/widget\/app\.[0-9a-f]+\.js$/.test(url))).toBe(true);
    const focused = await page.evaluate(
      () => document.querySelector('[data-openlines-widget]')?.shadowRoot?.activeElement?.tagName,
    );
    expect(focused).toBe('TEXTAREA');
  });

  it('chats with an operator; hostile text in either direction shows as text', async () => {
    await say(page, XSS_VISITOR);
    await say(page, 'Hello from the browser');
    await page.locator('.msg.me .state[aria-label="Sent"]').nth(1).waitFor();
    const id = await dialogId();
    const seen = await admin.dialogs.messages(id);
    expect(seen.map((m) => m.text)).toEqual(expect.arrayContaining([XSS_VISITOR, 'Hello from the browser']));

    await operator.ws.dialogs.send(id, { text: XSS_OPERATOR });
    await page.locator('.msg.op .text', { hasText: 'Hi! <b>bold</b>' }).waitFor();
    expect(await shownTexts(page)).toEqual([XSS_VISITOR, 'Hello from the browser', XSS_OPERATOR]);
    expect(await page.locator('.log .text img, .log .text b, .log .text script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    // The operator's name, as the line shows it (OPERATOR_DATA: profile).
    expect(await page.locator('.msg.op .name').first().textContent()).toBe(operator.user.name);
    // The page's red text does not reach the chat.
    const color = await page
      .locator('.msg.op .bubble')
      .first()
      .evaluate((el) => getComputedStyle(el).color);
    expect(color).not.toBe('rgb(255, 0, 0)');
    await screenshot(page, 'widget-chat.png');
  });

  it('shows the history again after a reload', async () => {
    await page.reload();
    await page.locator('section.panel').waitFor({ state: 'visible' });
    await page.locator('.msg.op .text').first().waitFor();
    expect(await shownTexts(page)).toEqual([XSS_VISITOR, 'Hello from the browser', XSS_OPERATOR]);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  it('misses nothing and sends what was written while offline, once', async () => {
    const id = await dialogId();
    await page.waitForFunction(() =>
      document
        .querySelector('[data-openlines-widget]')
        ?.shadowRoot?.querySelector('.status')
        ?.textContent?.match(/[A-Za-z]/),
    );
    await context.setOffline(true);
    await operator.ws.dialogs.send(id, { text: 'Are you still there?' });
    await operator.ws.dialogs.send(id, { text: 'I will wait.' });
    await say(page, 'written while offline');
    await page.locator('.msg.me.queued, .msg.me.sending').first().waitFor();
    await page.locator('.banner').waitFor({ state: 'visible' });
    expect(await clientMessages('written while offline')).toBe(0);
    await screenshot(page, 'widget-offline.png');

    await context.setOffline(false);
    await page.locator('.msg.op .text', { hasText: 'I will wait.' }).waitFor({ timeout: 20_000 });
    await page.locator('.msg.me .text', { hasText: 'written while offline' }).waitFor();
    await page.locator('.msg.me.queued, .msg.me.sending').waitFor({ state: 'detached', timeout: 20_000 });
    expect(await shownTexts(page)).toEqual([
      XSS_VISITOR,
      'Hello from the browser',
      XSS_OPERATOR,
      'Are you still there?',
      'I will wait.',
      'written while offline',
    ]);
    expect(await clientMessages('written while offline')).toBe(1);
    await operator.ws.dialogs.send(id, { text: 'Welcome back' });
    await page.locator('.msg.op .text', { hasText: 'Welcome back' }).waitFor();
    expect((await shownTexts(page)).filter((text) => text === 'I will wait.')).toHaveLength(1);
  });

  it('rates the conversation with a like and a comment', async () => {
    const id = await dialogId();
    await page.locator('.rate button[aria-label="Good"]').click();
    await page.locator('.cards textarea').fill('Quick and helpful');
    await page.locator('.cards button.primary').click();
    const rating = await eventually(async () => (await admin.dialogs.get(id)).session?.rating, 'the rating');
    expect(rating).toMatchObject({ value: 'like', comment: 'Quick and helpful' });
    await page.locator('.rate').waitFor({ state: 'detached' });
  });

  it('is keyboard accessible: Escape closes, focus returns to the button, Enter opens', async () => {
    await page.locator('section.panel textarea').last().focus();
    await page.keyboard.press('Escape');
    await page.locator('section.panel').waitFor({ state: 'hidden' });
    const focused = await page.evaluate(
      () => document.querySelector('[data-openlines-widget]')?.shadowRoot?.activeElement?.className,
    );
    expect(focused).toContain('launcher');
    expect(await page.locator('button.launcher').getAttribute('aria-expanded')).toBe('false');
    await page.keyboard.press('Enter');
    await page.locator('section.panel').waitFor({ state: 'visible' });
    expect(await page.locator('button.launcher').getAttribute('aria-expanded')).toBe('true');
  });
});

describe('the widget on other pages', () => {
  it('shows an unread badge and tells the page about answers while closed', async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(siteUrl());
    await page.evaluate(() => {
      const w = window as unknown as {
        seen: unknown[];
        Openlines: { on(e: string, f: (p: unknown) => void): void };
      };
      w.seen = [];
      w.Openlines.on('message', (message) => w.seen.push(message));
    });
    await openWidget(page);
    await say(page, 'Badge test');
    await page.locator('.msg.me .state[aria-label="Sent"]').waitFor();
    await page.keyboard.press('Escape');
    const id = await eventually(
      async () =>
        (await admin.dialogs.list({ channelId, view: 'all' })).items.find(
          (d) => d.lastMessagePreview === 'Badge test',
        )?.id,
      'the dialog',
    );
    await operator.ws.dialogs.send(id, { text: 'An answer while closed' });
    await page.locator('button.launcher .badge', { hasText: '1' }).waitFor();
    const seen = await page.evaluate(() => (window as unknown as { seen: { author: string }[] }).seen);
    expect(seen.filter((message) => message.author === 'operator')).toEqual([
      expect.objectContaining({ author: 'operator', text: 'An answer while closed' }),
    ]);
    await openWidget(page);
    await page.locator('button.launcher .badge').waitFor({ state: 'hidden' });
    await context.close();
  });

  it('identifies the visitor with a hash made on the site’s server', async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(siteUrl());
    const hash = createHmac('sha256', identitySecret).update('customer-1001').digest('hex');
    await page.evaluate(
      (input) =>
        (window as unknown as { Openlines: { identify(i: unknown): Promise<void> } }).Openlines.identify(
          input,
        ),
      { id: 'customer-1001', name: 'Ivan Petrov', email: 'ivan@example.test', hash },
    );
    await openWidget(page);
    await say(page, 'Hello, I am a known customer');
    await page.locator('.msg.me .state[aria-label="Sent"]').waitFor();
    const dialog = await eventually(
      async () =>
        (await admin.dialogs.list({ channelId, view: 'all' })).items.find((d) =>
          d.client.identities.some((i) => i.externalId === 'u:customer-1001'),
        ),
      'the identified dialog',
    );
    expect(dialog.client).toMatchObject({ name: 'Ivan Petrov', email: 'ivan@example.test' });
    await context.close();
  });

  it('fills a phone-sized screen and speaks the page’s language', async () => {
    const context = await newContext({
      viewport: { width: 375, height: 667 },
      isMobile: true,
      hasTouch: true,
    });
    const page = await context.newPage();
    await page.goto(siteUrl('/?lang=ru'));
    expect(await page.locator('button.launcher').getAttribute('aria-label')).toBe('Открыть чат');
    await openWidget(page);
    const box = await page.locator('section.panel').boundingBox();
    expect(box).toMatchObject({ x: 0, y: 0, width: 375, height: 667 });
    expect(await page.locator('section.panel textarea').last().getAttribute('placeholder')).toBe(
      'Введите сообщение…',
    );
    await screenshot(page, 'widget-mobile-ru.png');
    await context.close();
  });

  it('stays away from a site that is not among the allowed domains', async () => {
    const context = await newContext();
    const page = await context.newPage();
    const warnings: string[] = [];
    page.on('console', (message) => warnings.push(message.text()));
    // Same page, another origin: localhost is not 127.0.0.1.
    await page.goto(`http://localhost:${sitePort}/`);
    await page.waitForFunction(
      () => (window as unknown as { Openlines?: { loaded?: boolean } }).Openlines?.loaded,
    );
    await waitFor(
      () => warnings.some((text) => text.includes('not available on this site')),
      'the warning',
      5000,
    );
    expect(await page.locator('button.launcher').count()).toBe(0);
    await context.close();
  });
});

describe('consent first, the greeting, and the page in the client card (issue 19)', () => {
  let consentChannelId: string;
  const AGREEMENT = 'I agree that Shop processes my name and messages to answer me.';
  const AGREEMENT_RU = 'Я согласен, что Магазин обрабатывает моё имя и сообщения, чтобы мне ответить.';
  const GREETING = 'Hello! Ask us about any product.';

  beforeAll(async () => {
    const line = await admin.lines.create({
      name: 'Shop with consent',
      settings: {
        queue: { members: [{ type: 'user', id: operator.id }] },
        agreement: { required: true, text: AGREEMENT },
        automaticActions: { welcome: { enabled: true, text: GREETING } },
      },
    });
    const created = await admin.channels.create({
      kind: 'widget',
      name: 'Shop site, consent first',
      lineId: line.id,
      settings: { allowedDomains: [`127.0.0.1:${sitePort}`], appearance: { color: '#2563eb' } },
    });
    consentChannelId = created.channel.id;
    consentSnippet = (await admin.client.transport.request(
      'GET',
      `/channels/${consentChannelId}/widget`,
    )) as WidgetSnippet;
  });

  const consentDialog = (text: string) =>
    eventually(
      async () =>
        (await admin.dialogs.list({ channelId: consentChannelId, view: 'all' })).items.find(
          (d) => d.lastMessagePreview === text,
        ),
      'the consent line dialog',
    );

  it('asks before the first message, then reports the page and its changes', async () => {
    const context = await newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    const referrer = 'https://search.example.org/?q=kettle';
    await page.goto(siteUrl('/products/kettle?w=consent'), { referer: referrer });
    await openWidget(page);
    const card = page.locator('.cards .card', { hasText: AGREEMENT });
    await card.waitFor();
    expect(await page.locator('.log .msg.greeting .text').textContent()).toBe(GREETING);
    const box = page.locator('section.panel textarea').last();
    expect(await box.isDisabled()).toBe(true);
    expect(await box.getAttribute('placeholder')).toBe('Agree or decline the terms first');
    expect(await page.locator('section.panel button.send').isDisabled()).toBe(true);
    await screenshot(page, 'widget-consent-first.png');

    await card.getByRole('button', { name: 'I agree' }).click();
    await card.waitFor({ state: 'detached' });
    expect(await box.isDisabled()).toBe(false);
    await say(page, 'Is the kettle in stock?');
    await page.locator('.msg.me .state[aria-label="Sent"]').waitFor();
    // The server's welcome replaces the greeting shown before; the agreement is not sent again.
    await page.locator('.log .msg.sys .bubble', { hasText: GREETING }).waitFor();
    expect(await page.locator('.log .msg.greeting').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'I agree' }).count()).toBe(0);

    const dialog = await consentDialog('Is the kettle in stock?');
    const consents = await admin.dialogs.consents(dialog.id);
    expect(consents).toEqual([
      expect.objectContaining({ decision: 'given', how: 'button', channelId: consentChannelId }),
    ]);
    const pageOf = async () =>
      (await admin.dialogs.get(dialog.id)).client.identities.find((i) => i.channelId === consentChannelId)
        ?.page;
    expect(await pageOf()).toMatchObject({ url: siteUrl('/products/kettle?w=consent'), referrer });

    // A single-page app moves on without a reload; a hash changes too: the card follows both.
    await page.evaluate(() => history.pushState({}, '', '/products/teapot?w=consent'));
    await eventually(
      async () => ((await pageOf())?.url === siteUrl('/products/teapot?w=consent') ? true : null),
      'the pushed page',
    );
    await page.evaluate(() => {
      location.hash = 'reviews';
    });
    await eventually(
      async () => ((await pageOf())?.url === siteUrl('/products/teapot?w=consent#reviews') ? true : null),
      'the hash page',
    );
    await screenshot(page, 'widget-consent-given.png');
    await context.close();
  });

  it('lets a Russian visitor decline, and then write', async () => {
    const context = await newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    await admin.lines.update((await admin.channels.get(consentChannelId)).lineId!, {
      settings: { agreement: { text: AGREEMENT_RU } },
    });
    await page.goto(siteUrl('/?w=consent&lang=ru'));
    await openWidget(page);
    const card = page.locator('.cards .card', { hasText: AGREEMENT_RU });
    await card.waitFor();
    expect(await card.locator('p').first().textContent()).toBe(
      'Прежде чем написать нам, прочитайте условия и подтвердите свой выбор:',
    );
    const box = page.locator('section.panel textarea').last();
    expect(await box.getAttribute('placeholder')).toBe('Сначала ответьте на условия выше');
    await screenshot(page, 'widget-ru-consent-first.png');
    await card.getByRole('button', { name: 'Я не согласен' }).click();
    await card.waitFor({ state: 'detached' });
    await say(page, 'Просто вопрос');
    await page.locator('.msg.me .state').waitFor();
    const dialog = await eventually(
      async () =>
        (await admin.dialogs.list({ channelId: consentChannelId, view: 'all' })).items.find(
          (d) => d.lastMessagePreview === 'Просто вопрос',
        ),
      'the declined dialog',
    );
    expect(await admin.dialogs.consents(dialog.id)).toEqual([
      expect.objectContaining({ decision: 'refused', how: 'button' }),
    ]);
    // Declined is an answer: the agreement is not asked again.
    expect(await page.getByRole('button', { name: 'Я согласен' }).count()).toBe(0);
    await screenshot(page, 'widget-ru-consent-declined.png');
    await context.close();
  });
});

describe('the operator’s photo beside their messages and in the header (Q-8, issue 19)', () => {
  let photoChannelId: string;
  let lineId: string;

  beforeAll(async () => {
    const line = await admin.lines.create({
      name: 'Shop with photos',
      settings: { queue: { members: [{ type: 'user', id: operator.id }] } },
    });
    lineId = line.id;
    const created = await admin.channels.create({
      kind: 'widget',
      name: 'Shop site, photos',
      lineId: line.id,
      settings: { allowedDomains: [`127.0.0.1:${sitePort}`], appearance: { color: '#2563eb' } },
    });
    photoChannelId = created.channel.id;
    photoSnippet = (await admin.client.transport.request(
      'GET',
      `/channels/${photoChannelId}/widget`,
    )) as WidgetSnippet;
  });
  afterAll(async () => {
    await operator.client.auth.updateMe({ clientName: null, clientAvatarUrl: null });
  });

  const photoDialog = (text: string) =>
    eventually(
      async () =>
        (await admin.dialogs.list({ channelId: photoChannelId, view: 'all' })).items.find(
          (d) => d.lastMessagePreview === text,
        )?.id,
      'the photo line dialog',
    );

  for (const lang of ['en', 'ru'] as const) {
    it(`shows the client-facing photo, the initial when it does not load, none when hidden (${lang})`, async () => {
      await admin.lines.update(lineId, { settings: { queue: { operatorData: { mode: 'profile' } } } });
      await operator.client.auth.updateMe({ clientName: 'Anna', clientAvatarUrl: siteUrl('/face.png') });
      const context = await newContext({ viewport: { width: 1200, height: 800 }, locale: lang });
      const page = await context.newPage();
      await page.goto(siteUrl(`/?w=photo&lang=${lang}`));
      await openWidget(page);
      const question = `Who is there? (${lang})`;
      await say(page, question);
      const id = await photoDialog(question);

      await operator.ws.dialogs.send(id, { text: 'Anna here.' });
      const photo = page.locator('.msg.op img.face');
      await photo.waitFor();
      expect(await photo.getAttribute('src')).toBe(siteUrl('/face.png'));
      await waitFor(
        () => photo.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 16),
        'the photo to load',
      );
      expect(await page.locator('.msg.op .name').textContent()).toBe('Anna');
      const header = page.locator('header.head .avatar img');
      await header.waitFor();
      expect(await header.getAttribute('src')).toBe(siteUrl('/face.png'));
      await screenshot(page, `widget-operator-photo-${lang}.png`);

      // A photo that does not load: the initial of the shown name, in the bubble and the header.
      await operator.client.auth.updateMe({ clientAvatarUrl: siteUrl('/gone.png') });
      await operator.ws.dialogs.send(id, { text: 'My photo is gone.' });
      const initial = page.locator('.msg.op .face.initial');
      await initial.waitFor();
      expect(await initial.textContent()).toBe('A');
      // The header shows the session's operator as the server last told it: after a reload, the
      // photo that is gone, so the initial there too; each message keeps the photo it was sent with.
      await page.reload();
      await page.locator('section.panel').waitFor({ state: 'visible' });
      await page.locator('header.head .avatar .initial', { hasText: 'A' }).waitFor();
      await page.locator('.msg.op .face.initial').waitFor();
      expect(await page.locator('.msg.op img.face').count()).toBe(1);
      await screenshot(page, `widget-operator-initial-${lang}.png`);

      // Hidden operator data: no name and no face at all.
      await admin.lines.update(lineId, { settings: { queue: { operatorData: { mode: 'hidden' } } } });
      await operator.ws.dialogs.send(id, { text: 'Nobody in particular.' });
      const last = page.locator('.msg.op', { hasText: 'Nobody in particular.' });
      await last.waitFor();
      expect(await last.locator('.face, .name').count()).toBe(0);
      await context.close();
    });
  }
});
