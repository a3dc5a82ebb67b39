import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WidgetSnippet } from '@openlines/contract';
import type { OpenlinesClient } from '@openlines/sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildWidget, DIST_DIR } from '../../widget/build';
import { createSignedInUser, createTestServer, type SignedInUser, signIn, type TestServer } from './harness';
import {
  chromiumInstalled,
  ensureWebBuilt,
  type Locale,
  launchChromium,
  screenshotsOnFailure,
  screenshotTo,
  signedInPage,
} from './web-build';

// Chatbots in real browsers (Debian's Chromium): an admin builds a two-step menu bot in the web app,
// tries it in the preview and makes it the line's first responder; a visitor in the website widget
// clicks through its buttons and asks for an operator; the operator gets the session with the
// bot's part of the conversation above it. Screenshots in English and Russian go to test-artifacts/.

const shot = (page: Page, name: string) => screenshotTo(page, name, { fullPage: true });

describe.skipIf(!chromiumInstalled)('chatbots in a real browser', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: OpenlinesClient;
  let operator: SignedInUser;
  let lineId: string;
  let snippet: WidgetSnippet;
  let site: http.Server;
  let siteUrl: string;
  const pages: Page[] = [];

  beforeAll(async () => {
    ensureWebBuilt();
    await buildWidget({ outDir: DIST_DIR });
    server = await createTestServer();
    admin = await signIn(server);
    operator = await createSignedInUser(server, admin, 'operator');
    await operator.client.auth.setPresence('online');
    const line = await admin.lines.create({
      name: 'Shop',
      settings: { queue: { members: [{ type: 'user', id: operator.user.id }] } },
    });
    lineId = line.id;
    site = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Shop</h1>${snippet.snippet}</body></html>`);
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const port = (site.address() as AddressInfo).port;
    siteUrl = `http://127.0.0.1:${port}/`;
    const created = await admin.channels.create({
      kind: 'widget',
      name: 'Shop site',
      lineId,
      settings: { allowedDomains: [`127.0.0.1:${port}`] },
    });
    snippet = (await admin.transport.request(
      'GET',
      `/channels/${created.channel.id}/widget`,
    )) as WidgetSnippet;
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => site?.close(resolve));
    await server?.stop();
  });

  async function signedIn(email: string, password: string, locale: Locale = 'en-US') {
    const errors: string[] = [];
    const page = await signedInPage(
      browser,
      server.url,
      locale,
      { email, password },
      {
        viewport: { width: 1280, height: 900 },
        errors,
        pages,
      },
    );
    return { page, errors };
  }

  afterEach(screenshotsOnFailure(pages, 'bots-e2e', { fullPage: true }));

  it('an admin builds a menu bot, a visitor clicks through it and gets an operator', {
    timeout: 240_000,
  }, async () => {
    // ----- the administrator builds the bot in the web app and tries it
    const { page: a, errors } = await signedIn(server.admin.email, server.admin.password);
    await a.goto(`${server.url}/admin/bots`);
    await a.getByRole('heading', { name: 'Chatbots' }).waitFor();
    await a.getByRole('button', { name: 'Build a menu bot' }).click();
    const editor = a.getByRole('dialog');
    await editor.getByLabel('Name', { exact: true }).fill('Shop bot');
    const first = editor.locator('[data-step="start"]');
    await first.getByLabel('Text').fill('Hello! What do you need?');
    await editor.getByRole('button', { name: '+ Add a step' }).click();
    const second = editor.locator('[data-step="step2"]');
    await second.getByLabel('Text').fill('We deliver in 2 days. Anything else?');
    await first.getByRole('button', { name: '+ Add a button' }).click();
    await first.locator('.bot-option').nth(0).getByLabel('Button').fill('Delivery');
    await first.locator('.bot-option').nth(0).getByLabel('Keywords').fill('delivery, shipping');
    await first.locator('.bot-option').nth(0).getByLabel('Then').selectOption('step');
    await first.locator('.bot-option').nth(0).getByLabel('Go to step').selectOption('step2');
    await first.getByRole('button', { name: '+ Add a button' }).click();
    await first.locator('.bot-option').nth(1).getByLabel('Button').fill('Operator');
    // Try it before saving: the preview runs the server's own rules on the unsaved definition.
    await editor.getByRole('button', { name: 'Start a conversation' }).click();
    await editor.locator('.preview-bot', { hasText: 'Hello! What do you need?' }).waitFor();
    await editor.locator('.preview-buttons').getByRole('button', { name: 'Delivery' }).click();
    await editor.locator('.preview-bot', { hasText: 'We deliver in 2 days' }).waitFor();
    await shot(a, 'bots-editor-en.png');
    await editor.getByRole('button', { name: 'Create the bot' }).click();
    await a.locator('.bot-list', { hasText: 'Shop bot' }).waitFor();
    await shot(a, 'bots-list-en.png');
    const [bot] = await admin.bots.list();
    expect(bot).toMatchObject({ name: 'Shop bot', kind: 'builtin', version: 1 });
    expect(bot!.definition?.steps.map((s) => s.id)).toEqual(['start', 'step2']);

    // ----- the line's Chatbots tab: a picker of the account's bots
    await a.goto(`${server.url}/admin/lines/${lineId}`);
    await a.getByRole('tab', { name: 'Chatbots' }).click();
    await a.getByLabel('A bot answers first').check();
    await a
      .locator('[data-field="bot.welcomeBot.botId"] select')
      .selectOption({ label: 'Shop bot (Menu bot)' });
    await a.getByRole('button', { name: 'Save' }).click();
    await a.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await shot(a, 'bots-line-tab-en.png');
    expect((await admin.lines.get(lineId)).settings.bot.welcomeBot).toMatchObject({
      enabled: true,
      botId: bot!.id,
    });

    // ----- a visitor on the site: the bot answers with buttons
    const visitorContext = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    const v = await visitorContext.newPage();
    pages.push(v);
    await v.goto(siteUrl);
    await v.locator('button.launcher').click();
    await v.locator('section.panel').waitFor({ state: 'visible' });
    const box = v.locator('section.panel textarea[aria-label]').last();
    await box.fill('Hi');
    await box.press('Enter');
    await v.locator('.msg.op .text', { hasText: 'Hello! What do you need?' }).waitFor();
    await v.locator('.quick-reply', { hasText: 'Operator' }).waitFor();
    await shot(v, 'bots-widget-buttons-en.png');
    await v.locator('.quick-reply', { hasText: 'Delivery' }).click();
    await v.locator('.msg.op .text', { hasText: 'We deliver in 2 days' }).waitFor();
    // The buttons of an answered message are gone.
    expect(await v.locator('.quick-reply').count()).toBe(0);
    await box.fill('Can I talk to an operator?');
    await box.press('Enter');
    await v.locator('.msg.me .text', { hasText: 'Can I talk to an operator?' }).waitFor();
    await shot(v, 'bots-widget-en.png');

    // ----- the operator gets the session, with the bot's part above it
    const dialogId = await (async () => {
      for (let i = 0; i < 100; i++) {
        const dialog = (await admin.dialogs.list({ view: 'all' })).items[0];
        if (dialog?.session?.status === 'assigned') return dialog.id;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('the session never reached the operator');
    })();
    const { page: o } = await signedIn(operator.email, operator.password);
    await o.goto(`${server.url}/dialogs/${dialogId}`);
    await o.locator('.message-bot .message-text', { hasText: 'We deliver in 2 days' }).waitFor();
    await o.locator('.system-event', { hasText: 'The client asked for an operator' }).waitFor();
    await o.locator('.system-event', { hasText: 'A bot took the dialog' }).waitFor();
    const texts = await o.locator('.message .message-text').allTextContents();
    expect(texts).toEqual([
      'Hi',
      'Hello! What do you need?',
      'Delivery',
      'We deliver in 2 days. Anything else?',
      'Can I talk to an operator?',
    ]);
    await shot(o, 'bots-operator-en.png');
    expect(errors).toEqual([]);

    // ----- the same screens in Russian
    const { page: r } = await signedIn(server.admin.email, server.admin.password, 'ru-RU');
    await r.goto(`${server.url}/admin/bots`);
    await r.getByRole('heading', { name: 'Чат-боты' }).waitFor();
    await shot(r, 'bots-list-ru.png');
    await r.getByRole('button', { name: 'Изменить «Shop bot»' }).click();
    await r.getByRole('button', { name: 'Начать разговор' }).click();
    await r.locator('.preview-bot', { hasText: 'Hello! What do you need?' }).waitFor();
    await shot(r, 'bots-editor-ru.png');
    await r.goto(`${server.url}/admin/lines/${lineId}`);
    await r.getByRole('tab', { name: 'Чат-боты' }).click();
    await r.getByLabel('Бот отвечает первым').waitFor();
    await shot(r, 'bots-line-tab-ru.png');
    await r.goto(`${server.url}/dialogs/${dialogId}`);
    await r.locator('.system-event', { hasText: 'Клиент попросил оператора' }).waitFor();
    await shot(r, 'bots-operator-ru.png');
  });
});
