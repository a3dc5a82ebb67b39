import { readFileSync } from 'node:fs';
import { type ApiChannelSender, DialogsApi, LinesApi, type OpenlinesClient } from '@openlines/sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createApiChannel,
  createSignedInUser,
  createTestServer,
  type SignedInUser,
  signIn,
  type TestServer,
  waitFor,
} from './harness';
import {
  chromiumInstalled,
  ensureWebBuilt,
  type Locale,
  launchChromium,
  newPage,
  screenshotTo,
  signInThroughForm,
} from './web-build';

// Statistics in a real browser: a supervisor reads the reports (summary, charts, table), downloads
// a CSV whose rows are the API's, and watches the live board change as a dialog is queued and an
// operator takes it, without reloading. Both languages, screenshots in test-artifacts/.

describe.skipIf(!chromiumInstalled)('statistics in a real browser', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: OpenlinesClient;
  let supervisor: SignedInUser;
  let operator: SignedInUser;
  let sender: ApiChannelSender;
  let lineId: string;
  const errors: string[] = [];

  beforeAll(async () => {
    ensureWebBuilt();
    server = await createTestServer();
    admin = await signIn(server);
    supervisor = await createSignedInUser(server, admin, 'supervisor');
    operator = await createSignedInUser(server, admin, 'operator');
    const line = await new LinesApi(admin.transport).create({
      name: 'Support',
      settings: {
        queue: { members: [{ type: 'user', id: operator.user.id }], maxChat: 3 },
        kpi: { firstAnswer: { targetSeconds: 60 }, furtherAnswer: { targetSeconds: 120 } },
      },
    });
    lineId = line.id;
    ({ sender } = await createApiChannel(server, admin, lineId, 'Shop backend'));
    // One answered and closed session, so the reports have figures.
    await operator.client.auth.setPresence('online');
    const first = await sender.send({
      externalId: 'e2e-1',
      user: { id: 'anna', name: 'Anna' },
      text: 'Hello',
    });
    const dialogs = new DialogsApi(operator.client.transport);
    await waitFor(
      async () => (await dialogs.get(first.dialogId)).session?.operatorId === operator.user.id,
      'assignment',
    );
    await dialogs.send(first.dialogId, { text: 'Hi Anna' });
    await dialogs.close(first.dialogId, { confirmed: true });
    await operator.client.auth.setPresence('offline');
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function open(locale: Locale): Promise<Page> {
    const page = await newPage(browser, locale, {
      viewport: { width: 1400, height: 2000 },
      acceptDownloads: true,
      errors,
    });
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (event) => {
        seen.push(`${event.violatedDirective} ${event.blockedURI}`);
      });
    });
    await signInThroughForm(page, server.url, locale, supervisor);
    return page;
  }

  it('a supervisor reads the reports and downloads a CSV with the API’s rows', async () => {
    const page = await open('en-US');
    await page.getByRole('link', { name: 'Statistics' }).click();
    await page.getByRole('heading', { name: 'Reports' }).waitFor();
    const sessions = page.locator('[data-figure="sessions"] .stats-card-value');
    await expect.poll(() => sessions.textContent()).toBe('1');
    await expect
      .poll(() => page.locator('[data-figure="firstAnswerAverage"] .stats-card-value').textContent())
      .not.toBe('—');
    await page.locator('.chart canvas').first().waitFor();
    const row = page.locator('.stats-table tbody tr', { hasText: operator.user.name });
    await row.waitFor();
    await screenshotTo(page, 'statistics-reports-en.png', { fullPage: true });

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#stats-table').locator('..').getByRole('link', { name: 'Download CSV' }).click(),
    ]);
    const file = readFileSync((await download.path())!, 'utf8');
    const from = await page.getByLabel('From', { exact: true }).inputValue();
    const api = await supervisor.client.statistics.csv('by/operator', {
      from,
      to: await page.getByLabel('To', { exact: true }).inputValue(),
    });
    expect(file).toBe(api);
    expect(file.trimEnd().split('\r\n')).toHaveLength(2);
    expect(file).toContain(operator.user.id);

    // A drill-down: the sessions behind "Sessions", each linked to its dialog.
    await page.locator('[data-figure="sessions"]').getByRole('button', { name: '1' }).click();
    const drill = page.getByTestId('drill-down');
    await drill.locator('tbody tr').first().waitFor();
    expect(await drill.locator('tbody tr').count()).toBe(1);
    expect(await drill.locator('tbody tr').first().textContent()).toContain(operator.user.name);
    await screenshotTo(page, 'statistics-drill-down-en.png');
    await drill.getByRole('link', { name: 'Open the dialog' }).click();
    await page.waitForURL(/\/dialogs\//);
    expect(
      await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations),
    ).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('the live board shows a new queued dialog and an operator’s load change without reloading', async () => {
    const page = await open('en-US');
    await page.getByRole('link', { name: 'Statistics' }).click();
    await page.getByRole('link', { name: 'Live board' }).click();
    const line = page.locator(`tr[data-line="${lineId}"]`);
    await line.waitFor();
    expect(await line.locator('[data-cell="queued"]').textContent()).toBe('0');
    const load = page.locator(`tr[data-operator="${operator.user.id}"] [data-cell="load"]`);
    expect(await load.textContent()).toBe('0 of 3');

    // The operator is offline: the new dialog waits in the queue.
    await sender.send({
      externalId: 'e2e-2',
      user: { id: 'boris', name: 'Boris' },
      text: 'Is anyone there?',
    });
    await expect
      .poll(() => line.locator('[data-cell="queued"]').textContent(), { timeout: 15_000 })
      .toBe('1');
    const boris = await new DialogsApi(admin.transport).list({ view: 'all', search: 'Boris' });
    expect(await line.locator('[data-cell="longest-wait"] a').getAttribute('href')).toBe(
      `/dialogs/${boris.items[0]!.id}`,
    );
    await screenshotTo(page, 'statistics-live-en.png', { fullPage: true });

    // The operator comes online and is given the dialog: the queue empties, their load grows.
    await operator.client.auth.setPresence('online');
    await expect.poll(() => load.textContent(), { timeout: 15_000 }).toBe('1 of 3');
    await expect.poll(() => line.locator('[data-cell="queued"]').textContent()).toBe('0');
    expect(errors).toEqual([]);
  });

  it('both screens in Russian', async () => {
    const page = await open('ru-RU');
    await page.getByRole('link', { name: 'Статистика' }).click();
    await page.getByRole('heading', { name: 'Отчёты' }).waitFor();
    await expect
      .poll(() => page.locator('[data-figure="sessions"] .stats-card-value').textContent())
      .toBe('2');
    await page.locator('.chart canvas').first().waitFor();
    await screenshotTo(page, 'statistics-reports-ru.png', { fullPage: true });
    await page.getByRole('link', { name: 'Онлайн-панель' }).click();
    await page.locator(`tr[data-line="${lineId}"]`).waitFor();
    await expect.poll(() => page.getByTestId('in-progress').textContent()).toBe('1 сессия в работе');
    await screenshotTo(page, 'statistics-live-ru.png', { fullPage: true });
    expect(errors).toEqual([]);
  });
});
