import type { ApiChannelSender, OpenlinesClient } from '@openlines/sdk';
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
import { unreadableDialogButtons } from './readable-buttons';
import {
  chromiumInstalled,
  ensureWebBuilt,
  type Locale,
  launchChromium,
  shooter,
  signedInPage,
} from './web-build';

// The operator workspace's actions of issue 19 in a real browser, in English and in Russian, with
// screenshots in test-artifacts/: following up a closed dialog (and a refusal told in the user's
// language), a supervisor's intercept and join, a transfer's comment read by the colleague who
// receives it, tags with the list's tag filter, personal and per-line quick answers.

const WORDS = {
  'en-US': {
    followUp: 'Follow up',
    closedHint: 'Follow up to write to the client now',
    placeholder: 'Message to the client — type / for quick answers',
    send: 'Send',
    assigned: 'Assigned',
    refusal: 'The dialog’s channel is disconnected or on another line now.',
    invalidState: 'Not possible in the dialog’s current state',
    intercept: 'Intercept',
    join: 'Join as consultant',
    joined: 'joined as a consultant',
    tookOver: 'took the dialog over',
    consulting: 'You are consulting',
    transfer: 'Transfer',
    transferComment: 'Comment for the colleague (optional)',
    transferTo: (name: string) => `Transfer to ${name}`,
    commentLabel: 'Comment:',
    tagInput: 'New tag',
    addTag: 'Add tag',
    tagHint: 'Up to 20 tags, each up to 40 characters.',
    duplicate: 'The dialog has this tag already.',
    removeTag: (tag: string) => `Remove the tag ${tag}`,
    filters: 'Filters',
    tagFilter: 'Tag',
    all: /All/,
    quickAnswersNav: 'Quick answers',
    qaTitle: 'Title',
    qaText: 'Text',
    qaLine: 'Line',
    qaCreate: 'Add quick answer',
    personal: 'Personal',
  },
  'ru-RU': {
    followUp: 'Написать клиенту',
    closedHint: 'Нажмите «Написать клиенту», чтобы написать сейчас',
    placeholder: 'Сообщение клиенту — / для быстрых ответов',
    send: 'Отправить',
    assigned: 'Назначен',
    refusal: 'Канал диалога отключён или перенесён на другую линию.',
    invalidState: 'Невозможно в текущем состоянии диалога',
    intercept: 'Перехватить',
    join: 'Подключиться консультантом',
    joined: 'подключился(-ась) как консультант',
    tookOver: 'перехватил(а) диалог',
    consulting: 'Вы консультируете',
    transfer: 'Передать',
    transferComment: 'Комментарий для коллеги (необязательно)',
    transferTo: (name: string) => `Передать: ${name}`,
    commentLabel: 'Комментарий:',
    tagInput: 'Новая метка',
    addTag: 'Добавить метку',
    tagHint: 'До 20 меток, в каждой до 40 символов.',
    duplicate: 'У диалога уже есть эта метка.',
    removeTag: (tag: string) => `Убрать метку ${tag}`,
    filters: 'Фильтры',
    tagFilter: 'Метка',
    all: /Все/,
    quickAnswersNav: 'Быстрые ответы',
    qaTitle: 'Заголовок',
    qaText: 'Текст',
    qaLine: 'Линия',
    qaCreate: 'Добавить быстрый ответ',
    personal: 'Личный',
  },
} as const satisfies Record<Locale, unknown>;
const LOCALE_LIST = ['en-US', 'ru-RU'] as const;

/** The dialogs one locale's tests act on, arranged before any browser puts an operator online. */
interface Dialogs {
  followUp: string;
  refused: string;
  join: string;
  intercept: string;
  transfer: string;
  tagless: string;
  quick: string;
}

