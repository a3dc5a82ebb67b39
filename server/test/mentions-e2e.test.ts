import type { OpenlinesClient } from '@openlines/sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createApiChannel,
  createSignedInUser,
  createTestServer,
  type SignedInUser,
  signIn,
  type TestServer,
} from './harness';
import {
  chromiumInstalled,
  ensureWebBuilt,
  type Locale,
  launchChromium,
  shooter,
  signedInPage,
} from './web-build';

// Issue 19: an operator mentions a colleague in a private note in the web app, in English and in
// Russian: "@" offers colleagues, the note is sent with the mention, and the colleague's app shows
// a notice that leads to the dialog. Screenshots in test-artifacts/mentions-<lang>-*.png.

const WORDS = {
  'en-US': {
    private: 'Private note',
    addNote: 'Add note',
    colleagues: 'Colleagues to mention',
    mentioned: (name: string) => `${name} mentioned you in a private note`,
  },
  'ru-RU': {
    private: 'Скрытая заметка',
    addNote: 'Добавить заметку',
    colleagues: 'Упомянуть коллегу',
    mentioned: (name: string) => `${name} упоминает вас в скрытой заметке`,
  },
} as const satisfies Record<Locale, unknown>;
const LOCALES = ['en-US', 'ru-RU'] as const;

describe.skipIf(!chromiumInstalled)('mentions in private notes in the web app', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: OpenlinesClient;
  let adminName: string;
  let operator: SignedInUser;
  const dialogs = {} as Record<Locale, string>;

  beforeAll(async () => {
    ensureWebBuilt();
    server = await createTestServer();
    admin = await signIn(server);
    adminName = (await admin.auth.me()).user.name;
    operator = await createSignedInUser(server, admin, 'operator');
    const line = await admin.lines.create({
      name: 'Mentions E2E',
      settings: {
        automaticActions: { welcome: { enabled: false } },
        queue: { members: [{ type: 'user', id: operator.user.id }] },
      },
    });
    const { sender } = await createApiChannel(server, admin, line.id);
    for (const locale of LOCALES) {
      const { dialogId } = await sender.send({
        externalId: `m-${locale}`,
        user: { id: `u-${locale}`, name: `Mira ${locale}` },
        text: 'My parcel is lost',
      });
      await operator.client.dialogs.take(dialogId);
      dialogs[locale] = dialogId;
    }
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const signedIn = (locale: Locale, who: { email: string; password: string }) =>
    signedInPage(browser, server.url, locale, who);

  for (const locale of LOCALES) {
    const words = WORDS[locale];
    const shot = (page: Page, file: string) => shooter(page, 'mentions', locale)(file);

    it(`an operator mentions a colleague, who is notified and jumps to the dialog (${locale})`, async () => {
      const dialogId = dialogs[locale];
      const colleague = await signedIn(locale, server.admin);
      const page = await signedIn(locale, operator);
      await page.goto(`${server.url}/dialogs/${dialogId}`);
      await page.locator('#dialog-title').waitFor();
      await page.getByLabel(words.private).check();
      const composer = page.locator('#composer-text');
      await composer.click();
      await composer.pressSequentially(`@${adminName.slice(0, 3)}`);
      const list = page.getByRole('listbox', { name: words.colleagues });
      const option = list.getByRole('option', { name: new RegExp(adminName) });
      await option.waitFor();
      // Only colleagues: not the operator writing.
      expect(await list.getByRole('option', { name: new RegExp(operator.user.name) }).count()).toBe(0);
      await shot(page, 'offered');
      await composer.press('Enter');
      await expect(composer.inputValue()).resolves.toBe(`@${adminName} `);
      await composer.pressSequentially('please check the warehouse');
      await page.getByRole('button', { name: words.addNote }).click();
      const text = `@${adminName} please check the warehouse`;
      await page.locator('.message-text', { hasText: text }).waitFor();
      await shot(page, 'sent');

      const adminId = (await admin.auth.me()).user.id;
      const note = (await admin.dialogs.messages(dialogId)).find((m) => m.text === text);
      expect(note).toMatchObject({ private: true, mentions: [adminId] });

      const notice = colleague.getByRole('link', { name: words.mentioned(operator.user.name) });
      await notice.waitFor();
      await shot(colleague, 'notified');
      await notice.click();
      await colleague.waitForURL(`**/dialogs/${dialogId}`);
      await colleague.locator('.message-text', { hasText: text }).waitFor();
      // Followed, the notice is gone (it covered the composer's Send button).
      await notice.waitFor({ state: 'detached' });
      await shot(colleague, 'opened');
      await page.context().close();
      await colleague.context().close();
    }, 120_000);
  }
});
