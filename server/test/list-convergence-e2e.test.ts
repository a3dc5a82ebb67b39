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
import { chromiumInstalled, ensureWebBuilt, launchChromium, signedInPage } from './web-build';

// Issue 19: realtime lists converge. An operator (B) keeps the web app open on each of its tabs
// (Queue, Mine, All) while a supervisor (A), in their own browser, takes, transfers, takes back,
// closes, marks spam, deletes, follows up and a client writes; after every step each of B's live tabs shows what a fresh load of the
// app shows — the same rows, statuses, holders, counters and "Show more" — from events alone.
// Nothing here sleeps: each comparison polls until the lists agree, or fails showing the difference.

type View = 'queue' | 'mine' | 'all';
const VIEWS: View[] = ['queue', 'mine', 'all'];

/** What one tab of the list shows, normalised: its rows in order, the tab counters, "Show more". */
interface ListShown {
  rows: { id: string; client: string; status: string; chips: string[]; spam: boolean }[];
  counts: { queue: string; mine: string };
  more: boolean;
}

async function shownList(page: Page): Promise<ListShown> {
  return page.evaluate(() => {
    const count = (view: string) => document.querySelector(`#view-${view} .count`)?.textContent ?? '';
    const rows = [...document.querySelectorAll<HTMLElement>('.dialog-row')].map((row) => ({
      id: row.dataset.dialogId ?? '',
      client: row.querySelector('.client-name')?.textContent ?? '',
      status: row.querySelector('.status')?.className ?? '',
      chips: [...row.querySelectorAll('.row-meta .chip:not(.chip-warn):not(.chip-tag)')].map(
        (chip) => chip.textContent ?? '',
      ),
      spam: row.querySelector('.chip-warn') !== null,
    }));
    const more = [...document.querySelectorAll('.dialog-list-panel button')].some(
      (button) => button.textContent === 'Show more',
    );
    return { rows, counts: { queue: count('queue'), mine: count('mine') }, more };
  });
}

/** Nothing is being read: the list is what the store holds. */
async function settled(page: Page): Promise<boolean> {
  return page.evaluate(() => !document.querySelector('.dialog-list-panel [aria-live="polite"]'));
}