describe.skipIf(!chromiumInstalled)('operator workspace actions in the web app', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: OpenlinesClient;
  let adminName: string;
  let adminId: string;
  let operator: SignedInUser;
  let lineId: string;
  let otherLineId: string;
  const dialogs = {} as Record<Locale, Dialogs>;

  beforeAll(async () => {
    ensureWebBuilt();
    server = await createTestServer();
    admin = await signIn(server);
    const me = await admin.auth.me();
    adminName = me.user.name;
    adminId = me.user.id;
    operator = await createSignedInUser(server, admin, 'operator');
    const members = [
      { type: 'user' as const, id: adminId },
      { type: 'user' as const, id: operator.user.id },
    ];
    const line = await admin.lines.create({
      name: 'Actions E2E',
      settings: { automaticActions: { welcome: { enabled: false } }, queue: { members } },
    });
    lineId = line.id;
    const other = await admin.lines.create({
      name: 'Other E2E',
      settings: { automaticActions: { welcome: { enabled: false } }, queue: { members } },
    });
    otherLineId = other.id;
    const senderOn = (name: string) => createApiChannel(server, admin, lineId, name);
    const main = await senderOn('Backend');
    const spare = await senderOn('Spare backend');
    let n = 0;
    const dialogOf = async (sender: ApiChannelSender, name: string, text = 'Hello') =>
      (await sender.send({ externalId: `e-${++n}`, user: { id: `u-${name}`, name }, text })).dialogId;
    // Nobody is online yet, so every dialog waits in the queue until taken here.
    const held = async (client: OpenlinesClient, dialogId: string) => {
      await client.dialogs.take(dialogId);
      return dialogId;
    };
    for (const locale of LOCALE_LIST) {
      const lang = locale.slice(0, 2);
      const followUp = await held(operator.client, await dialogOf(main.sender, `Follow Up ${lang}`));
      await operator.client.dialogs.close(followUp, { confirmed: true });
      const refused = await held(operator.client, await dialogOf(spare.sender, `Refused ${lang}`));
      await operator.client.dialogs.close(refused, { confirmed: true });
      dialogs[locale] = {
        followUp,
        refused,
        join: await held(operator.client, await dialogOf(main.sender, `Join Me ${lang}`)),
        intercept: await held(operator.client, await dialogOf(main.sender, `Intercept Me ${lang}`)),
        transfer: await held(admin, await dialogOf(main.sender, `Transfer Me ${lang}`, 'I want a refund')),
        tagless: await held(operator.client, await dialogOf(main.sender, `No Tags ${lang}`)),
        quick: await held(operator.client, await dialogOf(main.sender, `Quick ${lang}`)),
      };
    }
    // The spare channel stops: writing first on it is refused.
    await admin.channels.update(spare.channelId, { status: 'disconnected' });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const signedIn = (locale: Locale, who: { email: string; password: string }) =>
    signedInPage(browser, server.url, locale, who);

  async function openDialog(page: Page, dialogId: string) {
    await page.goto(`${server.url}/dialogs/${dialogId}`);
    await page.locator('#dialog-title').waitFor();
  }

  const toolbar = (page: Page) => page.getByRole('toolbar');

  for (const locale of LOCALE_LIST) {
    const words = WORDS[locale];

    it(`an operator follows up a closed dialog; a refusal is told in the language (${locale})`, async () => {
      const page = await signedIn(locale, operator);
      const shot = shooter(page, 'workspace', locale);
      const { followUp, refused } = dialogs[locale];

      await openDialog(page, refused);
      await page.getByText(words.closedHint).waitFor();
      await toolbar(page).getByRole('button', { name: words.followUp }).click();
      const alert = page.getByRole('alert').filter({ hasText: words.refusal });
      await alert.waitFor();
      await expect(alert.textContent()).resolves.toContain(words.invalidState);
      // The server's English detail is not shown beside the translation.
      if (locale === 'ru-RU') expect(await page.getByText('disconnected or on another line').count()).toBe(0);
      await shot('follow-up-refused');
      expect((await admin.dialogs.get(refused)).session?.status).toBe('closed');

      await openDialog(page, followUp);
      await toolbar(page).getByRole('button', { name: words.followUp }).click();
      await page.getByTestId('dialog-status').filter({ hasText: words.assigned }).waitFor();
      await page.locator('.system-event[data-reason="started_by_operator"]').waitFor();
      const text = `Following up on your order (${locale})`;
      await page.getByPlaceholder(words.placeholder).fill(text);
      await page.getByRole('button', { name: words.send, exact: true }).click();
      await page.locator('.message-text', { hasText: text }).waitFor();
      await shot('follow-up-sent');
      const dialog = await admin.dialogs.get(followUp);
      expect(dialog.session).toMatchObject({ status: 'answered', operatorId: operator.user.id });
      const sent = (await admin.dialogs.messages(followUp)).find((m) => m.text === text);
      expect(sent).toMatchObject({ private: false, sessionId: dialog.session!.id });
      await page.context().close();
    }, 90_000);

    it(`a supervisor joins and intercepts from the dialog view; an operator has neither (${locale})`, async () => {
      const { join, intercept } = dialogs[locale];
      const operatorPage = await signedIn(locale, operator);
      await openDialog(operatorPage, join);
      await toolbar(operatorPage).getByRole('button', { name: words.transfer }).waitFor();
      expect(await toolbar(operatorPage).getByRole('button', { name: words.intercept }).count()).toBe(0);
      expect(await toolbar(operatorPage).getByRole('button', { name: words.join }).count()).toBe(0);
      await operatorPage.context().close();

      const page = await signedIn(locale, server.admin);
      const shot = shooter(page, 'workspace', locale);
      await openDialog(page, join);
      await toolbar(page).getByRole('button', { name: words.intercept }).waitFor();
      await shot('supervisor-actions');
      await toolbar(page).getByRole('button', { name: words.join }).click();
      await page.locator('.system-event[data-reason="joined"]', { hasText: words.joined }).waitFor();
      await page.getByText(words.consulting).waitFor();
      // Joined: no second join, and the operator still holds the dialog.
      expect(await toolbar(page).getByRole('button', { name: words.join }).count()).toBe(0);
      await shot('supervisor-joined');
      expect((await admin.dialogs.get(join)).session).toMatchObject({
        operatorId: operator.user.id,
        participantIds: [adminId],
      });

      await openDialog(page, intercept);
      await toolbar(page).getByRole('button', { name: words.intercept }).click();
      await page.locator('.system-event[data-reason="intercepted"]', { hasText: words.tookOver }).waitFor();
      await expect(page.locator('.dialog-meta').textContent()).resolves.toContain(adminName);
      expect(await toolbar(page).getByRole('button', { name: words.intercept }).count()).toBe(0);
      await shot('supervisor-intercepted');
      expect((await admin.dialogs.get(intercept)).session?.operatorId).toBe(adminId);
      await page.context().close();
    }, 90_000);

    it(`a transfer's comment reaches the colleague; tags are set and filter the list (${locale})`, async () => {
      const { transfer, tagless } = dialogs[locale];
      const page = await signedIn(locale, server.admin);
      const shot = shooter(page, 'workspace', locale);
      await openDialog(page, transfer);
      await toolbar(page).getByRole('button', { name: words.transfer }).click();
      const modal = page.getByRole('dialog');
      // Markup in the comment stays text for whoever reads it.
      const comment = `Wants a refund for order 42 <b>now</b> (${locale})`;
      await modal.getByLabel(words.transferComment).fill(comment);
      expect(await unreadableDialogButtons(page)).toEqual([]);
      await shot('transfer-comment');
      await modal.getByRole('button', { name: words.transferTo(operator.user.name) }).click();
      await modal.waitFor({ state: 'detached' });
      const recorded = (await admin.dialogs.transitions(transfer)).find((t) => t.reason === 'transferred');
      expect(recorded?.comment).toBe(comment);
      await page.context().close();

      const operatorPage = await signedIn(locale, operator);
      const operatorShot = shooter(operatorPage, 'workspace', locale);
      await openDialog(operatorPage, transfer);
      const shown = operatorPage.locator('.transition-comment');
      await shown.waitFor();
      expect(await shown.textContent()).toBe(`${words.commentLabel} ${comment}`);
      expect(await operatorPage.locator('.transition-comment b').count()).toBe(0);

      // Tags: the limits are said, a duplicate is refused before saving, the chips are in name order.
      await operatorPage.getByText(words.tagHint).waitFor();
      const tagInput = operatorPage.getByRole('textbox', { name: words.tagInput });
      const vip = `vip-${locale}`;
      for (const tag of [vip, 'billing']) {
        await tagInput.fill(tag);
        await operatorPage.getByRole('button', { name: words.addTag }).click();
        await operatorPage.getByRole('button', { name: words.removeTag(tag) }).waitFor();
      }
      await tagInput.fill(` ${vip} `);
      await operatorPage.getByRole('button', { name: words.addTag }).click();
      await operatorPage.getByRole('alert').filter({ hasText: words.duplicate }).waitFor();
      expect(await operatorPage.locator('.dialog-tags .tag-text').allTextContents()).toEqual([
        'billing',
        vip,
      ]);
      expect(
        await operatorPage.getByRole('textbox', { name: words.tagInput }).getAttribute('maxlength'),
      ).toBe('40');
      await operatorShot('tags');
      expect((await admin.dialogs.get(transfer)).tags).toEqual(['billing', vip]);

      // The list filtered by the tag shows the tagged dialog and not the others.
      await operatorPage.getByRole('tab', { name: words.all }).click();
      const rows = operatorPage.locator('.dialog-row');
      await rows.filter({ hasText: `No Tags ${locale.slice(0, 2)}` }).waitFor();
      await operatorPage.getByRole('button', { name: words.filters }).click();
      await operatorPage.getByRole('combobox', { name: words.tagFilter, exact: true }).selectOption(vip);
      await rows.filter({ hasText: `No Tags ${locale.slice(0, 2)}` }).waitFor({ state: 'detached' });
      await rows.filter({ hasText: `Transfer Me ${locale.slice(0, 2)}` }).waitFor();
      expect(await rows.count()).toBe(1);
      await operatorShot('tag-filter');
      const page2 = await operator.client.dialogs.list({ view: 'all', tag: vip });
      expect(page2.items.map((d) => d.id)).toEqual([transfer]);
      expect(page2.items.map((d) => d.id)).not.toContain(tagless);

      // Removing a tag takes the dialog out of the filtered list.
      await openDialog(operatorPage, transfer);
      await operatorPage.getByRole('button', { name: words.removeTag(vip) }).click();
      await operatorPage.getByRole('button', { name: words.removeTag(vip) }).waitFor({ state: 'detached' });
      expect((await admin.dialogs.get(transfer)).tags).toEqual(['billing']);
      await operatorPage.context().close();
    }, 120_000);

    it(`an operator keeps personal quick answers per line and the composer offers them (${locale})`, async () => {
      const lang = locale.slice(0, 2);
      const shared = await admin.quickAnswers.create({
        title: `Shared hello ${lang}`,
        text: 'Hello from all of us',
      });
      const page = await signedIn(locale, operator);
      const shot = shooter(page, 'workspace', locale);
      await page.getByRole('link', { name: words.quickAnswersNav }).click();
      await page.getByRole('heading', { name: words.quickAnswersNav }).waitFor();
      const create = async (title: string, text: string, line: string) => {
        const form = page.locator('form.qa-form').last();
        await form.getByLabel(words.qaTitle).fill(title);
        await form.getByLabel(words.qaText).fill(text);
        await form.getByLabel(words.qaLine).selectOption({ label: line });
        await form.getByRole('button', { name: words.qaCreate }).click();
        await page.locator('.qa-item', { hasText: title }).waitFor();
      };
      await create(`Refund steps ${lang}`, 'Open Orders, pick the order, press Refund.', 'Actions E2E');
      await create(`Elsewhere ${lang}`, 'Only for the other line.', 'Other E2E');
      // The screen has its own address: a reload stays on it.
      await page.reload();
      await page.locator('.qa-item', { hasText: `Elsewhere ${lang}` }).waitFor();
      // The shared answer is listed, but only a manager edits it.
      const sharedItem = page.locator('.qa-item', { hasText: shared.title });
      await sharedItem.waitFor();
      expect(await sharedItem.getByRole('button').count()).toBe(0);
      await shot('quick-answers-personal');
      const mine = await operator.client.quickAnswers.list();
      expect(mine.find((a) => a.title === `Refund steps ${lang}`)).toMatchObject({ personal: true, lineId });
      expect(mine.find((a) => a.title === `Elsewhere ${lang}`)).toMatchObject({
        personal: true,
        lineId: otherLineId,
      });
      // Nobody else sees them.
      expect((await admin.quickAnswers.list()).some((a) => a.title === `Refund steps ${lang}`)).toBe(false);

      await openDialog(page, dialogs[locale].quick);
      const box = page.getByPlaceholder(words.placeholder);
      await box.fill('/');
      const picker = page.getByRole('listbox');
      await picker.getByRole('option', { name: new RegExp(`Refund steps ${lang}`) }).waitFor();
      await picker.getByRole('option', { name: new RegExp(shared.title) }).waitFor();
      expect(await picker.getByRole('option', { name: new RegExp(`Elsewhere ${lang}`) }).count()).toBe(0);
      await expect(
        picker.getByRole('option', { name: new RegExp(`Refund steps ${lang}`) }).textContent(),
      ).resolves.toContain(words.personal);
      await shot('quick-answers-picker');
      await box.fill(`/Refund steps ${lang}`.slice(0, 7));
      await picker.getByRole('option', { name: new RegExp(`Refund steps ${lang}`) }).click();
      await expect(box.inputValue()).resolves.toBe('Open Orders, pick the order, press Refund.');
      await page.context().close();
    }, 90_000);
  }
});
