import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { TestContext } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Builds the web app when web/dist is missing or older than its sources (a fresh clone, an edited
 * component); a no-op taking milliseconds otherwise. Parallel test files wait for one build.
 */
export function ensureWebBuilt(): void {
  const result = spawnSync(process.execPath, ['scripts/build-if-stale.mjs', 'web'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`building the web app failed:\n${result.stdout}\n${result.stderr}`);
  }
}

/** Debian's Chromium (apt-get install chromium); never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const chromiumInstalled = existsSync(CHROMIUM);

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const ARTIFACTS_DIR = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/** The two languages the browser tests run the web app in. */
export type Locale = 'en-US' | 'ru-RU';

/** The sign-in form's words, and the link the app shows once signed in, per language. */
export const SIGN_IN_WORDS = {
  'en-US': { password: 'Password', signIn: 'Sign in', dialogs: /^Dialogs/ },
  'ru-RU': { password: 'Пароль', signIn: 'Войти', dialogs: /^Диалоги/ },
} as const;

/** Debian's Chromium, headless, with the arguments above. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export interface NewPageOptions {
  /** 1280×800 unless told. */
  viewport?: { width: number; height: number };
  /** The context's default timeout for actions and waits, in ms; 30 s unless told. */
  timeout?: number;
  acceptDownloads?: boolean;
  /** Collects the page's uncaught errors (listened to before the page loads anything). */
  errors?: string[];
  /** Keeps the page in this list (for screenshotsOnFailure). */
  pages?: Page[];
}

/** A page in a fresh browser context (its own cookies) in the language given. */
export async function newPage(browser: Browser, locale: Locale, options: NewPageOptions = {}): Promise<Page> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    locale,
    ...(options.acceptDownloads === undefined ? {} : { acceptDownloads: options.acceptDownloads }),
  });
  context.setDefaultTimeout(options.timeout ?? 30_000);
  const page = await context.newPage();
  const errors = options.errors;
  if (errors) page.on('pageerror', (error) => errors.push(error.message));
  options.pages?.push(page);
  return page;
}

/** Fills and sends the sign-in form the page shows, and waits for the app's Dialogs link. */
export async function submitSignInForm(
  page: Page,
  locale: Locale,
  who: { email: string; password: string },
): Promise<void> {
  const words = SIGN_IN_WORDS[locale];
  await page.getByLabel('E-mail').fill(who.email);
  await page.getByLabel(words.password).fill(who.password);
  await page.getByRole('button', { name: words.signIn }).click();
  await page.getByRole('link', { name: words.dialogs }).waitFor();
}

/** Opens the web app at url and signs in through its form (see submitSignInForm). */
export async function signInThroughForm(
  page: Page,
  url: string,
  locale: Locale,
  who: { email: string; password: string },
): Promise<void> {
  await page.goto(url);
  await submitSignInForm(page, locale, who);
}

/** A new page (see newPage) signed in through the form of the web app at url. */
export async function signedInPage(
  browser: Browser,
  url: string,
  locale: Locale,
  who: { email: string; password: string },
  options: NewPageOptions = {},
): Promise<Page> {
  const page = await newPage(browser, locale, options);
  await signInThroughForm(page, url, locale, who);
  return page;
}

/** Saves a screenshot of the page as test-artifacts/<file>. */
export async function screenshotTo(
  page: Page,
  file: string,
  options: { fullPage?: boolean } = {},
): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, file), ...options });
}

/** Screenshots of one page named `<prefix>-<en|ru>-<name>.png`. */
export function shooter(page: Page, prefix: string, locale: Locale): (name: string) => Promise<void> {
  return (name) => screenshotTo(page, `${prefix}-${locale.slice(0, 2)}-${name}.png`);
}

/**
 * An afterEach hook: when the test failed, a screenshot of each page opened so far, as
 * `<prefix>-failure-<n>.png`; a page already closed is passed over.
 */
export function screenshotsOnFailure(
  pages: Page[],
  prefix: string,
  options: { fullPage?: boolean } = {},
): (context: TestContext) => Promise<void> {
  return async (context) => {
    if (context.task.result?.state !== 'fail') return;
    for (const [index, page] of pages.entries())
      await screenshotTo(page, `${prefix}-failure-${index}.png`, options).catch(() => undefined);
  };
}
