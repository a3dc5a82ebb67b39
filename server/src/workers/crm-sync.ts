import type { Dispatcher } from 'undici';
import type { AppContext } from '../context';
import { type BackoffPolicy, type RandomSource, retryDelayMs } from '../core/backoff';
import { type CrmAdapter, CrmAdapterError } from '../crm-adapters/adapter';
import { CRM_ADAPTERS, type ExternalCrmKind } from '../crm-adapters/registry';
import { guardedDispatcher } from '../delivery/webhook-target';
import { crmAdapterTokenOf } from '../services/crm/adapter';
import {
  claimCrmSyncJobs,
  crmSyncFeedsDue,
  feedCrmSync,
  markCrmSyncDone,
  markCrmSyncRetry,
  pruneCrmSyncJobs,
  runResponsibleJob,
  runSessionJob,
} from '../services/crm/sync';
import type { CrmAdapterRow, CrmSyncJobRow } from '../store/schema';
import { RoundLoop } from './round-loop';

/**
 * External CRMs (CRM-4; docs/crm.md "External CRMs"). Each round, in every server process: feed
 * the accounts whose adapter is behind their event log (services/crm/sync.ts), claim due jobs
 * `FOR UPDATE SKIP LOCKED` (the oldest of each session), run them through the account's adapter
 * outside any transaction, and record done or a retry after full-jitter backoff, or the CRM's
 * Retry-After when longer. A job is never dropped: a CRM that is down, refuses the token or the
 * payload is retried (at most hourly) until an administrator fixes it or it comes back.
 */
export const CRM_SYNC_BACKOFF: BackoffPolicy = {
  baseMs: 2_000,
  capMs: 60 * 60 * 1000,
  maxRetryAfterMs: 24 * 60 * 60 * 1000,
};

export interface CrmSyncWorkerOptions {
  batchSize?: number;
  leaseMs?: number;
  callTimeoutMs?: number;
  pollMs?: number;
  random?: RandomSource;
}

export interface CrmSyncRunReport {
  fed: number;
  queued: number;
  claimed: number;
  done: number;
  retried: number;
}

/** Done jobs older than their retention are deleted this often. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** With no account on an external CRM, the worker looks for one this many times less often. */
const NO_ADAPTER_POLL_FACTOR = 10;

