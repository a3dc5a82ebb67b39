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

// Erasing a client's data from the client card and the account's retention screen (issue 18), in
// a real browser, in English and in Russian, with screenshots in test-artifacts/.

const WORDS = {
  'en-US': {
    all: /All/,
    erase: 'Erase client’s data',
    confirm: 'Erase for good',
    admin: 'Administration',
    privacy: 'Privacy',
    eraseOlder: 'Erase those older than a number of days',
    days: 'Days',
    save: 'Save',
    saved: 'Saved',
  },
  'ru-RU': {
    all: /Все/,
    erase: 'Удалить данные клиента',
    confirm: 'Удалить безвозвратно',
    admin: 'Администрирование',
    privacy: 'Персональные данные',
    eraseOlder: 'Удалять те, что старше заданного числа дней',
    days: 'Дней',
    save: 'Сохранить',
    saved: 'Сохранено',
  },
} as const;

describe.skipIf(!chromiumInstalled)("erasing a client's data in the web app", () => {
  let server: TestServer;
  let browser: Browser;
  let admin: OpenlinesClient;
  let sender: ApiChannelSender;

  beforeAll(async () => {
    ensureWebBuilt();
    server = await createTestServer();
    admin = await signIn(server);
    const me = await admin.auth.me();
    const line = await admin.lines.create({
      name: 'Privacy E2E',
      settings: {
        automaticActions: { welcome: { enabled: false } },
        queue: { members: [{ type: 'user', id: me.user.id }] },
      },
    });
    ({ sender } = await createApiChannel(server, admin, line.id));
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function closedDialogOf(name: string, text: string): Promise<string> {
    const sent = await sender.send({ externalId: `e-${name}`, user: { id: `u-${name}`, name }, text });
    await admin.dialogs.close(sent.dialogId, { confirmed: true });
    return sent.dialogId;
  }

  const signedIn = (locale: Locale) => signedInPage(browser, server.url, locale, server.admin);

  for (const locale of ['en-US', 'ru-RU'] as const) {
    it(`an admin erases a client from the client card and sets retention (${locale})`, async () => {
      const words = WORDS[locale];
      const lang = locale.slice(0, 2);
      const name = `Forget Me ${lang}`;
      const secret = `my passport number ${lang} 4510`;
      const dialogId = await closedDialogOf(name, secret);
      const page = await signedIn(locale);
      const shot = shooter(page, 'web', locale);

      await page.getByRole('tab', { name: words.all }).click();
      await page.locator('.dialog-row', { hasText: name }).click();
      await page.locator('.message-text', { hasText: secret }).waitFor();
      // On a narrow screen the card opens from a toggle; at this width it is beside the dialog.
      const toggle = page.locator('.card-toggle');
      if (await toggle.isVisible()) await toggle.click();
      await page.locator('#client-card').getByRole('button', { name: words.erase }).click();
      const confirm = page.getByRole('button', { name: words.confirm });
      expect(await confirm.isDisabled()).toBe(true);
      await page.getByRole('dialog').getByRole('textbox').fill(name);
      await shot('erase-client-confirm');
      await confirm.click();
      await page.locator('#client-card').getByText('Deleted client').first().waitFor();
      await shot('erase-client-done');
      expect(await page.locator('.message-text', { hasText: secret }).count()).toBe(0);
      const dialog = await admin.dialogs.get(dialogId);
      expect(dialog.client.name).toBe('Deleted client');
      expect((await admin.dialogs.messages(dialogId)).every((m) => m.text === null)).toBe(true);

      await page.getByRole('link', { name: words.admin }).click();
      await page.getByRole('link', { name: words.privacy, exact: true }).click();
      await page.getByRole('heading', { name: words.privacy }).waitFor();
      await page.getByLabel(words.eraseOlder).check();
      await page.getByRole('spinbutton', { name: words.days }).fill('400');
      await page.getByRole('button', { name: words.save }).click();
      await page.getByRole('status').filter({ hasText: words.saved }).waitFor();
      await shot('privacy-settings');
      expect((await admin.privacy.settings()).messageRetentionDays).toBe(400);
      await admin.privacy.updateSettings({ messageRetentionDays: null });
      await page.context().close();
    }, 90_000);
  }
});
