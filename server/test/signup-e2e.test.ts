import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer, uniqueEmail } from './harness';
import { SmtpCapture } from './peers/email/smtp-capture';
import {
  chromiumInstalled,
  ensureWebBuilt,
  type Locale,
  launchChromium,
  newPage,
  shooter,
  submitSignInForm,
} from './web-build';

// Self-service sign-up in the web app (issue 21), in a real browser, in English and in Russian:
// the sign-in page offers it, the form says what is wrong beside the field in the user's language,
// the confirmation e-mail (caught by a local SMTP server) carries the link, and following it in
// the browser lands on the sign-in page saying the account exists; the new administrator signs in.
// Screenshots go to test-artifacts/.

const WORDS = {
  'en-US': {
    create: 'Create an account',
    company: 'Company name',
    name: 'Your name',
    password: 'Password',
    submit: 'Create account',
    passwordTooShort: 'At least 10 characters.',
    sent: 'Check your e-mail',
    created: 'Your account is created',
    used: 'This account already exists',
    subject: 'Confirm your Openlines account',
  },
  'ru-RU': {
    create: 'Зарегистрироваться',
    company: 'Название компании',
    name: 'Ваше имя',
    password: 'Пароль',
    submit: 'Зарегистрироваться',
    passwordTooShort: 'Не короче 10 символов.',
    sent: 'Проверьте почту',
    created: 'Учётная запись создана',
    used: 'Эта учётная запись уже создана',
    subject: 'Подтвердите учётную запись Openlines',
  },
} as const;

describe.skipIf(!chromiumInstalled)('signing up in the web app', () => {
  const smtp = new SmtpCapture();
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    ensureWebBuilt();
    await smtp.start();
    server = await createTestServer({
      env: {
        SIGNUP_ENABLED: 'true',
        SMTP_URL: `smtp://${encodeURIComponent(smtp.user)}:${smtp.password}@${smtp.host}:${smtp.port}`,
        SMTP_FROM: 'Openlines <no-reply@example.test>',
      },
    });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await smtp.stop();
  });

  const openPage = (locale: Locale): Promise<Page> => newPage(browser, locale);

  /** The confirmation link of the last mail to the address, pointed at the test server. */
  async function linkMailedTo(email: string): Promise<{ link: string; subject: string }> {
    await expect.poll(() => smtp.received.some((mail) => mail.envelope.to.includes(email))).toBe(true);
    const mail = smtp.received.filter((each) => each.envelope.to.includes(email)).at(-1)!;
    const link = (mail.parsed.text ?? '').match(/https?:\/\/\S+\/api\/v1\/signup\/verify\?token=\S+/)?.[0];
    expect(link).toBeDefined();
    return { link: link!.replace(/^https?:\/\/[^/]+/, server.url), subject: mail.parsed.subject ?? '' };
  }

  for (const locale of ['en-US', 'ru-RU'] as const) {
    it(`a visitor creates an account, confirms it from the e-mail and signs in (${locale})`, async () => {
      const words = WORDS[locale];
      const lang = locale.slice(0, 2);
      const page = await openPage(locale);
      const shot = shooter(page, 'web', locale);
      const email = uniqueEmail(`founder-${lang}`);
      const password = `a long password ${lang}`;

      await page.goto(server.url);
      await page.getByRole('link', { name: words.create }).click();
      await page.getByLabel(words.company).fill(`Romashka ${lang}`);
      await page.getByLabel(words.name).fill('Olga');
      await page.getByLabel('E-mail').fill(email);
      await page.getByLabel(words.password).fill('short');
      await page.getByRole('button', { name: words.submit }).click();
      // The server's refusal is said once, beside the field, in the page's language.
      const passwordField = page.locator('.field', { has: page.getByLabel(words.password) });
      await passwordField.locator('.field-errors', { hasText: words.passwordTooShort }).waitFor();
      await expect.poll(() => page.getByText(words.passwordTooShort, { exact: true }).count()).toBe(1);
      expect(await page.getByLabel(words.password).getAttribute('aria-invalid')).toBe('true');
      await shot('signup-errors');

      await page.getByLabel(words.password).fill(password);
      await page.getByRole('button', { name: words.submit }).click();
      await page.getByRole('heading', { name: words.sent }).waitFor();
      await page.getByText(email).waitFor();
      await shot('signup-sent');

      const { link, subject } = await linkMailedTo(email);
      expect(subject).toBe(words.subject);
      await page.goto(link);
      await page.getByRole('status').filter({ hasText: words.created }).waitFor();
      expect(new URL(page.url()).search).toBe('?signedUp=1');
      await shot('signup-confirmed');

      await submitSignInForm(page, locale, { email, password });
      expect(new URL(page.url()).search).toBe('');
      const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
      expect(me.account.name).toBe(`Romashka ${lang}`);
      expect(me.user.name).toBe('Olga');

      // The same link again, in a browser that is signed out: the page says the account exists.
      const later = await openPage(locale);
      await later.goto(link);
      await later.getByRole('alert').filter({ hasText: words.used }).waitFor();
      await later.context().close();
      await page.context().close();
    });
  }

  it('offers no sign-up where it is off', async () => {
    const plain = await createTestServer();
    try {
      const page = await openPage('en-US');
      await page.goto(plain.url);
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      // The options call has answered once the page has settled on the sign-in form.
      await page.waitForLoadState('networkidle');
      expect(await page.getByRole('link', { name: 'Create an account' }).count()).toBe(0);
      await page.context().close();
    } finally {
      await plain.stop();
    }
  });
});
