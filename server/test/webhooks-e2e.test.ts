import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiChannelSender, OpenlinesClient } from '@openlines/sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../src/delivery/signature';
import { createApiChannel, createTestServer, signIn, type TestServer } from './harness';
import {
  chromiumInstalled,
  ensureWebBuilt,
  type Locale,
  launchChromium,
  screenshotTo,
  signedInPage,
} from './web-build';

// The Webhooks screen in a real browser, in English and Russian: an administrator subscribes a
// local receiver, copies the secret shown once, sees the deliveries the running server made (signed
// with that secret) and sends one again; a paused webhook shows why and resumes.

interface Hit {
  body: { id: string; type: string };
  valid: boolean;
}

async function startReceiver() {
  const hits: Hit[] = [];
  let secret = '';
  const server: Server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk) => {
      raw += chunk;
    });
    request.on('end', () => {
      const valid = verifyWebhookSignature(
        secret,
        request.headers[TIMESTAMP_HEADER.toLowerCase()] as string,
        raw,
        request.headers[SIGNATURE_HEADER.toLowerCase()] as string,
        Date.now(),
      );
      hits.push({ body: JSON.parse(raw), valid });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/openlines`;
  return {
    url,
    hits,
    setSecret: (value: string) => {
      secret = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(!chromiumInstalled)('Webhooks screen in a real browser', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: OpenlinesClient;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let sender: ApiChannelSender;

  beforeAll(async () => {
    ensureWebBuilt();
    receiver = await startReceiver();
    server = await createTestServer({
      env: { WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true', WORKER_POLL_MS: '50' },
    });
    admin = await signIn(server);
    const line = await admin.lines.create({ name: 'Support' });
    ({ sender } = await createApiChannel(server, admin, line.id, 'Shop'));
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await receiver?.close();
  });

  async function open(locale: Locale): Promise<Page> {
    const page = await signedInPage(browser, server.url, locale, server.admin, {
      viewport: { width: 1280, height: 900 },
    });
    await page.goto(`${server.url}/admin/webhooks`);
    return page;
  }

  const shot = (page: Page, name: string) => screenshotTo(page, name, { fullPage: true });

  it('creates a webhook, shows its secret once, lists deliveries and sends one again (English)', async () => {
    const page = await open('en-US');
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await page.getByRole('button', { name: 'New webhook' }).click();
    const form = page.getByRole('dialog', { name: 'New webhook' });
    // Bad input is refused by the server, named at the field.
    await form.getByLabel('URL', { exact: true }).fill('ftp://example.com/x');
    await form.getByRole('button', { name: 'Create webhook' }).click();
    await form.locator('.field-invalid').first().waitFor();
    await form.getByLabel('URL', { exact: true }).fill(receiver.url);
    await form.getByLabel('Description').fill('Order system');
    await form.getByRole('checkbox', { name: /Message updated/ }).check();
    // Every event type offered is sent: none is marked as not sent yet.
    await expect(form.getByText('not sent yet').count()).resolves.toBe(0);
    await shot(page, 'webhooks-form-en.png');
    await form.getByRole('button', { name: 'Create webhook' }).click();
    const secretModal = page.getByRole('dialog', { name: 'Signing secret' });
    const secret = await secretModal.getByLabel('Secret').inputValue();
    expect(secret).toMatch(/^whs_/);
    receiver.setSecret(secret);
    await shot(page, 'webhooks-secret-en.png');
    await secretModal.getByRole('button', { name: 'I have copied it' }).click();
    await expect(page.getByText(secret).count()).resolves.toBe(0);

    await sender.send({ externalId: 'e2e-1', user: { id: 'c1', name: 'Ann' }, text: 'Hello from the shop' });
    await until(() => receiver.hits.some((h) => h.body.type === 'session.started'), 'the webhook deliveries');
    expect(receiver.hits.every((h) => h.valid)).toBe(true);

    await page.getByRole('button', { name: `Deliveries of ${receiver.url}` }).click();
    const log = page.getByRole('dialog', { name: `Deliveries to ${receiver.url}` });
    await log.getByText('Delivered').first().waitFor();
    await shot(page, 'webhooks-log-en.png');
    const before = receiver.hits.length;
    await log.getByRole('button', { name: 'Send again' }).first().click();
    await until(() => receiver.hits.length > before, 'the delivery sent again');
    const repeated = receiver.hits.at(-1)!;
    expect(receiver.hits.slice(0, before).some((h) => h.body.id === repeated.body.id)).toBe(true);
    await log.getByRole('button', { name: 'Close' }).last().click();
  }, 120_000);

  it('shows a paused webhook with its reason and resumes it (Russian)', async () => {
    const [webhook] = await admin.webhooks.list();
    await admin.webhooks.update(webhook!.id, { status: 'paused' });
    const page = await open('ru-RU');
    await page.getByRole('heading', { name: 'Вебхуки' }).waitFor();
    await page.getByText('Приостановлен', { exact: true }).waitFor();
    await shot(page, 'webhooks-paused-ru.png');
    await page.getByRole('button', { name: 'Возобновить' }).click();
    await page.getByText('Работает', { exact: true }).waitFor();
    expect((await admin.webhooks.get(webhook!.id)).status).toBe('active');
    await page.getByRole('button', { name: `Доставки на ${receiver.url}` }).click();
    await page
      .getByRole('dialog', { name: `Доставки на ${receiver.url}` })
      .getByText('Доставлено')
      .first()
      .waitFor();
    await shot(page, 'webhooks-log-ru.png');
  }, 120_000);
});
