import type { ApiChannelSender, OpenlinesClient } from '@openlines/sdk';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiChannel, createTestServer, signIn, type TestServer } from './harness';
import {
  chromiumInstalled,
  ensureWebBuilt,
  type Locale,
  launchChromium,
  shooter,
  signedInPage,
} from './web-build';
import { TestVisitor } from './widget-visitor';

// Issue 19 in a real browser, in English and in Russian, with screenshots in test-artifacts/:
// the widget visitor's page and referrer in the client card (as text, links only for http(s)),
// and a supervisor lifting the block a spam mark put on a client.

const WORDS = {
  'en-US': {
    all: /All/,
    page: 'Current page',
    referrer: 'Came from',
    blockedSince: 'Blocked as spam since',
    admin: 'Administration',
    blocked: 'Blocked clients',
    unblock: 'Lift the block',
    unblocked: 'is lifted',
  },
  'ru-RU': {
    all: /Все/,
    page: 'Текущая страница',
    referrer: 'Пришёл со страницы',
    blockedSince: 'Заблокирован как спам с',
    admin: 'Администрирование',
    blocked: 'Заблокированные клиенты',
    unblock: 'Снять блокировку',
    unblocked: 'снята',
  },
} as const;

const ORIGIN = 'https://shop.example.test';

describe.skipIf(!chromiumInstalled)('the client card and blocked clients in the web app (issue 19)', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: OpenlinesClient;
  let sender: ApiChannelSender;
  let widgetKey: string;

  beforeAll(async () => {
    ensureWebBuilt();
    server = await createTestServer();
    admin = await signIn(server);
    const me = await admin.auth.me();
    const line = await admin.lines.create({
      name: 'Issue 19 E2E',
      settings: {
        automaticActions: { welcome: { enabled: false } },
        queue: { members: [{ type: 'user', id: me.user.id }] },
      },
    });
    ({ sender } = await createApiChannel(server, admin, line.id));
    const widget = await admin.channels.create({
      kind: 'widget',
      name: 'Shop site',
      lineId: line.id,
      settings: { allowedDomains: ['shop.example.test'] },
    });
    widgetKey = String(widget.channel.settings.publicKey);
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const signedIn = (locale: Locale) => signedInPage(browser, server.url, locale, server.admin);

  for (const locale of ['en-US', 'ru-RU'] as const) {
    it(`shows the visitor's page and referrer, and a supervisor lifts a block (${locale})`, async () => {
      const words = WORDS[locale];
      const lang = locale.slice(0, 2);

      // A widget visitor on a product page with a long address, come from a search.
      const visitor = new TestVisitor(server.url, widgetKey, ORIGIN);
      await visitor.start();
      const pageUrl = `${ORIGIN}/catalog/kettles/steel-${lang}?q=<script>alert(1)</script>&utm_source=${'x'.repeat(120)}`;
      const referrer = `https://search.example.org/?q=kettle+${lang}`;
      expect((await visitor.call('POST', '/page', { body: { url: pageUrl, referrer } })).status).toBe(204);
      const text = `Is the kettle in stock? ${lang}`;
      expect((await visitor.send(text)).status).toBe(201);

      const page = await signedIn(locale);
      const shot = shooter(page, 'web', locale);
      const errors: string[] = [];
      page.on('dialog', (dialog) => {
        errors.push(dialog.message());
        void dialog.dismiss();
      });
      await page.getByRole('tab', { name: words.all }).click();
      await page.locator('.dialog-row', { hasText: text }).first().click();
      const toggle = page.locator('.card-toggle');
      if (await toggle.isVisible()) await toggle.click();
      const card = page.locator('#client-card');
      await card.getByText(words.page).waitFor();
      const link = card.locator('.page-url a').first();
      expect(await link.textContent()).toBe(pageUrl);
      expect(await link.getAttribute('href')).toBe(new URL(pageUrl).href);
      expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
      expect(await card.locator('.page-url a').nth(1).textContent()).toBe(referrer);
      expect(await card.locator('.page-url script').count()).toBe(0);
      // The long address wraps inside the card instead of widening it.
      const [cardBox, linkBox] = [await card.boundingBox(), await link.boundingBox()];
      expect(linkBox!.x + linkBox!.width).toBeLessThanOrEqual(cardBox!.x + cardBox!.width + 1);
      await shot('client-card-page');

      // A spammer on the API channel, marked as spam: blocked, listed, and lifted in the UI.
      const spammer = `Spammer ${lang}`;
      const sent = await sender.send({
        externalId: `spam-${lang}`,
        user: { id: `spammer-${lang}`, name: spammer },
        text: 'BUY NOW',
      });
      await admin.dialogs.markSpam(sent.dialogId);
      expect(
        (await sender.send({ externalId: `spam-${lang}-2`, user: { id: `spammer-${lang}` }, text: 'AGAIN' }))
          .sessionId,
      ).toBeNull();
      await page.getByRole('link', { name: words.admin }).click();
      await page.getByRole('link', { name: words.blocked, exact: true }).click();
      await page.getByRole('heading', { name: words.blocked }).waitFor();
      const row = page.locator('.blocked-table tr', { hasText: spammer });
      await row.waitFor();
      expect(await row.textContent()).toContain(`spammer-${lang}`);
      await shot('blocked-clients');
      await row.getByRole('button', { name: words.unblock }).click();
      await page.getByRole('status').filter({ hasText: words.unblocked }).waitFor();
      await row.waitFor({ state: 'detached' });
      await shot('blocked-clients-lifted');
      const { items } = await admin.dialogs.blockedClients();
      expect(items.some((c) => c.name === spammer)).toBe(false);
      expect(
        (await sender.send({ externalId: `spam-${lang}-3`, user: { id: `spammer-${lang}` }, text: 'Sorry' }))
          .sessionId,
      ).not.toBeNull();
      expect(errors).toEqual([]);
      await page.context().close();
    }, 90_000);
  }
});
