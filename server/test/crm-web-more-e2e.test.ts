import { CrmApi } from '@openlines/sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../src/services/accounts';
import { createEngineWorld, type EngineWorld } from './engine-fixture';
import { signIn, TEST_PASSWORD, uniqueEmail } from './harness';
import {
  chromiumInstalled,
  ensureWebBuilt,
  type Locale,
  launchChromium,
  screenshotsOnFailure,
  screenshotTo,
  signedInPage,
} from './web-build';

// The rest of the CRM screens in a real browser (issue 12): a session's transcript and rating on
// the timeline, merging duplicate contacts (and its refusals), the deals list beside the board
// with its filters and pages, the source filter, and the pipeline of a new deal; then in Russian.

describe.skipIf(!chromiumInstalled)('CRM merge, deals list, pipelines and transcripts in a browser', () => {
  let world: EngineWorld;
  let browser: Browser;
  let crm: CrmApi;
  let foreignContactId: string;
  const errors: string[] = [];
  const pages: Page[] = [];

  beforeAll(async () => {
    ensureWebBuilt();
    world = await createEngineWorld({ operatorCount: 1, settings: { crm: { create: 'lead' } } });
    await world.online(...world.operators);
    crm = new CrmApi(world.operators[0]!.client.transport);
    await new CrmApi(world.admin.client.transport).createPipeline({
      name: 'Partners',
      stages: [{ name: 'Intro' }, { name: 'Signed', semantics: 'won' }],
    });
    const email = uniqueEmail('crm-more');
    await createAccount(world.server.ctx, {
      accountName: 'Someone else',
      admin: { email, name: 'Other admin', password: TEST_PASSWORD },
    });
    const other = new CrmApi((await signIn(world.server, { email, password: TEST_PASSWORD })).transport);
    foreignContactId = (await other.contacts.create({ name: 'Not yours' })).id;
    browser = await launchChromium();
  }, 180_000);
  afterEach(screenshotsOnFailure(pages, 'crm-web-more-e2e'));
  afterAll(async () => {
    await browser?.close();
    await world?.stop();
  });

  /** The operator's app in a browser of its own. */
  const signInAs = (locale: Locale) =>
    signedInPage(browser, world.server.url, locale, world.operators[0]!, {
      viewport: { width: 1280, height: 900 },
      timeout: 10_000,
      errors,
      pages,
    });

  /** A client's first session with an operator's answer and the client's rating. */
  async function ratedDialog(clientId: string, answer: string) {
    const started = await world.clientSays(clientId, 'Hello, I need a quote');
    await world.operators[0]!.client.dialogs.send(started.dialogId, { text: answer });
    await world.server.ctx.store.db
      .updateTable('sessions')
      .set({ rating: 'like' })
      .where('id', '=', started.sessionId!)
      .execute();
    return { ...started, card: await crm.dialogCard(started.dialogId) };
  }

  it('shows the transcript on the timeline and merges a duplicate contact, refusing bad ones', {
    timeout: 120_000,
  }, async () => {
    const first = await ratedDialog('dup-a', 'Hi! <b>Not bold</b>, how many seats?');
    const second = await world.clientSays('dup-b', 'It is me again, from my phone');
    const duplicate = (await crm.dialogCard(second.dialogId)).contact!;
    await crm.contacts.update(duplicate.id, { name: 'Anna Petrova', phones: ['+7 916 555-00-12'] });
    const survivor = first.card.contact!;

    const page = await signInAs('en-US');
    await page.goto(`${world.server.url}/crm/contacts/${survivor.id}`);
    await page.getByRole('heading', { name: 'Client dup-a' }).waitFor();
    const activity = page.locator('.crm-activity').first();
    await activity.getByText(`Operator: ${world.operators[0]!.user.name}`).waitFor();
    await activity.getByText('Rating: 👍 Satisfied').waitFor();
    await activity.getByText('Transcript', { exact: true }).click();
    // The operator's markup is shown as the characters they typed, never as HTML.
    await activity.getByText('Hi! <b>Not bold</b>, how many seats?').waitFor();
    expect(await activity.locator('.crm-transcript b').count()).toBe(0);
    await activity.getByText('Hello, I need a quote').waitFor();
    await screenshotTo(page, 'crm-timeline-transcript.png');

    // The same contact twice, and one of another account: said in words, nothing merged.
    await page.goto(`${world.server.url}/crm/contacts/${survivor.id}/merge/${survivor.id}`);
    await page.getByRole('alert').getByText('A contact cannot be merged with itself').waitFor();
    await page.goto(`${world.server.url}/crm/contacts/${survivor.id}/merge/${foreignContactId}`);
    await page.getByRole('alert').getByText('That contact does not exist').waitFor();
    await screenshotTo(page, 'crm-merge-refused.png');

    await page.goto(`${world.server.url}/crm/contacts/${survivor.id}`);
    await page.getByRole('link', { name: 'Merge with…' }).click();
    await page.getByLabel('Find the duplicate by name, phone or e-mail', { exact: true }).fill('Anna');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('link', { name: 'Choose: Anna Petrova' }).click();
    await page.getByRole('radio', { name: 'Keep Name of Duplicate' }).check();
    await screenshotTo(page, 'crm-merge.png');
    await page.getByRole('button', { name: 'Merge and delete the duplicate' }).click();
    await page.getByRole('status').getByText('Merged').waitFor();
    await page.getByRole('heading', { name: 'Anna Petrova' }).waitFor();
    await page.locator('.crm-activity').nth(1).waitFor();
    await screenshotTo(page, 'crm-merged.png');

    const merged = await crm.contacts.get(survivor.id);
    expect(merged.name).toBe('Anna Petrova');
    expect(merged.phones).toEqual(['+79165550012']);
    expect((await crm.contacts.activities(survivor.id)).map((a) => a.dialogId).sort()).toEqual(
      [first.dialogId, second.dialogId].sort(),
    );
    expect((await crm.contacts.list({ search: 'Anna' })).items.map((c) => c.id)).toEqual([survivor.id]);
    expect(errors).toEqual([]);
  });

  it('creates a deal in a chosen pipeline, shows deals as a board or a filtered, paged list', {
    timeout: 120_000,
  }, async () => {
    const pipelines = await crm.pipelines();
    const sales = pipelines.find((p) => p.isDefault)!;
    for (let index = 0; index < 26; index++) await crm.deals.create({ title: `Sales deal ${index + 1}` });
    await crm.leads.create({ title: 'Lead made by hand' });
    await world.clientSays('lead-from-channel', 'Hello');

    const page = await signInAs('en-US');
    await page.getByRole('link', { name: 'CRM' }).click();
    await page.getByRole('link', { name: 'Deals' }).click();
    await page.getByLabel('New deal’s title').fill('Partner deal');
    await page.getByLabel('Pipeline of the new deal').selectOption({ label: 'Partners' });
    await page.getByRole('button', { name: 'Add the deal' }).click();
    await page.getByRole('heading', { name: 'Partner deal' }).waitFor();
    await page.locator('.facts').getByText('Partners').waitFor();
    await page.locator('.facts').getByText('Intro').waitFor();
    const partner = (await crm.deals.list({ search: 'Partner deal' })).items[0]!;
    expect(partner.pipelineId).toBe(pipelines.find((p) => p.name === 'Partners')!.id);

    // The board shows the chosen pipeline.
    await page.getByRole('link', { name: 'Deals' }).click();
    await page.locator('.crm-column').first().getByText('Sales deal 26').waitFor();
    await page.locator('.crm-deals-bar').getByLabel('Pipeline').selectOption({ label: 'Partners' });
    await page.getByRole('region', { name: 'Intro' }).getByText('Partner deal').waitFor();
    expect(await page.getByText('Sales deal 26').count()).toBe(0);
    await screenshotTo(page, 'crm-deals-board-pipeline.png');

    // The list: 25 a page, "Show more", then filtered by pipeline and stage.
    await page.getByRole('button', { name: 'List' }).click();
    await page.getByRole('columnheader', { name: 'Stage' }).waitFor();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(25);
    await page.getByRole('button', { name: 'Show more' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(27);
    const filters = page.locator('.crm-filters');
    await filters.getByLabel('Pipeline').selectOption({ label: 'Partners' });
    await filters.getByLabel('Stage').selectOption({ label: 'Partners: Intro' });
    await page.getByRole('button', { name: 'Find' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    await page.getByRole('cell', { name: 'Partner deal' }).waitFor();
    await screenshotTo(page, 'crm-deals-list.png');
    await filters.getByLabel('Pipeline').selectOption({ label: 'Any pipeline' });
    await filters.getByLabel('Stage').selectOption({ label: `Sales: ${sales.stages[1]!.name}` });
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByText('Nothing here yet.').waitFor();

    // The client card asks for the pipeline too.
    const fromChannel = await world.clientSays('deal-from-card', 'I want to partner');
    await page.goto(`${world.server.url}/dialogs/${fromChannel.dialogId}`);
    const card = page.locator('.crm-card');
    await card.getByLabel('Pipeline of the new deal').selectOption({ label: 'Partners' });
    await card.getByRole('button', { name: 'Create deal' }).click();
    await card.getByText('Intro').waitFor();
    await screenshotTo(page, 'crm-card-deal-pipeline.png');
    const cardDeals = (await crm.dialogCard(fromChannel.dialogId)).deals;
    expect(cardDeals.map((d) => d.pipelineId)).toEqual([partner.pipelineId]);

    // The source filter: leads made by hand, not those a channel made.
    await page.getByRole('link', { name: 'CRM' }).click();
    await page.getByRole('link', { name: 'Leads' }).click();
    await page.getByRole('cell', { name: 'Client lead-from-channel — Support' }).waitFor();
    await page.locator('.crm-filters').getByLabel('Source').selectOption({ label: 'By hand' });
    await page.getByRole('button', { name: 'Find' }).click();
    await page
      .getByRole('cell', { name: 'Client lead-from-channel — Support' })
      .waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'Lead made by hand' }).waitFor();
    await screenshotTo(page, 'crm-leads-source.png');
    expect(errors).toEqual([]);
  });

  it('the timeline, merge screen and deals list in Russian', { timeout: 120_000 }, async () => {
    const first = await ratedDialog('ru-a', 'Здравствуйте! Сколько мест нужно?');
    const other = await crm.contacts.create({ name: 'Анна Петрова', notes: 'Постоянный клиент' });
    const page = await signInAs('ru-RU');
    const contactId = first.card.contact!.id;
    await page.goto(`${world.server.url}/crm/contacts/${contactId}`);
    const activity = page.locator('.crm-activity').first();
    await activity.getByText('Оценка: 👍 Доволен').waitFor();
    await activity.getByText('Переписка', { exact: true }).click();
    await activity.getByText('Здравствуйте! Сколько мест нужно?').waitFor();
    await activity.getByRole('link', { name: 'Открыть диалог' }).waitFor();
    await screenshotTo(page, 'crm-timeline-transcript-ru.png');

    await page.getByRole('link', { name: 'Объединить с…' }).click();
    await page.getByLabel('Найдите дубль по имени, телефону или e-mail', { exact: true }).fill('Анна');
    await page.getByRole('button', { name: 'Найти' }).click();
    await page.getByRole('link', { name: 'Выбрать: Анна Петрова' }).click();
    await page.getByRole('radio', { name: 'Оставить: Имя — Дубль' }).waitFor();
    await page.getByRole('button', { name: 'Объединить и удалить дубль' }).waitFor();
    await screenshotTo(page, 'crm-merge-ru.png');
    await page.goto(`${world.server.url}/crm/contacts/${contactId}/merge/${contactId}`);
    await page.getByRole('alert').getByText('Контакт нельзя объединить с самим собой').waitFor();
    expect((await crm.contacts.get(other.id)).name).toBe('Анна Петрова');

    await page.goto(`${world.server.url}/crm/deals`);
    await page.getByLabel('Воронка новой сделки').waitFor();
    await page.getByRole('button', { name: 'Список' }).click();
    await page.locator('.crm-filters').getByLabel('Источник').waitFor();
    await page.locator('.crm-filters').getByLabel('Стадия').waitFor();
    await page.getByRole('button', { name: 'Показать ещё' }).waitFor();
    await screenshotTo(page, 'crm-deals-list-ru.png');
    expect(errors).toEqual([]);
  });
});
