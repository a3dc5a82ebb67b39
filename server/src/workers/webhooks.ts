import type { Dispatcher } from 'undici';
import type { AppContext } from '../context';
import { parseRetryAfter, type RandomSource, retryDelayMs } from '../core/backoff';
import { isDelivered, WEBHOOK_BACKOFF, WEBHOOK_PAUSE_AFTER_FAILURES } from '../core/webhooks';
import { SignedPostNetworkError, signedPost } from '../delivery/signed-post';
import { guardedDispatcher, literalTargetProblem } from '../delivery/webhook-target';
import { dispatcherOf } from '../services/event-dispatch';
import { runInTransaction, type Tx } from '../services/transaction';
import { feedAccount, webhookFeedsDue } from '../services/webhook-feed';
import { pruneWebhookLog, webhookSecretOf } from '../services/webhooks';
import type { Database } from '../store/database';
import type { WebhookDeliveryRow, WebhookSubscriptionRow } from '../store/schema';
import { RoundLoop } from './round-loop';

/**
 * Event webhooks out (SPEC PL-1; docs/webhooks.md). Each round, in every server process:
 *
 *   1. feed: the accounts that have subscriptions and events not fed yet turn them into rows of
 *      the webhook outbox (services/webhook-feed.ts), after the transactions that wrote the events
 *      committed;
 *   2. claim: one statement takes due deliveries `FOR UPDATE SKIP LOCKED` and leases them — only
 *      the oldest waiting delivery of each subscription and dialog, so a dialog's events arrive in
 *      order and a failing one holds back the ones after it (not other dialogs');
 *   3. send, outside any transaction: signed (delivery/signature.ts) and only to public addresses
 *      unless the server allows private ones (delivery/webhook-target.ts);
 *   4. record: delivered, or a retry after full-jitter backoff or the receiver's Retry-After when
 *      longer. Nothing is dropped: after WEBHOOK_PAUSE_AFTER_FAILURES failed attempts in a row the
 *      subscription is paused (administrators get 'webhook.changed' with `paused`), its deliveries
 *      wait, and resuming it sends them from where it stopped.
 *
 * Delivery is at least once; receivers deduplicate by the event id (X-Openlines-Delivery names the
 * delivery, the body's `id` the event).
 */
export interface WebhookWorkerOptions {
  batchSize?: number;
  leaseMs?: number;
  sendTimeoutMs?: number;
  pollMs?: number;
  pauseAfterFailures?: number;
  random?: RandomSource;
}

export interface WebhookRunReport {
  /** Log events turned into deliveries. */
  fed: number;
  queued: number;
  claimed: number;
  delivered: number;
  retried: number;
  /** Subscriptions paused in this round. */
  paused: number;
}

export const WEBHOOK_DEFAULTS = {
  batchSize: 20,
  leaseMs: 5 * 60 * 1000,
  sendTimeoutMs: 10_000,
} as const;

/** Delivered rows older than the retention are deleted this often (services/webhooks.ts). */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** With no subscription anywhere, the worker looks for one this many times less often. */
const NO_SUBSCRIPTION_POLL_FACTOR = 10;

type Outcome =
  | { ok: true; status: number }
  | { ok: false; status: number | null; error: string; retryAfterMs?: number };

export class WebhookWorker {
  readonly #batchSize: number;
  readonly #leaseMs: number;
  readonly #timeoutMs: number;
  readonly #pollMs: number;
  readonly #pauseAfter: number;
  readonly #random: RandomSource;
  readonly #dispatcher: Dispatcher | undefined;
  /** Accounts with subscriptions, as the last poll found them: an event of any other costs nothing. */
  #accounts = new Set<string>();
  /** When this process last pruned the delivery log (hourly). */
  #prunedAt = Number.NEGATIVE_INFINITY;
  readonly #loop: RoundLoop<WebhookRunReport>;
  #unsubscribe: (() => void) | null = null;

