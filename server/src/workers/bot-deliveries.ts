import { type BitrixBotPost, bitrixBotPosts } from '../bitrix/bot-events';
import type { AppContext } from '../context';
import { OUTBOX_BACKOFF, parseRetryAfter, type RandomSource, retryDelayMs } from '../core/backoff';
import { SignedPostNetworkError, signedPost } from '../delivery/signed-post';
import type { BotEvent } from '../services/bot-deliveries';
import { botWebhookSecret } from '../services/bots';
import { dispatcherOf } from '../services/event-dispatch';
import type { BitrixBotRow } from '../store/bitrix-schema';
import { retainedBotEventSql } from '../store/personal-data';
import type { BotRow } from '../store/schema';
import { claimRoundDelayMs, nextPendingAttempt, RoundLoop } from './round-loop';

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
  readonly #loop: RoundLoop<BotDeliveryReport>;
  #unsubscribe: (() => void) | null = null;
  /** After a round that claimed nothing: when the next pending delivery is due. */
  #nextDueAt: Date | null = null;

  constructor(
    private readonly ctx: AppContext,
    options: BotDeliveryOptions = {},
  ) {
    this.#options = { ...BOT_DELIVERY_DEFAULTS, random: Math.random, ...options };
    const bounds = { pollMs: ctx.config.workerPollMs, idleMs: ctx.config.workerIdleMs };
    this.#loop = new RoundLoop({
      round: () => this.#round(),
      delayAfter: (report) =>
        claimRoundDelayMs(
          report?.claimed ?? null,
          this.#options.batchSize,
          this.#nextDueAt,
          this.ctx.clock.now(),
          bounds,
        ),
      onError: (error) => this.ctx.log.error({ err: error }, 'bot delivery round failed'),
    });
  }

  /**
   * Rounds every WORKER_POLL_MS while there is work; idle, it sleeps until the next retry is due (at
   * most WORKER_IDLE_MS), and a committed message or session change in any process (which may have
   * queued a bot event) nudges it to look again within WORKER_POLL_MS.
   */
  start(): void {
    if (!this.#loop.start()) return;
    const pollMs = this.ctx.config.workerPollMs;
    this.#unsubscribe = dispatcherOf(this.ctx).on('workNudge', () => this.#loop.nudge(pollMs));
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    await this.#loop.stop();
  }

  /** One round: claim, deliver, record. Rounds never overlap. */
  runOnce(): Promise<BotDeliveryReport> {
    return this.#loop.runOnce();
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
    if (rows.length === 0) {
      this.#nextDueAt = await nextPendingAttempt(db, 'bot_deliveries');
      return report;
    }
    // With, in the same statement, what a bot registered through the Bitrix24-compatible REST has
    // besides: it hears Bitrix24's events instead (bitrix/bot-events).
    const joined = await db
      .selectFrom('bots')
      .leftJoin('bitrix_bots', 'bitrix_bots.bot_id', 'bots.id')
      .selectAll('bots')
      .select([
        'bitrix_bots.id as bitrix_id',
        'bitrix_bots.app_id as bitrix_app_id',
        'bitrix_bots.code as bitrix_code',
        'bitrix_bots.type as bitrix_type',
        'bitrix_bots.openline as bitrix_openline',
        'bitrix_bots.handlers as bitrix_handlers',
        'bitrix_bots.client_id as bitrix_client_id',
        'bitrix_bots.created_at as bitrix_created_at',
      ])
      .where('bots.id', 'in', [...new Set(rows.map((row) => row.bot_id))])
      .execute();
    const botById = new Map<string, BotRow>();
    const bitrixById = new Map<string, BitrixBotRow>();
    for (const {
      bitrix_id,
      bitrix_app_id,
      bitrix_code,
      bitrix_type,
      bitrix_openline,
      bitrix_handlers,
      bitrix_client_id,
      bitrix_created_at,
      ...bot
    } of joined) {
      botById.set(bot.id, bot);
      if (bitrix_id !== null && bitrix_app_id !== null && bitrix_handlers !== null) {
        bitrixById.set(bot.id, {
          id: bitrix_id,
          account_id: bot.account_id,
          app_id: bitrix_app_id,
          bot_id: bot.id,
          code: bitrix_code ?? '',
          type: bitrix_type ?? 'B',
          openline: bitrix_openline ?? true,
          handlers: bitrix_handlers,
          client_id: bitrix_client_id,
          created_at: bitrix_created_at ?? bot.created_at,
        });
      }
    }
    const bySession = new Map<string, typeof rows>();
    for (const row of rows.sort((a, b) => a.id - b.id)) {
      const key = row.session_id ?? `row:${row.id}`;
      bySession.set(key, [...(bySession.get(key) ?? []), row]);
    }
    await Promise.all(
      [...bySession.values()].map(async (list) => {
        for (const row of list) {
          const outcome = await this.#deliver(
            botById.get(row.bot_id),
            row.payload,
            row.attempts,
            bitrixById.get(row.bot_id),
          );
          await this.#record(row.id, row.attempts, outcome);
          report[outcome.kind === 'retry' ? 'retried' : outcome.kind] += 1;
        }
      }),
    );
    return report;
  }

  async #deliver(
    bot: BotRow | undefined,
    payload: unknown,
    attempts: number,
    bitrix?: BitrixBotRow,
  ): Promise<Outcome> {
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
    let posts: BitrixBotPost[] | null = [
      { url: bot.webhook_url, event: event.type, body: JSON.stringify(payload) },
    ];
    if (bitrix) {
      posts = await bitrixBotPosts(this.ctx, bitrix, payload as BotEvent);
      if (posts === null) return { kind: 'failed', reason: "The bot's Bitrix24 application was revoked" };
    }
    try {
      // One event may be several posts (a Bitrix24 bot joins, then reads); a retry sends them all again.
      for (const post of posts) {
        const answer = await signedPost(
          {
            url: post.url,
            secret,
            body: post.body,
            deliveryId: event.id,
            headers: { 'x-openlines-event': post.event },
            ...(bitrix ? { contentType: 'application/x-www-form-urlencoded' } : {}),
          },
          { clock: this.ctx.clock, timeoutMs: this.#options.timeoutMs },
        );
        if (answer.status >= 200 && answer.status < 300) continue;
        if (answer.status === 408 || answer.status === 429 || answer.status >= 500) {
          const outcome = giveUp(`The bot answered ${answer.status}`);
          const after = parseRetryAfter(answer.headers.get('retry-after'), this.ctx.clock.now());
          return outcome.kind === 'retry' && after !== undefined
            ? { ...outcome, retryAfterMs: after }
            : outcome;
        }
        return { kind: 'failed', reason: `The bot refused the event (${answer.status})` };
      }
      return { kind: 'sent' };
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