export class CrmSyncWorker {
  readonly #batchSize: number;
  readonly #leaseMs: number;
  readonly #timeoutMs: number;
  readonly #pollMs: number;
  readonly #random: RandomSource;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #loop: RoundLoop<CrmSyncRunReport>;
  #accounts = 0;
  #prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ctx: AppContext,
    options: CrmSyncWorkerOptions = {},
  ) {
    this.#batchSize = options.batchSize ?? 20;
    this.#leaseMs = options.leaseMs ?? 5 * 60 * 1000;
    this.#timeoutMs = options.callTimeoutMs ?? 10_000;
    this.#pollMs = options.pollMs ?? ctx.config.workerPollMs;
    this.#random = options.random ?? Math.random;
    this.#dispatcher = guardedDispatcher(ctx.config.webhooksAllowPrivateTargets);
    this.#loop = new RoundLoop({
      round: () => this.#round(),
      delayAfter: (report) => {
        if (report !== null && (report.claimed >= this.#batchSize || report.queued > 0)) return 0;
        return this.#accounts === 0 ? this.#pollMs * NO_ADAPTER_POLL_FACTOR : this.#pollMs;
      },
      onError: (error) => this.ctx.log.error({ err: error }, 'crm sync round failed'),
    });
  }

  start(): void {
    this.#loop.start();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
    await this.#dispatcher?.close().catch(() => {});
  }

  /** One round (feed, then run); rounds never overlap. */
  runOnce(): Promise<CrmSyncRunReport> {
    return this.#loop.runOnce();
  }

  async #round(): Promise<CrmSyncRunReport> {
    const report: CrmSyncRunReport = { fed: 0, queued: 0, claimed: 0, done: 0, retried: 0 };
    const feeds = await crmSyncFeedsDue(this.ctx);
    this.#accounts = feeds.length;
    if (feeds.length === 0) return report;
    const now = this.ctx.clock.now().getTime();
    if (now - this.#prunedAt >= PRUNE_EVERY_MS) {
      this.#prunedAt = now;
      await pruneCrmSyncJobs(this.ctx).catch((error) =>
        this.ctx.log.warn({ err: error }, 'crm sync jobs not pruned'),
      );
    }
    for (const feed of feeds) {
      if (!feed.behind) continue;
      for (let batch = 0; batch < 10; batch++) {
        const fed = await feedCrmSync(this.ctx, feed.accountId);
        report.fed += fed.read;
        report.queued += fed.queued;
        if (!fed.more) break;
      }
    }
    const jobs = await claimCrmSyncJobs(this.ctx, this.#batchSize, this.#leaseMs);
    report.claimed = jobs.length;
    if (jobs.length === 0) return report;
    const adapters = await this.ctx.store.db
      .selectFrom('crm_adapters')
      .selectAll()
      .where('account_id', 'in', [...new Set(jobs.map((job) => job.account_id))])
      .execute();
    const byAccount = new Map(adapters.map((row) => [row.account_id, row]));
    // One session's jobs run in order (the claim took one each); different sessions side by side.
    await Promise.all(
      jobs.map(async (job) => {
        const outcome = await this.#run(byAccount.get(job.account_id), job);
        try {
          if (outcome.ok) {
            await markCrmSyncDone(this.ctx, job, outcome.result);
            report.done++;
          } else {
            const delay = retryDelayMs(job.attempts, this.#random, outcome.retryAfterMs, CRM_SYNC_BACKOFF);
            await markCrmSyncRetry(this.ctx, job, delay, outcome);
            report.retried++;
          }
        } catch (error) {
          // The lease runs out and the job is claimed again: at least once, never lost.
          this.ctx.log.error({ err: error, jobId: job.id }, 'crm sync result not recorded');
        }
      }),
    );
    return report;
  }

  async #run(
    row: CrmAdapterRow | undefined,
    job: CrmSyncJobRow,
  ): Promise<
    | { ok: true; result: Record<string, unknown> }
    | { ok: false; status: number | null; error: string; retryAfterMs?: number }
  > {
    // The account went back to the built-in CRM: the job waits in case the adapter comes back.
    if (!row) return { ok: false, status: null, error: 'The account has no external CRM now' };
    let adapter: CrmAdapter;
    try {
      const factory = CRM_ADAPTERS[row.kind as ExternalCrmKind];
      if (!factory) return { ok: false, status: null, error: `No adapter "${row.kind}"` };
      adapter = factory(
        { baseUrl: row.base_url, token: crmAdapterTokenOf(this.ctx, row) },
        {
          clock: this.ctx.clock,
          timeoutMs: this.#timeoutMs,
          ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
        },
      );
    } catch {
      return {
        ok: false,
        status: null,
        error: 'The CRM token cannot be read (was SECRET_KEY changed?); set it again',
      };
    }
    try {
      const result =
        job.kind === 'session'
          ? await runSessionJob(this.ctx, adapter, job)
          : await runResponsibleJob(this.ctx, adapter, job);
      return { ok: true, result };
    } catch (error) {
      if (error instanceof CrmAdapterError) {
        this.ctx.log.warn(
          { jobId: job.id, code: error.code, status: error.status, attempt: job.attempts },
          'crm sync job failed',
        );
        return {
          ok: false,
          status: error.status,
          error: error.message,
          ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
        };
      }
      this.ctx.log.error({ err: error, jobId: job.id }, 'crm sync job failed');
      return { ok: false, status: null, error: 'The job failed on our side; it is retried' };
    }
  }
}
