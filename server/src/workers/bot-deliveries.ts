import { parseRetryAfter } from '../channels/api/outbound';
import type { AppContext } from '../context';
import { OUTBOX_BACKOFF, type RandomSource, retryDelayMs } from '../core/backoff';
import { SignedPostNetworkError, signedPost } from '../delivery/signed-post';
import { botWebhookSecret } from '../services/bots';
import { retainedBotEventSql } from '../store/personal-data';
import type { BotRow } from '../store/schema';

/**
 * Delivers events to external bots (BOT-2) from `bot_deliveries`, after commit, in every process,
 * the way workers/outbox delivers messages to channels: one statement claims due rows
 * `FOR UPDATE SKIP LOCKED` and leases them; each is POSTed signed (delivery/signed-post, HMAC-SHA256
 * over the raw body with a timestamp) outside any transaction; the result is recorded: sent, a
 * retry with full-jitter backoff (or the bot's Retry-After), or failed after `maxAttempts` or on an
 * answer that retrying cannot fix (4xx other than 408/429).
 *
 * A slow or failing bot never blocks intake or other bots: the POST has a timeout, and the session's
 * `bot_timeout` timer hands the session over whatever the bot does. Events of one session go out in
 * order within a round. Delivery is at least once: bots deduplicate by the event id
 * (X-Openlines-Delivery).
 */
export interface BotDeliveryOptions {
  batchSize?: number;
  leaseMs?: number;
  maxAttempts?: number;
  timeoutMs?: number;
  random?: RandomSource;
}

export interface BotDeliveryReport {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
}

export const BOT_DELIVERY_DEFAULTS = {
  batchSize: 20,
  leaseMs: 60 * 1000,
  maxAttempts: 8,
  timeoutMs: 5_000,
} as const;

type Outcome =
  | { kind: 'sent' }
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  | { kind: 'failed'; reason: string };

export class BotDeliveryWorker {
  readonly #options: Required<Omit<BotDeliveryOptions, 'random'>> & { random: RandomSource };
  #timer: NodeJS.Timeout | null = null;
  #chain: Promise<unknown> = Promise.resolve();
  #stopped = true;

  constructor(
    private readonly ctx: AppContext,
    options: BotDeliveryOptions = {},
  ) {
    this.#options = { ...BOT_DELIVERY_DEFAULTS, random: Math.random, ...options };
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#chain;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.runOnce()
        .catch((error) => this.ctx.log.error({ err: error }, 'bot delivery round failed'))
        .finally(() => this.#schedule());
    }, this.ctx.config.workerPollMs);
    this.#timer.unref();
  }

  /** One round: claim, deliver, record. Rounds never overlap. */
  runOnce(): Promise<BotDeliveryReport> {
    const round = this.#chain.then(() => this.#round());
    this.#chain = round.catch(() => {});
    return round;
  }

  async #round(): Promise<BotDeliveryReport> {
    const report: BotDeliveryReport = { claimed: 0, sent: 0, retried: 0, failed: 0 };
    const { db } = this.ctx.store;
    const now = this.ctx.clock.now();
    const rows = await db
      .with('due', (qb) =>
        qb
          .selectFrom('bot_deliveries')
          .select('id')
          .where('state', '=', 'pending')
          .where('next_attempt_at', '<=', now)
          .orderBy('next_attempt_at')
          .orderBy('id')
          .limit(this.#options.batchSize)
          .forUpdate()
          .skipLocked(),
      )
      .updateTable('bot_deliveries')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        next_attempt_at: new Date(now.getTime() + this.#options.leaseMs),
      }))
      .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
      .returningAll()
      .execute();
    report.claimed = rows.length;
    if (rows.length === 0) return report;
    const bots = await db
      .selectFrom('bots')
      .selectAll()
      .where('id', 'in', [...new Set(rows.map((row) => row.bot_id))])
      .execute();
    const botById = new Map(bots.map((bot) => [bot.id, bot]));
    const bySession = new Map<string, typeof rows>();
    for (const row of rows.sort((a, b) => a.id - b.id)) {
      const key = row.session_id ?? `row:${row.id}`;
      bySession.set(key, [...(bySession.get(key) ?? []), row]);
    }
    await Promise.all(
      [...bySession.values()].map(async (list) => {
        for (const row of list) {
          const outcome = await this.#deliver(botById.get(row.bot_id), row.payload, row.attempts);
          await this.#record(row.id, row.attempts, outcome);
          report[outcome.kind === 'retry' ? 'retried' : outcome.kind] += 1;
        }
      }),
    );
    return report;
  }

  async #deliver(bot: BotRow | undefined, payload: unknown, attempts: number): Promise<Outcome> {
    if (!bot?.webhook_url) return { kind: 'failed', reason: 'The bot no longer exists or has no webhook' };
    let secret: string | null;
    try {
      secret = botWebhookSecret(this.ctx, bot);
    } catch {
      return {
        kind: 'failed',
        reason: "The bot's secret cannot be read (was SECRET_KEY changed?); rotate it",
      };
    }
    if (!secret) return { kind: 'failed', reason: 'The bot has no webhook secret' };
    const event = payload as { id: string; type: string };
    const giveUp = (reason: string): Outcome =>
      attempts >= this.#options.maxAttempts
        ? { kind: 'failed', reason: `Gave up after ${attempts} attempts: ${reason}` }
        : { kind: 'retry', reason };
    try {
      const answer = await signedPost(
        {
          url: bot.webhook_url,
          secret,
          body: JSON.stringify(payload),
          deliveryId: event.id,
          headers: { 'x-openlines-event': event.type },
        },
        { clock: this.ctx.clock, timeoutMs: this.#options.timeoutMs },
      );
      if (answer.status >= 200 && answer.status < 300) return { kind: 'sent' };
      if (answer.status === 408 || answer.status === 429 || answer.status >= 500) {
        const outcome = giveUp(`The bot answered ${answer.status}`);
        const after = parseRetryAfter(answer.headers.get('retry-after'), this.ctx.clock.now());
        return outcome.kind === 'retry' && after !== undefined
          ? { ...outcome, retryAfterMs: after }
          : outcome;
      }
      return { kind: 'failed', reason: `The bot refused the event (${answer.status})` };
    } catch (error) {
      if (error instanceof SignedPostNetworkError) return giveUp(error.message);
      throw error;
    }
  }

  async #record(id: number, attempts: number, outcome: Outcome): Promise<void> {
    const { db } = this.ctx.store;
    const base = db
      .updateTable('bot_deliveries')
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .where('attempts', '=', attempts);
    // Like the outbox: an event keeps the client's words and name only until it is sent or given
    // up; what stays is its id and type (issue 18: no copy outlives delivery, erased or not).
    const done = retainedBotEventSql();
    if (outcome.kind === 'sent') {
      await base.set({ state: 'sent', last_error: null, payload: done }).execute();
    } else if (outcome.kind === 'failed') {
      this.ctx.log.warn({ deliveryId: id, reason: outcome.reason }, 'bot event not delivered');
      await base.set({ state: 'failed', last_error: outcome.reason, payload: done }).execute();
    } else {
      const delay = retryDelayMs(attempts, this.#options.random, outcome.retryAfterMs, OUTBOX_BACKOFF);
      await base
        .set({
          next_attempt_at: new Date(this.ctx.clock.now().getTime() + delay),
          last_error: outcome.reason,
        })
        .execute();
    }
  }
}
