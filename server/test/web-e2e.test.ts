import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { MaxMessageText, type User } from '@openlines/contract';
import { ApiChannelSender, type OpenlinesClient } from '@openlines/sdk';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, signIn, TEST_PASSWORD, type TestServer, uniqueEmail, waitFor } from './harness';
import { unreadableDialogButtons } from './readable-buttons';
import { ARTIFACTS_DIR, CHROMIUM, CHROMIUM_ARGS, chromiumInstalled, ensureWebBuilt } from './web-build';
import { ORANGE_PNG } from './widget-visitor';

// The operator workspace and administration in a real browser (Debian's Chromium through
// playwright-core): an admin sets up a line and an API channel in the UI, a client writes through
// the channel, two operators take, consult privately, transfer and close; XSS payloads stay text;
// an operator without admin rights sees no admin screens and the API refuses them anyway.

const XSS_NAME = '<img src=x onerror=alert(1)>';
const XSS_TEXT = '<script>alert(2)</script>Where is my order?';
const XSS_ANSWER_TITLE = '<b onmouseover=alert(3)>Refund</b>';
const XSS_ANSWER_TEXT = '<img src=y onerror=alert(4)> Refunds take 3 days';
const PRIVATE_TEXT = 'Consult: the order is delayed, do not promise dates';
const PUBLIC_TEXT = 'We are checking your order right now';

