import { CrmApi } from '@openlines/sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import {
  chromiumInstalled,
  ensureWebBuilt,
  type Locale,
  launchChromium,
  screenshotsOnFailure,
  screenshotTo,
  signedInPage,
} from './web-build';

// The CRM in a real browser (OP-2, OP-3, CRM-1, CRM-3): an operator names the client from the
// card, creates a deal, moves it on the board and finds the session on the deal's timeline; the
// same screens in Russian.

describe.skipIf(!chromiumInstalled)('the CRM in a real browser', () => {
  let world: EngineWorld;
  let browser: Browser;
  const errors: string[] = [];
  const pages: Page[] = [];

  beforeAll(async () => {
    ensureWebBuilt();
    world = await createEngineWorld({
      operatorCount: 1,
      settings: { crm: { create: 'lead' } },
      // The external CRM's address in the last test is a local one.
      server: { env: { WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true' } },
    });
    await world.online(...world.operators);
    browser = await launchChromium();
  }, 180_000);
  afterEach(screenshotsOnFailure(pages, 'crm-e2e'));
  afterAll(async () => {
    await browser?.close();
    await world?.stop();
  });

  /** The app in a browser of its own, as the operator unless told. */
  const signInAs = (locale: Locale, who: { email: string; password: string } = world.operators[0]!) =>
    signedInPage(browser, world.server.url, locale, who, {
      viewport: { width: 1280, height: 860 },
      timeout: 10_000,
      errors,
      pages,
    });

  it('an operator names the client, creates a deal, moves it and finds the session on it', {
    timeout: 120_000,
  }, async () => {
    const started = await world.clientSays('v:77344c11-1', 'Hello, I would like to order');
    const page = await signInAs('en-US');
    await page.goto(`${world.server.url}/dialogs/${started.dialogId}`);
    const card = page.locator('.crm-card');
    await card.getByText('Client v:77344c11-1 — Support').waitFor();

    // The first thing an operator does: give the client a real name and a phone.
    await card.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Name', { exact: true }).last().fill('Maria Ivanova');
    await page.getByLabel('Phones').fill('+7 903 000-00-01');
    await card.getByRole('button', { name: 'Save' }).click();
    await card.getByRole('link', { name: 'Maria Ivanova' }).waitFor();
    await card.getByText('+79030000001').waitFor();
    await page.getByRole('heading', { name: 'Maria Ivanova' }).first().waitFor();

    await card.getByRole('button', { name: 'Create deal' }).click();
    await card.getByRole('link', { name: 'Maria Ivanova', exact: true }).nth(1).waitFor();
    await card.locator('.chip', { hasText: 'New' }).last().waitFor();
    await screenshotTo(page, 'crm-client-card.png');

    // The deals board: the deal moves to "Proposal".
    await page.getByRole('link', { name: 'CRM' }).click();
    await page.getByRole('link', { name: 'Deals' }).click();
    const proposal = page.getByRole('region', { name: 'Proposal' });
    await page
      .getByRole('combobox', { name: 'Stage of “Maria Ivanova”' })
      .selectOption({ label: 'Proposal' });
    await proposal.getByRole('link', { name: 'Maria Ivanova' }).waitFor();
    await screenshotTo(page, 'crm-deals-board.png');
    const crm = new CrmApi(world.operators[0]!.client.transport);
    const [pipeline] = await crm.pipelines();
    const deal = (await crm.deals.list({ search: 'Maria Ivanova' })).items[0]!;
    expect(deal.stageId).toBe(pipeline!.stages.find((s) => s.name === 'Proposal')!.id);

    // The deal's page shows the session; it opens the dialog.
    await proposal.getByRole('link', { name: 'Maria Ivanova' }).click();
    await page.getByRole('heading', { name: 'Maria Ivanova' }).waitFor();
    await page.getByText('Proposal').first().waitFor();
    const session = page.locator('.crm-timeline a').first();
    await session.waitFor();
    await screenshotTo(page, 'crm-deal-page.png');
    await session.click();
    await page.waitForURL(`**/dialogs/${started.dialogId}`);
    await page.locator('.message-text', { hasText: 'Hello, I would like to order' }).waitFor();

    // The contacts list finds her by phone.
    await page.getByRole('link', { name: 'CRM' }).click();
    await page.getByPlaceholder('Search by name, phone or e-mail').fill('+7903');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('cell', { name: 'Maria Ivanova' }).waitFor();
    await screenshotTo(page, 'crm-contacts.png');
    expect(errors).toEqual([]);
  });

  it('the CRM screens in Russian', { timeout: 120_000 }, async () => {
    await world.clientSays('ru-client', 'Здравствуйте');
    const page = await signInAs('ru-RU');
    await page.getByRole('link', { name: 'CRM' }).click();
    await page.getByRole('link', { name: 'Лиды' }).click();
    await page.getByRole('cell', { name: 'Client ru-client — Support' }).waitFor();
    // The status cell, not the status filter's option of the same name.
    await page.getByRole('cell', { name: 'Новый', exact: true }).first().waitFor();
    await screenshotTo(page, 'crm-leads-ru.png');
    await page.getByRole('link', { name: 'Сделки' }).click();
    await page.getByRole('region', { name: 'Сделки по стадиям' }).waitFor();
    await screenshotTo(page, 'crm-deals-board-ru.png');
    await page.getByRole('link', { name: 'Диалоги' }).first().click();
    await page.locator('.dialog-row', { hasText: 'ru-client' }).click();
    await page.locator('.crm-card').getByText('Создать сделку').waitFor();
    await screenshotTo(page, 'crm-client-card-ru.png');
    expect(errors).toEqual([]);
  });

  it('an admin renames and reorders the stages of the default pipeline', { timeout: 120_000 }, async () => {
    const page = await signInAs('ru-RU', world.server.admin);
    await page.getByRole('link', { name: 'Администрирование' }).click();
    await page.getByRole('link', { name: 'Воронки CRM' }).click();
    await page.getByLabel('Стадия 1', { exact: true }).fill('Первый контакт');
    await page.getByRole('button', { name: 'Опустить стадию 2' }).click();
    await page.getByRole('button', { name: 'Сохранить' }).click();
    await page.getByRole('status').filter({ hasText: 'Сохранено' }).waitFor();
    await screenshotTo(page, 'crm-pipelines-ru.png');
    const [pipeline] = await new CrmApi(world.admin.client.transport).pipelines();
    expect(pipeline!.stages.map((s) => s.name).slice(0, 3)).toEqual([
      'Первый контакт',
      'Proposal',
      'Qualification',
    ]);
    expect(errors).toEqual([]);
  });

  it('an admin sets a person responsible for new CRM records in the line settings (en, ru)', {
    timeout: 120_000,
  }, async () => {
    const operator = world.operators[0]!;
    for (const [locale, words] of [
      [
        'en-US',
        { admin: 'Administration', label: 'Responsible for new CRM records', save: 'Save', saved: 'Saved' },
      ],
      [
        'ru-RU',
        {
          admin: 'Администрирование',
          label: 'Ответственный за новые записи CRM',
          save: 'Сохранить',
          saved: 'Сохранено',
        },
      ],
    ] as const) {
      const page = await signInAs(locale, world.server.admin);
      await page.getByRole('link', { name: words.admin }).click();
      await page.getByRole('link', { name: 'Support' }).click();
      await page.getByRole('tab', { name: 'CRM' }).click();
      const picker = page.getByLabel(words.label);
      const choice = locale === 'en-US' ? operator.user.name : '';
      // English sets the operator as the line's set person; Russian puts it back to "the operator who takes it".
      await picker.selectOption(choice === '' ? '' : { label: choice });
      await page.getByRole('button', { name: words.save }).click();
      await page.getByRole('status').filter({ hasText: words.saved }).waitFor();
      await screenshotTo(page, `crm-line-responsible-${locale === 'en-US' ? 'en' : 'ru'}.png`);
      const line = await world.admin.lines.get(world.line.id);
      expect(line.settings.crm.responsibleUserId).toBe(locale === 'en-US' ? operator.id : null);
      await page.context().close();
    }
    expect(errors).toEqual([]);
  });

  it('an admin switches the account to an external CRM and back (en, ru)', { timeout: 120_000 }, async () => {
    const crm = new CrmApi(world.admin.client.transport);
    const en = await signInAs('en-US', world.server.admin);
    await en.getByRole('link', { name: 'Administration' }).click();
    await en.getByRole('link', { name: 'External CRM' }).click();
    await en.getByLabel('CRM used by this account').selectOption('rest');
    await en.getByRole('button', { name: 'Save' }).click();
    // The server's 400 names the field, shown next to it.
    await en.getByLabel('API base URL').and(en.locator('[aria-invalid="true"]')).waitFor();
    await en.getByLabel('API base URL').fill('http://127.0.0.1:9/crm');
    await en.getByLabel('API token').fill('external-crm-token');
    await en.getByRole('button', { name: 'Save' }).click();
    await en.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await en.getByText('No sync jobs waiting').waitFor();
    await screenshotTo(en, 'crm-adapter-en.png');
    expect(await crm.adapter()).toMatchObject({
      kind: 'rest',
      baseUrl: 'http://127.0.0.1:9/crm',
      hasToken: true,
    });
    await en.context().close();

    const ru = await signInAs('ru-RU', world.server.admin);
    await ru.getByRole('link', { name: 'Администрирование' }).click();
    await ru.getByRole('link', { name: 'Внешняя CRM' }).click();
    await ru.getByText('Токен сохранён. Оставьте поле пустым, чтобы не менять его.').waitFor();
    await screenshotTo(ru, 'crm-adapter-ru.png');
    await ru.getByLabel('CRM этого аккаунта').selectOption('builtin');
    await ru.getByRole('button', { name: 'Сохранить' }).click();
    await ru.getByRole('status').filter({ hasText: 'Сохранено' }).waitFor();
    expect((await crm.adapter()).kind).toBe('builtin');
    expect(errors).toEqual([]);
  });
});
