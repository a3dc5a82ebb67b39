import { sql } from 'kysely';
import type { AppContext } from '../context';
import { retentionDaysOf } from '../core/personal-data';
import {
  eraseFilesBefore,
  eraseMessages,
  eraseSessionComments,
  unlinkErasedFiles,
} from '../services/erasure';
import { runInTransaction } from '../services/transaction';
import { pruneEventsBefore } from '../store/personal-data';

/** Rows per transaction: a large erasure is many short transactions, each resumable from the rest. */
const BATCH = 500;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface PrivacyRunReport {
  eventsPruned: number;
  messagesErased: number;
  filesErased: number;
  filesUnlinked: number;
}

/**
 * The privacy worker (docs/privacy.md), in every process, every PRIVACY_SWEEP_SECONDS:
 *   1. prunes realtime events older than EVENT_RETENTION_HOURS (a socket resuming from before
 *      them gets `resync`);
 *   2. retention: erases messages, attachments and rating comments older than each line's
 *      retention (the line's own, else the account's), and the account's older files;
 *   3. removes the bytes of erased files from disk (file_erasures).
 * Each step works in batches of short transactions that pick what is still left to do, so a crash
 * or a second process only means the next round does the rest; doing a batch twice changes nothing.
 */
export class PrivacyWorker {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<unknown> | null = null;
  #stopped = true;

  constructor(private readonly ctx: AppContext) {}

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.runOnce()
        .catch((error) => this.ctx.log.error({ err: error }, 'privacy worker failed'))
        .finally(() => {
          this.#running = null;
          this.#schedule(this.ctx.config.privacySweepMs);
        });
    }, delayMs);
    this.#timer.unref();
  }

  /** One full round; returns what it did. */
  async runOnce(): Promise<PrivacyRunReport> {
    const report: PrivacyRunReport = { eventsPruned: 0, messagesErased: 0, filesErased: 0, filesUnlinked: 0 };
    report.eventsPruned = await this.pruneEvents();
    const retained = await this.applyRetention();
    report.messagesErased = retained.messages;
    report.filesErased = retained.files;
    for (;;) {
      const unlinked = await unlinkErasedFiles(this.ctx, BATCH);
      report.filesUnlinked += unlinked;
      if (unlinked < BATCH) break;
    }
    return report;
  }

  async pruneEvents(): Promise<number> {
    const before = new Date(this.ctx.clock.now().getTime() - this.ctx.config.eventRetentionHours * 3600_000);
    let total = 0;
    for (;;) {
      const pruned = await runInTransaction(this.ctx, ({ tx }) => pruneEventsBefore(tx, before, BATCH * 10));
      total += pruned;
      if (pruned < BATCH * 10) return total;
    }
  }

  /** Retention, line by line; returns how many messages and files were erased. */
  async applyRetention(): Promise<{ messages: number; files: number }> {
    const { db } = this.ctx.store;
    const now = this.ctx.clock.now().getTime();
    const lines = await db
      .selectFrom('lines')
      .innerJoin('accounts', 'accounts.id', 'lines.account_id')
      .select(['lines.id', 'lines.account_id', 'lines.settings', 'accounts.message_retention_days'])
      .execute();
    const done = { messages: 0, files: 0 };
    for (const line of lines) {
      const days = retentionDaysOf(line.settings.other?.retentionDays, line.message_retention_days);
      if (days === null) continue;
      const before = new Date(now - days * DAY_MS);
      for (;;) {
        const ids = await db
          .selectFrom('messages')
          .innerJoin('dialogs', 'dialogs.id', 'messages.dialog_id')
          .select('messages.id')
          .where('dialogs.line_id', '=', line.id)
          .where('messages.created_at', '<', before)
          .where((eb) =>
            eb.or([
              eb('messages.text', 'is not', null),
              eb(sql`jsonb_array_length(messages.attachments)`, '>', 0),
            ]),
          )
          .limit(BATCH)
          .execute();
        if (ids.length === 0) break;
        const summary = await runInTransaction(this.ctx, (uow) =>
          eraseMessages(
            this.ctx,
            uow,
            line.account_id,
            ids.map((row) => row.id),
          ),
        );
        done.messages += summary.messages;
        done.files += summary.files;
        if (ids.length < BATCH) break;
      }
      const sessions = await db
        .selectFrom('sessions')
        .select('id')
        .where('line_id', '=', line.id)
        .where('closed_at', '<', before)
        .where((eb) =>
          eb.or([eb('rating_comment', 'is not', null), eb('supervisor_comment', 'is not', null)]),
        )
        .execute();
      if (sessions.length > 0) {
        await runInTransaction(this.ctx, ({ tx }) =>
          eraseSessionComments(
            tx,
            line.account_id,
            sessions.map((row) => row.id),
          ),
        );
      }
    }
    // Files are the account's (an upload never sent belongs to no line): those older than the
    // longest retention of any of its lines go, attached or not.
    const accounts = await db
      .selectFrom('accounts')
      .select(['id', 'message_retention_days'])
      .where('message_retention_days', 'is not', null)
      .execute();
    for (const account of accounts) {
      const longest = Math.max(
        account.message_retention_days!,
        ...lines
          .filter((line) => line.account_id === account.id)
          .map(
            (line) =>
              retentionDaysOf(line.settings.other?.retentionDays, account.message_retention_days) ?? 0,
          ),
      );
      const before = new Date(now - longest * DAY_MS);
      for (;;) {
        const erased = await runInTransaction(this.ctx, ({ tx }) =>
          eraseFilesBefore(this.ctx, tx, account.id, before, BATCH),
        );
        done.files += erased;
        if (erased < BATCH) break;
      }
    }
    return done;
  }
}
