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

// The CRM lists and records in a real browser (issue 12): filters, a lead converted into a
// company and a deal with the session on it, a company edited, a CSV import refused with its
// per-row report; the same screens in Russian.

describe.skipIf(!chromiumInstalled)('CRM lists, conversion and CSV in a real browser', () => {
  let world: EngineWorld;
  let browser: Browser;
  const errors: string[] = [];
  const pages: Page[] = [];

  beforeAll(async () => {
    ensureWebBuilt();
    world = await createEngineWorld({ operatorCount: 1, settings: { crm: { create: 'lead' } } });
    await world.online(...world.operators);
    browser = await launchChromium();
  }, 180_000);
  afterEach(screenshotsOnFailure(pages, 'crm-records-e2e'));
  afterAll(async () => {
    await browser?.close();
    await world?.stop();
  });

  /** The operator's app in a browser of its own. */
  const signInAs = (locale: Locale) =>
    signedInPage(browser, world.server.url, locale, world.operators[0]!, {
      viewport: { width: 1280, height: 860 },
      timeout: 10_000,
      errors,
      pages,
    });

  it('filters leads, converts one into a company and a deal, edits the company, refuses a bad CSV', {
    timeout: 120_000,
  }, async () => {
    await world.clientSays('lead-open', 'I need a quote');
    const junk = await world.clientSays('lead-junk', 'spam spam');
    const crm = new CrmApi(world.operators[0]!.client.transport);
    const junkLead = (await crm.dialogCard(junk.dialogId)).leads[0]!;
    await crm.leads.update(junkLead.id, { status: 'junk' });

    const page = await signInAs('en-US');
    await page.getByRole('link', { name: 'CRM' }).click();
    await page.getByRole('link', { name: 'Leads' }).click();
    await page.getByRole('cell', { name: 'Client lead-junk — Support' }).waitFor();
    await page.locator('.crm-filters').getByLabel('Status').selectOption({ label: 'New' });
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('cell', { name: 'Client lead-junk — Support' }).waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'Client lead-open — Support' }).waitFor();
    await screenshotTo(page, 'crm-leads-filtered.png');

    await page.getByRole('link', { name: 'Client lead-open — Support' }).click();
    await page.getByLabel('New company (optional)').fill('Acme LLC');
    await page.getByRole('button', { name: 'Convert to deal' }).click();
    await page.getByText('Converted').first().waitFor();
    await screenshotTo(page, 'crm-lead-converted.png');
    await page.getByRole('link', { name: 'Open the deal' }).click();
    await page.getByRole('heading', { name: 'Client lead-open — Support' }).waitFor();
    await page.locator('.crm-timeline a').first().waitFor();
    const deal = (await crm.deals.list({ search: 'lead-open' })).items[0]!;
    expect(deal.leadId).not.toBeNull();
    expect(deal.companyId).not.toBeNull();

    await page.getByRole('link', { name: 'Companies' }).click();
    await page.getByRole('link', { name: 'Acme LLC' }).click();
    await page.getByLabel('Notes').fill('Buys every spring');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    expect((await crm.companies.get(deal.companyId!)).notes).toBe('Buys every spring');
    await screenshotTo(page, 'crm-company-edit.png');

    await page.getByRole('link', { name: 'Contacts' }).click();
    await page.locator('input[type=file]').setInputFiles({
      name: 'contacts.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('name,phones\nGood,+1 650 253 0009\nBad,call me\n'),
    });
    await page.getByText('Line 3, phones: call me is not a valid phone number').waitFor();
    expect((await crm.contacts.list({ search: 'Good' })).items).toEqual([]);
    await screenshotTo(page, 'crm-import-report.png');
    expect(errors).toEqual([]);
  });

  it('the lists and a company in Russian', { timeout: 120_000 }, async () => {
    const crm = new CrmApi(world.operators[0]!.client.transport);
    const company = await crm.companies.create({ name: 'ООО Ромашка' });
    const page = await signInAs('ru-RU');
    await page.getByRole('link', { name: 'CRM' }).click();
    await page.getByRole('link', { name: 'Лиды' }).click();
    await page.locator('.crm-filters').getByLabel('Статус').waitFor();
    await page.locator('.crm-filters').getByLabel('Ответственный').waitFor();
    await screenshotTo(page, 'crm-leads-filters-ru.png');
    await page.getByRole('link', { name: 'Компании' }).click();
    await page.getByRole('link', { name: 'ООО Ромашка' }).click();
    await page.getByRole('button', { name: 'Сохранить' }).waitFor();
    await screenshotTo(page, 'crm-company-ru.png');
    await page.goto(`${world.server.url}/crm/leads`);
    const lead = (await crm.leads.list({ status: 'new' })).items[0];
    if (lead) {
      await page.goto(`${world.server.url}/crm/leads/${lead.id}`);
      await page.getByRole('button', { name: 'Конвертировать в сделку' }).waitFor();
      await screenshotTo(page, 'crm-lead-ru.png');
    }
    expect(company.name).toBe('ООО Ромашка');
    expect(errors).toEqual([]);
  });
});