/** A stand-in for the system behind the API channel: records every webhook delivery. */
async function startWebhookReceiver() {
  const bodies: string[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      bodies.push(body);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, bodies, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

interface Session {
  context: BrowserContext;
  page: Page;
  /** Browser dialogs (alert/confirm/prompt) that fired: an XSS payload that ran would land here. */
  dialogs: string[];
  errors: string[];
  /** Sockets and failed requests, printed when a test fails. */
  log: string[];
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(!chromiumInstalled)('web app in a real browser', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: OpenlinesClient;
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const sessions: Session[] = [];
  const operators: { user: User; email: string }[] = [];

  /** What the sign-in screen says, per browser language. */
  const SIGN_IN = {
    'en-US': { password: 'Password', signIn: 'Sign in', dialogs: /^Dialogs/ },
    'ru-RU': { password: 'Пароль', signIn: 'Войти', dialogs: /^Диалоги/ },
  } as const;

  async function open(
    email: string,
    password: string,
    locale: keyof typeof SIGN_IN = 'en-US',
    beforeSignIn?: (page: Page) => Promise<unknown>,
  ): Promise<Session> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale });
    context.setDefaultTimeout(30_000);
    const page = await context.newPage();
    const session: Session = { context, page, dialogs: [], errors: [], log: [] };
    page.on('dialog', (dialog) => {
      session.dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => session.errors.push(error.message));
    page.on('websocket', (socket) => {
      session.log.push(`ws open ${socket.url()}`);
      socket.on('close', () => session.log.push('ws closed'));
      socket.on('socketerror', (error) => session.log.push(`ws error ${error}`));
      socket.on('framereceived', (frame) => session.log.push(`ws << ${String(frame.payload).slice(0, 120)}`));
    });
    page.on('response', (response) => {
      if (response.status() >= 400) session.log.push(`HTTP ${response.status()} ${response.url()}`);
    });
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (event) => {
        seen.push(`${event.violatedDirective} ${event.blockedURI}`);
      });
    });
    await page.goto(server.url);
    const words = SIGN_IN[locale];
    await page.getByLabel(words.password).waitFor();
    await beforeSignIn?.(page);
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel(words.password).fill(password);
    await page.getByRole('button', { name: words.signIn }).click();
    await page.getByRole('link', { name: words.dialogs }).waitFor();
    sessions.push(session);
    return session;
  }

  const row = (page: Page, text: string) => page.locator('.dialog-row', { hasText: text });
  const visible = (page: Page, text: string) => page.getByText(text, { exact: false }).first().waitFor();

  beforeAll(async () => {
    ensureWebBuilt();
    webhook = await startWebhookReceiver();
    server = await createTestServer();
    admin = await signIn(server);
    const roles = await admin.roles.list();
    const operatorRole = roles.find((role) => role.builtIn === 'operator')!.id;
    for (const name of ['Olga One', 'Pavel Two']) {
      const email = uniqueEmail('op');
      const user = await admin.users.create({ email, name, password: TEST_PASSWORD, roleId: operatorRole });
      operators.push({ user, email });
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 180_000);

  /** On a failure, what each browser showed, for the test artifacts. */
  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    for (const [index, session] of sessions.entries()) {
      process.stderr.write(`--- browser ${index}\n${session.log.slice(-40).join('\n')}\n`);
      await session.page
        .screenshot({ path: path.join(ARTIFACTS_DIR, `web-e2e-failure-${index}.png`) })
        .catch(() => undefined);
    }
  });

  afterAll(async () => {
    for (const session of sessions) await session.context.close().catch(() => undefined);
    await browser?.close();
    await server?.stop();
    await webhook?.close();
  });

  it('admin sets up a line and a channel; operators take, consult, transfer and close', async () => {
    // ----- the administrator: a line with both operators, distribution to all, and an API channel
    const boss = await open(server.admin.email, server.admin.password);
    const { page: a } = boss;
    await a.getByRole('link', { name: 'Administration' }).click();
    await a.getByTestId('line-limit').waitFor();
    expect(await a.getByTestId('line-limit').textContent()).toMatch(/0 of 3 lines/);
    await a.getByLabel('Name', { exact: true }).fill('E2E Support');
    await a.getByRole('button', { name: 'Create line' }).click();
    await a.getByRole('heading', { name: 'E2E Support' }).waitFor();
    for (const { user } of operators) {
      await a.getByLabel('Add to the queue…').selectOption(`user:${user.id}`);
      await a.getByRole('button', { name: 'Add', exact: true }).click();
    }
    await a.getByLabel('Distribution').selectOption('all');
    // The server's validation message is shown next to its field.
    await a.getByLabel(/Concurrent dialogs per operator/).fill('5000');
    await a.getByRole('button', { name: 'Save' }).click();
    await a
      .locator('.field', { has: a.locator('[data-field="queue.maxChat"]') })
      .locator('.field-errors')
      .waitFor();
    await a.getByLabel(/Concurrent dialogs per operator/).fill('0');
    await a.getByRole('button', { name: 'Save' }).click();
    await a.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const line = (await admin.lines.list()).items.find((l) => l.name === 'E2E Support')!;
    expect(line.settings.queue.distribution).toBe('all');
    expect(line.settings.queue.members.map((m) => m.id)).toEqual(operators.map((o) => o.user.id));

    await a.getByRole('link', { name: 'Channels' }).click();
    await a.getByRole('button', { name: 'Connect a channel' }).click();
    await a.getByLabel('Kind', { exact: true }).selectOption('api');
    await a.getByLabel('Name', { exact: true }).fill('Shop backend');
    await a.getByLabel('Webhook URL').fill(webhook.url);
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    await a.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-channel-form.png') });
    expect(await unreadableDialogButtons(a)).toEqual([]);
    await a.getByRole('button', { name: 'Connect', exact: true }).click();
    const tokenField = a.getByLabel('Inbound token (Authorization: Bearer …)');
    await tokenField.waitFor();
    const token = await tokenField.inputValue();
    expect(token).toMatch(/^olc_/);
    // Where to send messages comes from the kind's description (GET /channel-kinds), not its name.
    expect(await a.getByLabel('Send client messages to (POST, Bearer token)').inputValue()).toMatch(
      /\/api\/v1\/channel-api\/messages$/,
    );
    await a.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-channel-secrets.png') });
    expect(await unreadableDialogButtons(a)).toEqual([]);
    await a.getByRole('button', { name: 'I have copied them' }).click();

    await a.getByRole('link', { name: 'Quick answers' }).click();
    await a.getByLabel('Title', { exact: true }).fill(XSS_ANSWER_TITLE);
    await a.getByLabel('Text', { exact: true }).fill(XSS_ANSWER_TEXT);
    await a.getByRole('button', { name: 'Add quick answer' }).click();
    await visible(a, XSS_ANSWER_TITLE);

    // ----- a client writes through the API channel
    const client = new ApiChannelSender(server.url, token);
    await client.send({ externalId: 'c-1', user: { id: 'client-1', name: XSS_NAME }, text: XSS_TEXT });

    // ----- two operators sign in; Olga takes the dialog from the queue
    const olga = await open(operators[0]!.email, TEST_PASSWORD);
    const pavel = await open(operators[1]!.email, TEST_PASSWORD);
    const { page: o } = olga;
    const { page: p } = pavel;
    await o.getByRole('tab', { name: /Queue/ }).click();
    await row(o, XSS_NAME).click();
    await o.getByRole('heading', { name: XSS_NAME }).waitFor();
    await visible(o, XSS_TEXT);
    await o.getByRole('button', { name: 'Take' }).click();
    await o.getByTestId('dialog-status').filter({ hasText: 'Assigned' }).waitFor();
    await o.locator('.system-event', { hasText: 'Olga One took the dialog' }).waitFor();

    // The composer says the server's limit before sending, and does not send past it.
    const composer = o.locator('#composer-text');
    await composer.fill('x'.repeat(MaxMessageText + 1));
    await o
      .getByRole('status')
      .filter({ hasText: `${MaxMessageText + 1} of ${MaxMessageText} characters` })
      .waitFor();
    expect(await o.getByRole('button', { name: 'Send', exact: true }).isDisabled()).toBe(true);
    await composer.fill('');

    // A public answer, picked from the quick answers with `/`, stays literal text.
    await composer.fill(`${PUBLIC_TEXT}. `);
    await composer.press('End');
    await composer.pressSequentially('/Ref');
    await o.getByRole('option', { name: /Refund/ }).waitFor();
    await composer.press('Enter');
    expect(await composer.inputValue()).toContain(XSS_ANSWER_TEXT);
    await composer.press('Enter');
    await o.locator('.message-operator .message-text', { hasText: XSS_ANSWER_TEXT }).waitFor();

    // ----- Olga invites Pavel to consult; his message stays private
    await o.getByRole('button', { name: 'Invite' }).click();
    await o.getByRole('button', { name: 'Consult with Pavel Two' }).click();
    await p.getByRole('tab', { name: /Mine/ }).click();
    await row(p, XSS_NAME).click();
    await p.getByText('You are consulting').waitFor();
    await p.locator('#composer-text').fill(PRIVATE_TEXT);
    await p.locator('#composer-text').press('Enter');
    await o.locator('.message-private', { hasText: PRIVATE_TEXT }).waitFor();

    // ----- the network drops; messages sent meanwhile arrive once when it is back
    await olga.context.setOffline(true);
    await o
      .getByRole('status')
      .filter({ hasText: /Offline/ })
      .waitFor();
    await client.send({ externalId: 'c-2', user: { id: 'client-1' }, text: 'Are you there? (1)' });
    await client.send({ externalId: 'c-3', user: { id: 'client-1' }, text: 'Hello? (2)' });
    await olga.context.setOffline(false);
    await visible(o, 'Hello? (2)');
    await o.waitForTimeout(500);
    expect(await o.locator('.message-text', { hasText: 'Are you there? (1)' }).count()).toBe(1);
    expect(await o.locator('.message-text', { hasText: 'Hello? (2)' }).count()).toBe(1);

    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    await o.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-workspace.png') });

    // ----- Olga transfers to Pavel; Pavel closes
    await o.getByRole('button', { name: 'Transfer', exact: true }).click();
    await o.getByRole('button', { name: 'Transfer to Pavel Two' }).click();
    await p.getByText('Operator: Pavel Two').waitFor();
    await p.getByRole('button', { name: 'Close dialog' }).click();
    await p.getByTestId('dialog-status').filter({ hasText: 'Closed' }).waitFor();
    await p.locator('.system-event', { hasText: 'Pavel Two closed the dialog' }).waitFor();
    await o.getByRole('tab', { name: /All/ }).click();
    await row(o, XSS_NAME).filter({ hasText: 'Closed' }).waitFor();

    // ----- the whole history is searched: a word of an earlier message, by its stem, marked as text
    await o.getByLabel('Search by client or text').fill('refunded');
    const hit = row(o, XSS_NAME).locator('.search-hit');
    await hit.locator('mark', { hasText: 'Refunds' }).waitFor();
    expect(await hit.textContent()).toContain('onerror=alert(4)>');
    await o.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-search-hit.png') });
    await o.getByLabel('Search by client or text').fill('');
    await row(o, XSS_NAME).locator('.search-hit').waitFor({ state: 'detached' });

    // ----- the client got the public answers, never the private consultation
    await until(
      () => webhook.bodies.some((body) => body.includes(PUBLIC_TEXT)),
      'the public answer at the webhook',
    );
    expect(webhook.bodies.some((body) => body.includes(PRIVATE_TEXT))).toBe(false);

    // ----- nothing a client or an admin typed ran as code
    for (const session of sessions) {
      expect(session.dialogs).toEqual([]);
      expect(session.errors).toEqual([]);
      expect(
        await session.page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations),
      ).toEqual([]);
    }
    expect(await o.locator('img[src="x"], img[src="y"]').count()).toBe(0);
    await visible(o, XSS_NAME);
  }, 120_000);

  it('an operator sees no admin screens, and the API refuses them anyway', async () => {
    const olga = sessions.find((s) => s !== sessions[0]) ?? (await open(operators[0]!.email, TEST_PASSWORD));
    const { page } = olga;
    await page.goto(`${server.url}/`);
    await page.getByRole('link', { name: /^Dialogs/ }).waitFor();
    expect(await page.getByRole('link', { name: 'Administration' }).count()).toBe(0);
    await page.goto(`${server.url}/admin/lines`);
    await page.getByText('You do not have permission to open this page.').waitFor();
    expect(await page.getByRole('heading', { name: 'Lines' }).count()).toBe(0);
    const refused = await page.evaluate(async () => {
      const channels = await fetch('/api/v1/channels');
      return { channels: channels.status, code: (await channels.json()).code };
    });
    expect(refused.channels).toBe(403);
    expect(refused.code).toBe('forbidden');
  }, 60_000);

  it('a user changes their own password from the top bar', async () => {
    const pavel = operators[1]!;
    const { page } = await open(pavel.email, TEST_PASSWORD);
    await page.getByRole('button', { name: pavel.user.name }).click();
    await page.getByLabel('Current password').fill(TEST_PASSWORD);
    // Opened from the dark top bar, the dialog's buttons must still be readable.
    expect(await unreadableDialogButtons(page)).toEqual([]);
    await page.getByLabel('New password').fill('a much longer secret');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password is changed.').waitFor();
    expect(await unreadableDialogButtons(page)).toEqual([]);
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-password-changed.png') });
    const relogin = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: pavel.email, password: 'a much longer secret' }),
    });
    expect(relogin.status).toBe(200);
  }, 60_000);
  it('consent shows in the timeline, the client card exports the client’s data, and the audit log shows it', async () => {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const line = await admin.lines.create({
      name: 'E2E Privacy',
      settings: { agreement: { required: true, text: 'I agree to the processing of my data.' } },
    });
    await admin.lines.update(line.id, {
      settings: { automaticActions: { welcome: { enabled: true, text: 'Hello from the privacy line' } } },
    });
    const created = await admin.channels.create({
      kind: 'api',
      name: 'Privacy shop',
      lineId: line.id,
      settings: { webhookUrl: webhook.url },
    });
    const sender = new ApiChannelSender(server.url, created.secrets.inboundToken!);
    await sender.send({
      externalId: 'privacy-1',
      user: { id: 'privacy-client', name: 'Vera Private' },
      text: 'Please send me my data',
      consent: 'given',
    });

    const { page } = await open(server.admin.email, server.admin.password);
    await page.getByRole('tab', { name: /All/ }).click();
    await row(page, 'Vera Private').click();
    const consent = page.locator('.consent-event[data-consent="given"]');
    await consent.waitFor();
    expect(await consent.textContent()).toContain('agreement version 1');
    const exportLink = page.getByRole('link', { name: 'Export client’s data' });
    await exportLink.waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-consent-export.png') });
    const [download] = await Promise.all([page.waitForEvent('download'), exportLink.click()]);
    expect(download.suggestedFilename()).toMatch(/^client-[0-9a-f-]{36}\.zip$/);
    const saved = await download.path();
    // A zip starts with "PK\x03\x04"; its content is checked in client-rights.test.ts.
    expect(readFileSync(saved).subarray(0, 4).toString('latin1')).toBe('PK\x03\x04');

    await page.getByRole('link', { name: 'Administration' }).click();
    await page.getByRole('link', { name: 'Audit log', exact: true }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.locator('.audit-table tr', { hasText: 'Client’s data exported' }).first().waitFor();
    await page.locator('.audit-table tr', { hasText: 'Line created' }).first().waitFor();
    // A settings change names the keys that changed, never their values.
    const changed = page.locator('.audit-table tr', { hasText: 'Line changed' }).first();
    expect(await changed.textContent()).toContain('settings.automaticActions.welcome.text');
    expect(await page.locator('.audit-table').textContent()).not.toContain('Hello from the privacy line');
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-audit-log.png') });
    await page.getByLabel('Action').selectOption('client.exported');
    await until(
      async () =>
        (await page.locator('.audit-table tbody tr').count()) === 1 &&
        (await page.locator('.audit-table tbody tr', { hasText: 'Client’s data exported' }).count()) === 1,
      'the audit log filtered to exports',
    );

    const ru = await open(server.admin.email, server.admin.password, 'ru-RU');
    await ru.page.getByRole('tab', { name: /Все/ }).click();
    await row(ru.page, 'Vera Private').click();
    await ru.page.locator('.consent-event', { hasText: 'Клиент дал согласие' }).waitFor();
    await ru.page.getByRole('link', { name: 'Выгрузить данные клиента' }).waitFor();
    await ru.page.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-ru-consent-export.png') });
    await ru.page.getByRole('link', { name: 'Администрирование' }).click();
    await ru.page.getByRole('link', { name: 'Журнал аудита', exact: true }).click();
    await ru.page.locator('.audit-table tr', { hasText: 'Данные клиента выгружены' }).first().waitFor();
    await ru.page.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-ru-audit-log.png') });
  }, 90_000);

  it('an operator edits and deletes their own message; the timeline says so, in English and Russian', async () => {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const line = await admin.lines.create({ name: 'E2E Edits' });
    const created = await admin.channels.create({
      kind: 'api',
      name: 'Edits shop',
      lineId: line.id,
      settings: { webhookUrl: webhook.url },
    });
    const sender = new ApiChannelSender(server.url, created.secrets.inboundToken!);
    const stored = await sender.send({
      externalId: 'edits-1',
      user: { id: 'edits-client', name: 'Egor Edits' },
      text: 'How much is delivery?',
    });
    const dialogId = stored.dialogId!;
    await admin.dialogs.send(dialogId, { text: 'Delivery costs 5 EUR' });
    await admin.dialogs.send(dialogId, { text: 'Sent to the wrong client' });
    await admin.dialogs.send(dialogId, { text: 'Anything else?' });

    const { page } = await open(server.admin.email, server.admin.password);
    await page.getByRole('tab', { name: /All/ }).click();
    await row(page, 'Egor Edits').click();
    const bubble = (text: string) => page.locator('.message', { hasText: text });
    await bubble('Delivery costs 5 EUR').waitFor();
    // The client's message has no tools; my own have.
    expect(await bubble('How much is delivery?').getByRole('button', { name: 'Edit' }).count()).toBe(0);
    await bubble('Delivery costs 5 EUR').getByRole('button', { name: 'Edit' }).click();
    const editor = page.getByLabel('New text of the message');
    await editor.fill('Delivery costs 7 EUR');
    await page.locator('.message-edit').getByRole('button', { name: 'Save' }).click();
    await bubble('Delivery costs 7 EUR').locator('.message-edited', { hasText: 'edited' }).waitFor();
    await bubble('Sent to the wrong client').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Delete this message?').waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-message-delete-confirm.png') });
    await page.locator('.message-tools[role="alert"]').getByRole('button', { name: 'Delete' }).click();
    await page.locator('.message-deleted', { hasText: 'Message deleted' }).waitFor();
    expect(await page.getByText('Sent to the wrong client').count()).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-message-edited-deleted.png') });
    // The server has the same (not only this page).
    const messages = await admin.dialogs.messages(dialogId);
    expect(messages.find((m) => m.text === 'Delivery costs 7 EUR')?.editedAt).not.toBeNull();
    expect(messages.filter((m) => m.deletedAt !== null)).toHaveLength(1);

    const ru = await open(server.admin.email, server.admin.password, 'ru-RU');
    await ru.page.getByRole('tab', { name: /Все/ }).click();
    await row(ru.page, 'Egor Edits').click();
    await ru.page.locator('.message-deleted', { hasText: 'Сообщение удалено' }).waitFor();
    await ru.page.locator('.message-edited', { hasText: 'изменено' }).waitFor();
    await ru.page
      .locator('.message', { hasText: 'Anything else?' })
      .getByRole('button', { name: 'Изменить' })
      .waitFor();
    await ru.page.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-ru-message-edited-deleted.png') });
  }, 90_000);

  it('the main screens in Russian, as a Russian-speaking admin sees them', async () => {
    const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS_DIR, name) });
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const { page } = await open(server.admin.email, server.admin.password, 'ru-RU', (login) =>
      shot(login, 'web-ru-login.png'),
    );
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('ru');

    await page.getByRole('tab', { name: /Все/ }).click();
    await row(page, XSS_NAME).click();
    await page.getByTestId('dialog-status').waitFor();
    await shot(page, 'web-ru-workspace.png');

    await page.getByRole('link', { name: 'Администрирование' }).click();
    await page.getByRole('link', { name: 'E2E Support' }).waitFor();
    await shot(page, 'web-ru-lines.png');
    await page.getByRole('link', { name: 'E2E Support' }).click();
    await page.getByRole('heading', { name: 'E2E Support' }).waitFor();
    await shot(page, 'web-ru-line-editor.png');
    for (const [link, file] of [
      ['Каналы', 'web-ru-channels.png'],
      ['Пользователи', 'web-ru-users.png'],
    ] as const) {
      await page.getByRole('link', { name: link, exact: true }).click();
      await page.getByRole('heading', { name: link }).first().waitFor();
      await shot(page, file);
    }

    await page.locator('.me').click();
    await page.getByRole('heading', { name: 'Смена пароля' }).waitFor();
    expect(await unreadableDialogButtons(page)).toEqual([]);
    await shot(page, 'web-ru-password.png');
  }, 60_000);

  it('an operator sets the name and photo clients see them under; an admin changes it in Users (Q-8)', async () => {
    const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS_DIR, name) });
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const olga = operators[0]!;
    const clientNameOf = async () =>
      (await admin.users.list()).find((u) => u.id === olga.user.id)?.clientName;

    const { page } = await open(olga.email, TEST_PASSWORD);
    await page.getByRole('button', { name: olga.user.name }).click();
    await page.getByRole('heading', { name: 'My profile' }).waitFor();
    await page.getByLabel('Name for clients').fill('Olga from Support');
    await page.getByLabel('Photo URL for clients').fill('javascript:alert(1)');
    await page.getByRole('button', { name: 'Save' }).click();
    // Refused by the server, said next to the photo field; nothing saved.
    await page.locator('.field-invalid', { has: page.getByLabel('Photo URL for clients') }).waitFor();
    expect(await clientNameOf()).toBeNull();
    await page.getByLabel('Photo URL for clients').fill('https://cdn.example.test/olga.png');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    expect(await clientNameOf()).toBe('Olga from Support');
    await page.getByText('Clients see: Olga from Support').waitFor();
    // A photo from the computer: uploaded as a file, its link becomes the photo, the preview shows it.
    await page.getByLabel('Upload a photo').setInputFiles({
      name: 'olga.png',
      mimeType: 'image/png',
      buffer: ORANGE_PNG,
    });
    await waitFor(
      async () => (await page.getByLabel('Photo URL for clients').inputValue()).includes('/api/v1/files/'),
      'the uploaded photo’s link',
    );
    const preview = page.locator('img.client-face');
    await waitFor(
      () => preview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 16),
      'the preview to load',
    );
    await page.getByRole('button', { name: 'Save' }).click();
    await waitFor(
      async () =>
        (await admin.users.list())
          .find((u) => u.id === olga.user.id)
          ?.clientAvatarUrl?.includes('/api/v1/files/') === true,
      'the uploaded photo to be saved',
    );
    expect(await unreadableDialogButtons(page)).toEqual([]);
    await shot(page, 'web-profile-client-name.png');

    const ru = await open(olga.email, TEST_PASSWORD, 'ru-RU');
    await ru.page.getByRole('button', { name: olga.user.name }).click();
    await ru.page.getByRole('heading', { name: 'Мой профиль' }).waitFor();
    expect(await ru.page.getByLabel('Имя для клиентов').inputValue()).toBe('Olga from Support');
    expect(await unreadableDialogButtons(ru.page)).toEqual([]);
    await shot(ru.page, 'web-ru-profile-client-name.png');

    // The administrator, in Russian: Administration → Users → Edit.
    const boss = await open(server.admin.email, server.admin.password, 'ru-RU');
    await boss.page.getByRole('link', { name: 'Администрирование' }).click();
    await boss.page.getByRole('link', { name: 'Пользователи', exact: true }).click();
    await boss.page.locator('tr', { hasText: olga.email }).getByRole('button', { name: 'Изменить' }).click();
    const field = boss.page.getByLabel('Имя для клиентов');
    expect(await field.inputValue()).toBe('Olga from Support');
    expect(await boss.page.getByLabel('Ссылка на фото для клиентов').inputValue()).toContain(
      '/api/v1/files/',
    );
    await field.fill('Ольга');
    expect(await unreadableDialogButtons(boss.page)).toEqual([]);
    await shot(boss.page, 'web-ru-user-client-name.png');
    await boss.page.getByRole('button', { name: 'Сохранить' }).click();
    await waitFor(async () => (await clientNameOf()) === 'Ольга', 'the admin’s change to be saved');
  }, 90_000);
});
