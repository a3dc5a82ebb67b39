import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { OpenlinesClient } from '@openlines/sdk';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignedInUser, createTestServer, type SignedInUser, signIn, type TestServer } from './harness';
import { unreadableDialogButtons } from './readable-buttons';
import { ARTIFACTS_DIR, CHROMIUM, CHROMIUM_ARGS, chromiumInstalled, ensureWebBuilt } from './web-build';

// The "REST applications & webhooks" screen (Bitrix24-compatible REST, PL-4) in a real browser, in
// English and Russian: an administrator issues an application and a webhook, the credentials shown
// once work against /rest, and revoking one stops it at once.

const WORDS = {
  'en-US': {
    password: 'Password',
    signIn: 'Sign in',
    nav: 'REST applications & webhooks',
    addApp: 'Add application',
    addWebhook: 'Add incoming webhook',
    name: 'Name',
    actsAs: 'Acts as',
    token: 'Access token (auth=)',
    webhookUrl: 'Webhook address',
    done: 'I have copied them',
    revoke: 'Revoke “Connector EN”',
  },
  'ru-RU': {
    password: 'Пароль',
    signIn: 'Войти',
    nav: 'REST-приложения и вебхуки',
    addApp: 'Добавить приложение',
    addWebhook: 'Добавить входящий вебхук',
    name: 'Название',
    actsAs: 'От имени',
    token: 'Токен доступа (auth=)',
    webhookUrl: 'Адрес вебхука',
    done: 'Я скопировал(а)',
    revoke: 'Отозвать «Connector RU»',
  },
} as const;

describe.skipIf(!chromiumInstalled)('REST applications & webhooks screen', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: OpenlinesClient;
  let operator: SignedInUser;

  beforeAll(async () => {
    ensureWebBuilt();
    server = await createTestServer();
    admin = await signIn(server);
    operator = await createSignedInUser(server, admin, 'operator');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const profile = async (url: string) => (await fetch(url)).status;

  for (const locale of ['en-US', 'ru-RU'] as const) {
    it(`issues and revokes credentials (${locale})`, async () => {
      const words = WORDS[locale];
      const suffix = locale === 'en-US' ? 'EN' : 'RU';
      const shot = (page: Page, name: string) =>
        page.screenshot({ path: path.join(ARTIFACTS_DIR, `web-${suffix.toLowerCase()}-${name}.png`) });
      mkdirSync(ARTIFACTS_DIR, { recursive: true });
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale });
      context.setDefaultTimeout(30_000);
      const page = await context.newPage();
      const alerts: string[] = [];
      page.on('dialog', (dialog) => {
        alerts.push(dialog.message());
        void dialog.dismiss();
      });
      try {
        await page.goto(`${server.url}/admin/integrations`);
        await page.getByLabel('E-mail').fill(server.admin.email);
        await page.getByLabel(words.password).fill(server.admin.password);
        await page.getByRole('button', { name: words.signIn }).click();
        await page.getByRole('link', { name: words.nav }).click();
        await page.getByRole('heading', { level: 1 }).waitFor();

        const appForm = page.getByRole('form', { name: words.addApp });
        await appForm.getByLabel(words.name).fill(`Connector ${suffix}`);
        await appForm.getByRole('button', { name: words.addApp }).click();
        const token = await page.getByLabel(words.token).inputValue();
        expect(token).toMatch(/^olb_/);
        expect(await unreadableDialogButtons(page)).toEqual([]);
        await shot(page, 'integrations-app-created');
        expect(await profile(`${server.url}/rest/profile?auth=${token}`)).toBe(200);
        await page.getByRole('button', { name: words.done }).click();

        // A webhook acting as the operator: their permissions, not the admin's.
        const hookForm = page.getByRole('form', { name: words.addWebhook });
        await hookForm.getByLabel(words.name).fill(`Script ${suffix}`);
        await hookForm.getByLabel(words.actsAs).selectOption({ label: operator.user.name });
        await hookForm.getByRole('button', { name: words.addWebhook }).click();
        const hookUrl = await page.getByLabel(words.webhookUrl).inputValue();
        expect(hookUrl).toMatch(/\/rest\/\d+\/olh_[\w-]+\/$/);
        const asOperator = await fetch(`${hookUrl}imopenlines.config.add`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ PARAMS: { LINE_NAME: 'Not mine to make' } }),
        });
        expect(asOperator.status).toBe(403);
        await page.getByRole('button', { name: words.done }).click();
        await page.getByText(`Script ${suffix}`).waitFor();
        await page.getByRole('cell', { name: operator.user.name }).first().waitFor();
        await shot(page, 'integrations');

        await page.getByRole('button', { name: words.revoke }).click();
        await page.getByRole('button', { name: words.revoke }).waitFor({ state: 'detached' });
        expect(await profile(`${server.url}/rest/profile?auth=${token}`)).toBe(401);
        expect(alerts).toEqual([]);
      } finally {
        await context.close();
      }
    }, 90_000);
  }
});