  constructor(
    private readonly ctx: AppContext,
    options: WebhookWorkerOptions = {},
  ) {
    this.#batchSize = options.batchSize ?? WEBHOOK_DEFAULTS.batchSize;
    this.#leaseMs = options.leaseMs ?? WEBHOOK_DEFAULTS.leaseMs;
    this.#timeoutMs = options.sendTimeoutMs ?? WEBHOOK_DEFAULTS.sendTimeoutMs;
    this.#pollMs = options.pollMs ?? ctx.config.workerPollMs;
    this.#pauseAfter = options.pauseAfterFailures ?? WEBHOOK_PAUSE_AFTER_FAILURES;
    this.#random = options.random ?? Math.random;
    this.#dispatcher = guardedDispatcher(ctx.config.webhooksAllowPrivateTargets);
    this.#loop = new RoundLoop({
      round: () => this.#round(),
      delayAfter: (report) => {
        const busy =
          report !== null && (report.claimed >= this.#batchSize || report.delivered > 0 || report.queued > 0);
        if (busy) return 0;
        // Without any subscription the poll is rarer: creating one wakes every process at once.
        return this.#accounts.size === 0 ? this.#pollMs * NO_SUBSCRIPTION_POLL_FACTOR : this.#pollMs;
      },
      onError: (error) => this.ctx.log.error({ err: error }, 'webhook round failed'),
    });
  }

  start(): void {
    if (!this.#loop.start()) return;
    this.#unsubscribe = dispatcherOf(this.ctx).on('webhooks', (envelope) => {
      // A subscription changed (in any process), or an event of an account that has one.
      if (envelope.event.type === 'webhook.changed' || this.#accounts.has(envelope.accountId))
        this.#loop.wake();
    });
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    await this.#loop.stop();
    await this.#dispatcher?.close().catch(() => {});
  }

  /** One round (feed, then deliver); rounds never overlap. */
  runOnce(): Promise<WebhookRunReport> {
    return this.#loop.runOnce();
  }

  async #round(): Promise<WebhookRunReport> {
    const report: WebhookRunReport = { fed: 0, queued: 0, claimed: 0, delivered: 0, retried: 0, paused: 0 };
    const feeds = await webhookFeedsDue(this.ctx);
    this.#accounts = new Set(feeds.map((feed) => feed.accountId));
    // No subscription anywhere: the one statement above is the whole round.
    if (feeds.length === 0) return report;
    const now = this.ctx.clock.now().getTime();
    if (now - this.#prunedAt >= PRUNE_EVERY_MS) {
      this.#prunedAt = now;
      await pruneWebhookLog(this.ctx).catch((error) =>
        this.ctx.log.warn({ err: error }, 'webhook log not pruned'),
      );
    }
    for (const feed of feeds) {
      if (!feed.behind) continue;
      for (let batch = 0; batch < 10; batch++) {
        const fed = await feedAccount(this.ctx, feed.accountId);
        report.fed += fed.read;
        report.queued += fed.queued;
        if (!fed.more) break;
      }
    }
    const claimed = await this.#claim();
    report.claimed = claimed.length;
    if (claimed.length === 0) return report;
    const subscriptions = new Map(
      (
        await this.ctx.store.db
          .selectFrom('webhook_subscriptions')
          .selectAll()
          .where('id', 'in', [...new Set(claimed.map((row) => row.subscription_id))])
          .execute()
      ).map((row) => [row.id, row]),
    );
    // The claim took at most one delivery per subscription and dialog: all of them side by side.
    await Promise.all(
      claimed.map(async (delivery) => {
        const subscription = subscriptions.get(delivery.subscription_id);
        if (!subscription) return;
        const outcome = await this.#send(subscription, delivery);
        try {
          const paused = await this.#record(subscription, delivery, outcome);
          if (outcome.ok) report.delivered++;
          else report.retried++;
          if (paused) report.paused++;
        } catch (error) {
          // The lease runs out and the delivery is claimed again: at least once, never lost.
          this.ctx.log.error({ err: error, deliveryId: delivery.id }, 'webhook result not recorded');
        }
      }),
    );
    return report;
  }

  /** The oldest waiting delivery of each active subscription and ordering key, leased. */
  async #claim(): Promise<WebhookDeliveryRow[]> {
    const now = this.ctx.clock.now();
    const leaseUntil = new Date(now.getTime() + this.#leaseMs);
    const rows = await this.ctx.store.db
      .with('due', (qb) =>
        qb
          .selectFrom('webhook_deliveries as d')
          .select('d.id')
          .where('d.state', '=', 'pending')
          .where('d.next_attempt_at', '<=', now)
          .where('d.subscription_id', 'in', (eb) =>
            eb.selectFrom('webhook_subscriptions as s').select('s.id').where('s.status', '=', 'active'),
          )
          .where((eb) =>
            eb.not(
              eb.exists(
                eb
                  .selectFrom('webhook_deliveries as e')
                  .select('e.id')
                  .whereRef('e.subscription_id', '=', 'd.subscription_id')
                  .whereRef('e.ordering_key', '=', 'd.ordering_key')
                  .where('e.state', '=', 'pending')
                  .whereRef('e.id', '<', 'd.id'),
              ),
            ),
          )
          .orderBy('d.next_attempt_at')
          .orderBy('d.id')
          .limit(this.#batchSize)
          .forUpdate()
          .skipLocked(),
      )
      .updateTable('webhook_deliveries')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), next_attempt_at: leaseUntil, last_attempt_at: now }))
      .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
      .returningAll()
      .execute();
    return rows.sort((a, b) => a.id - b.id);
  }

  async #send(subscription: WebhookSubscriptionRow, delivery: WebhookDeliveryRow): Promise<Outcome> {
    const refused = literalTargetProblem(subscription.url, this.ctx.config.webhooksAllowPrivateTargets);
    if (refused) return { ok: false, status: null, error: `The URL ${refused}` };
    let secret: string;
    try {
      secret = webhookSecretOf(this.ctx, subscription);
    } catch {
      return {
        ok: false,
        status: null,
        error: "The webhook's secret cannot be read (was SECRET_KEY changed?); rotate it",
      };
    }
    try {
      const answer = await signedPost(
        {
          url: subscription.url,
          secret,
          body: delivery.body,
          contentType: delivery.content_type,
          deliveryId: String(delivery.id),
          headers: { 'X-Openlines-Event': delivery.event_type },
        },
        {
          clock: this.ctx.clock,
          timeoutMs: this.#timeoutMs,
          ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
        },
      );
      if (isDelivered(answer.status)) return { ok: true, status: answer.status };
      const retryAfterMs = parseRetryAfter(answer.headers.get('retry-after'), this.ctx.clock.now());
      return {
        ok: false,
        status: answer.status,
        error: `The receiver answered ${answer.status}`,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    } catch (error) {
      const message =
        error instanceof SignedPostNetworkError ? error.message : 'The webhook could not be sent';
      const blocked = (error as { cause?: { cause?: { code?: string; message?: string } } })?.cause?.cause;
      return {
        ok: false,
        status: null,
        error: blocked?.code === 'EWEBHOOKTARGET' ? `The URL ${blocked.message ?? 'is refused'}` : message,
      };
    }
  }

  /** Records one attempt; true when it paused the subscription. */
  async #record(
    subscription: WebhookSubscriptionRow,
    delivery: WebhookDeliveryRow,
    outcome: Outcome,
  ): Promise<boolean> {
    const now = this.ctx.clock.now();
    if (outcome.ok) {
      const delivered = (db: Database | Tx) =>
        db
          .updateTable('webhook_deliveries')
          .set((eb) => ({
            state: 'delivered',
            delivered_at: now,
            last_status: outcome.status,
            last_error: null,
            // Erased while it waited (history saving off): delivered, and no copy kept in the log.
            body: eb.case().when('forget_body', '=', true).then('').else(eb.ref('body')).end(),
          }))
          .where('id', '=', delivery.id)
          .where('state', '=', 'pending')
          .execute();
      // The common case is one statement; after failures the count of them is reset with it.
      if (subscription.consecutive_failures === 0) {
        await delivered(this.ctx.store.db);
      } else {
        await runInTransaction(this.ctx, async ({ tx }) => {
          await delivered(tx);
          await tx
            .updateTable('webhook_subscriptions')
            .set({ consecutive_failures: 0 })
            .where('id', '=', subscription.id)
            .where('consecutive_failures', '>', 0)
            .execute();
        });
      }
      return false;
    }
    const delay = retryDelayMs(delivery.attempts, this.#random, outcome.retryAfterMs, WEBHOOK_BACKOFF);
    this.ctx.log.warn(
      {
        deliveryId: delivery.id,
        webhookId: subscription.id,
        status: outcome.status,
        attempt: delivery.attempts,
      },
      'webhook delivery failed',
    );
    return runInTransaction(this.ctx, async (uow) => {
      const { tx } = uow;
      const updated = await tx
        .updateTable('webhook_deliveries')
        .set({
          next_attempt_at: new Date(now.getTime() + delay),
          last_status: outcome.status,
          last_error: outcome.error,
        })
        .where('id', '=', delivery.id)
        .where('state', '=', 'pending')
        .where('attempts', '=', delivery.attempts)
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) return false;
      const current = await tx
        .selectFrom('webhook_subscriptions')
        .select(['status', 'consecutive_failures'])
        .where('id', '=', subscription.id)
        .forUpdate()
        .executeTakeFirst();
      if (!current) return false;
      const failures = current.consecutive_failures + 1;
      const pausedNow = current.status === 'active' && failures >= this.#pauseAfter;
      // The UI words the pause itself ("paused after N failed attempts in a row"); this is the last error.
      const reason = outcome.error;
      await tx
        .updateTable('webhook_subscriptions')
        .set({
          consecutive_failures: failures,
          ...(pausedNow ? { status: 'paused', paused_at: now, paused_reason: reason } : {}),
        })
        .where('id', '=', subscription.id)
        .execute();
      if (pausedNow) {
        this.ctx.log.warn({ webhookId: subscription.id }, 'webhook paused after repeated failures');
        uow.events.emit(
          subscription.account_id,
          'webhook.changed',
          { webhookId: subscription.id, deleted: false, paused: { url: subscription.url, reason } },
          { permission: 'manageIntegrations' },
        );
      }
      return pausedNow;
    });
  }
}