describe.skipIf(!chromiumInstalled)('realtime lists converge to a fresh load', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: OpenlinesClient;
  let adminId: string;
  let operator: SignedInUser;
  let sender: ApiChannelSender;
  let spareSender: ApiChannelSender;
  let spareChannelId: string;
  let n = 0;
  const live = {} as Record<View, Page>;
  /** The supervisor's app, where the actions are taken. */
  let supervisor: Page;

  const clientWrites = async (name: string, text = 'Hello') =>
    (await sender.send({ externalId: `c-${++n}`, user: { id: `u-${name}`, name }, text })).dialogId;

  beforeAll(async () => {
    ensureWebBuilt();
    server = await createTestServer();
    admin = await signIn(server);
    adminId = (await admin.auth.me()).user.id;
    operator = await createSignedInUser(server, admin, 'operator');
    // Offered to everyone on the queue at once: sessions stay in the queue until someone takes them.
    const line = await admin.lines.create({
      name: 'Convergence',
      settings: {
        automaticActions: { welcome: { enabled: false } },
        queue: { distribution: 'all', members: [{ type: 'user', id: operator.user.id }] },
      },
    });
    ({ sender } = await createApiChannel(server, admin, line.id));
    ({ sender: spareSender, channelId: spareChannelId } = await createApiChannel(
      server,
      admin,
      line.id,
      'Spare backend',
    ));
    browser = await launchChromium();
    // The operator signs in once; their live tabs below share the session (the page's context).
    const first = await signedInPage(browser, server.url, 'en-US', operator);
    const context = first.context();
    await first.close();
    supervisor = await signedInPage(browser, server.url, 'en-US', server.admin);
    // One page per tab, each left on its tab: switching tabs would re-read the list and hide what
    // the events failed to bring.
    for (const view of VIEWS) {
      const page = await context.newPage();
      await page.goto(server.url);
      await page.locator(`#view-${view}`).click();
      await page.locator(`#view-${view}[aria-selected="true"]`).waitFor();
      live[view] = page;
    }
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** A fresh load of the app in a user's session (B's unless told): each tab as it shows right after loading. */
  async function freshLoad(of: Page = live.all, views: View[] = VIEWS): Promise<Record<View, ListShown>> {
    const page = await of.context().newPage();
    try {
      await page.goto(server.url);
      const shown = {} as Record<View, ListShown>;
      for (const view of views) {
        await page.locator(`#view-${view}`).click();
        await page.locator(`#view-${view}[aria-selected="true"]`).waitFor();
        let previous = '';
        // Loaded when nothing is being read and two reads in a row agree.
        await poll(async () => {
          if (!(await settled(page))) return false;
          const now = JSON.stringify(await shownList(page));
          const same = now === previous;
          previous = now;
          return same;
        }, `a fresh load of the ${view} tab`);
        shown[view] = JSON.parse(previous) as ListShown;
      }
      return shown;
    } finally {
      await page.close();
    }
  }

  async function poll(check: () => Promise<boolean>, what: string, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await live.all.waitForTimeout(50);
    }
  }

  /**
   * Every live tab of B, and the supervisor's own list (its Mine tab, beside the dialog they act
   * on), ends up showing what a fresh load shows; the failure shows the difference.
   */
  async function converges(step: string): Promise<Record<View, ListShown>> {
    const truth = await freshLoad();
    const theirs = await freshLoad(supervisor, ['mine']);
    const checks: [string, Page, ListShown][] = [
      ...VIEWS.map((view): [string, Page, ListShown] => [view, live[view], truth[view]]),
      ['supervisor mine', supervisor, theirs.mine],
    ];
    for (const [view, page, want] of checks) {
      try {
        await poll(
          async () => JSON.stringify(await shownList(page)) === JSON.stringify(want),
          `${view} after ${step}`,
        );
      } catch {
        expect({ step, view, shown: await shownList(page) }).toEqual({ step, view, shown: want });
      }
    }
    return truth;
  }

  const ids = (shown: ListShown) => shown.rows.map((row) => row.id);

  /** Opens a dialog in the supervisor's app (moving within the app, as a click on a row does). */
  async function supervisorOpens(dialogId: string) {
    await supervisor.evaluate((path) => {
      window.history.pushState(null, '', path);
      window.dispatchEvent(new PopStateEvent('popstate'));
    }, `/dialogs/${dialogId}`);
    await supervisor.locator('#dialog-title').waitFor();
  }
  const toolbar = () => supervisor.getByRole('toolbar');
  const shownStatus = (status: string) =>
    supervisor.locator(`[data-testid="dialog-status"].status-${status}`).waitFor();

  it('after take, transfer, close, spam, delete, a new message and a follow-up', async () => {
    const first = await clientWrites('Ann Converge');
    const second = await clientWrites('Bob Converge');
    let truth = await converges('two clients write');
    expect(ids(truth.queue).sort()).toEqual([first, second].sort());

    await supervisorOpens(first);
    await toolbar().getByRole('button', { name: 'Take', exact: true }).click();
    await shownStatus('assigned');
    truth = await converges('the supervisor takes a queued dialog');
    // Not the operator's to see any more (never held it, no longer in its queue).
    expect(ids(truth.all)).toEqual([second]);

    await toolbar().getByRole('button', { name: 'Transfer', exact: true }).click();
    const transfer = supervisor.getByRole('dialog');
    await transfer.getByRole('button', { name: `Transfer to ${operator.user.name}` }).click();
    await transfer.waitFor({ state: 'detached' });
    truth = await converges('a transfer to the operator');
    expect(ids(truth.mine)).toEqual([first]);

    // Back to the supervisor: they take it over from the operator.
    await toolbar().getByRole('button', { name: 'Intercept' }).click();
    await supervisor.locator('.system-event[data-reason="intercepted"]').waitFor();
    truth = await converges('the supervisor takes the dialog back');
    // Still theirs to read by their own history, with its new holder.
    expect(ids(truth.mine)).toEqual([]);
    expect(ids(truth.all)).toContain(first);
    expect((await admin.dialogs.get(first)).session?.operatorId).toBe(adminId);

    await toolbar().getByRole('button', { name: 'Close dialog' }).click();
    await shownStatus('closed');
    truth = await converges('the supervisor closes it');
    expect(truth.all.rows.find((row) => row.id === first)?.status).toBe('status status-closed');

    await operator.client.dialogs.take(second);
    await supervisorOpens(second);
    await toolbar().getByRole('button', { name: 'Spam' }).click();
    await supervisor.getByRole('dialog').getByRole('button', { name: 'Spam' }).click();
    await shownStatus('spam');
    truth = await converges('the operator takes a dialog and the supervisor marks it spam');
    expect(truth.all.rows.find((row) => row.id === second)?.spam).toBe(true);

    await supervisorOpens(first);
    await supervisor.getByRole('button', { name: 'Delete client with dialogs' }).click();
    const erase = supervisor.getByRole('dialog');
    await erase.getByRole('textbox').fill('Ann Converge');
    await erase.getByRole('button', { name: 'Erase for good' }).click();
    await erase.waitFor({ state: 'detached' });
    truth = await converges('the client is erased with their dialogs');
    expect(ids(truth.all)).not.toContain(first);

    const third = await clientWrites('Cleo Converge');
    truth = await converges('a new client writes');
    expect(ids(truth.queue)).toEqual([third]);

    await operator.client.dialogs.take(third);
    await operator.client.dialogs.close(third, { confirmed: true });
    await supervisorOpens(third);
    await toolbar().getByRole('button', { name: 'Follow up' }).click();
    await shownStatus('assigned');
    truth = await converges('the supervisor follows up a dialog the operator closed');
    expect(truth.all.rows.find((row) => row.id === third)?.status).toBe('status status-assigned');
  }, 240_000);

  it('opening a dialog that went out of sight says so, and the list no longer shows it', async () => {
    const gone = await clientWrites('Dan Converge');
    await converges('a client writes');
    await admin.dialogs.take(gone);
    // Moved within the app (no reload), as a click on a row or a notification does.
    const page = live.all;
    const go = (to: string) =>
      page.evaluate((path) => {
        window.history.pushState(null, '', path);
        window.dispatchEvent(new PopStateEvent('popstate'));
      }, to);
    await go(`/dialogs/${gone}`);
    await page.getByText('Not found — it may have been deleted').waitFor();
    expect(await page.locator(`.dialog-row[data-dialog-id="${gone}"]`).count()).toBe(0);
    await go('/');
    await converges('opening a dialog taken by someone else');
  }, 120_000);

  it('a refusal shown for an action goes once the dialog has moved on', async () => {
    const dialogId = (
      await spareSender.send({ externalId: `c-${++n}`, user: { id: 'u-eve' }, text: 'Hello' })
    ).dialogId;
    await operator.client.dialogs.take(dialogId);
    await operator.client.dialogs.close(dialogId, { confirmed: true });
    await admin.channels.update(spareChannelId, { status: 'disconnected' });
    const page = live.all;
    await page.evaluate((path) => {
      window.history.pushState(null, '', path);
      window.dispatchEvent(new PopStateEvent('popstate'));
    }, `/dialogs/${dialogId}`);
    await page.getByRole('toolbar').getByRole('button', { name: 'Follow up' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'disconnected or on another line' });
    await refusal.waitFor();
    // The channel is back and a colleague wrote first: the refusal no longer applies.
    await admin.channels.update(spareChannelId, { status: 'connected' });
    await admin.dialogs.followUp(dialogId);
    await page.getByTestId('dialog-status').filter({ hasText: 'Assigned' }).waitFor();
    await refusal.waitFor({ state: 'detached' });
  }, 120_000);
});
