import { createHash, randomUUID } from 'node:crypto';
import type { Update } from '@grammyjs/types';
import { ConnectorError } from '../channels/connector';
import { botApi, callBotApi, connectorErrorOf, telegramStatusOf } from '../channels/telegram/bot-api';
import { ALLOWED_UPDATES } from '../channels/telegram/inbound';
import { apiRootOf, resolveUpdateMode } from '../channels/telegram/settings';
import type { AppContext } from '../context';
import { repairUnstorableText } from '../core/storable-text';
import { AppError } from '../errors';
import { receiveDelivery } from '../services/channel-inbound';
import { channelRuntime } from '../services/channels';
import { dispatcherOf } from '../services/event-dispatch';
import { acquireLease, releaseLease } from '../store/channel-state';
import type { ChannelRow } from '../store/schema';
import { loadTelegramStates, recordWebhook, saveOffset, type TelegramState } from '../store/telegram-state';

/**
 * How Telegram updates reach the server (issue 7), in every process:
 *
 *   sync   for each Telegram channel: connected and in webhook mode → setWebhook (with the channel's
 *          secret token) unless that URL and secret are already registered; disconnected or in
 *          polling mode → deleteWebhook if we registered one; polling → a long-polling loop here,
 *          when this process holds the channel's lease. Runs every `syncMs` and at once when a
 *          channel changes (its 'channel.changed' event), so disconnecting stops polling (LN-5).
 *   poll   getUpdates(offset, timeout) → each update committed by the generic inbound path
 *          (services/channel-inbound.ts `receiveDelivery`, as a webhook body is) → the next offset
 *          saved in channel_state → the next getUpdates confirms them to Telegram. A crash before
 *          the offset is saved means the updates come again, and are found stored (by external id).
 *
 * Tests drive it without timers: `syncOnce()` and `pollOnce(channelId)`.
 */
export interface TelegramWorkerOptions {
  /** getUpdates long-poll timeout in seconds (Telegram recommends tens of seconds). */
  pollTimeoutSeconds?: number;
  /** How long a process's claim on polling a bot lasts without renewal. */
  leaseMs?: number;
  /** Between syncs when nothing changes. */
  syncMs?: number;
  /** Identifies this process in leases. */
  owner?: string;
}

export interface PollReport {
  received: number;
  stored: number;
  duplicates: number;
  ignored: number;
  /** The offset saved after this round (undefined: no update yet). */
  offset: number | undefined;
  /** False when this process may not poll the channel (disconnected, webhook mode, lease elsewhere). */
  polled: boolean;
}

export interface SyncReport {
  webhooksSet: string[];
  webhooksDeleted: string[];
  pollersStarted: string[];
  pollersStopped: string[];
}

export const TELEGRAM_DEFAULTS = {
  pollTimeoutSeconds: 25,
  leaseMs: 90_000,
  syncMs: 5_000,
} as const;

/** An update that keeps failing for reasons other than the network is skipped after this many rounds. */
const MAX_UPDATE_ATTEMPTS = 5;
const MAX_BACKOFF_MS = 60_000;

interface Loop {
  controller: AbortController;
  done: Promise<void>;
}

export function webhookUrlOf(ctx: AppContext, channelId: string): string {
  const base = ctx.config.publicUrl ?? ctx.publicUrl.value;
  return `${base.replace(/\/+$/, '')}/api/v1/telegram/webhook/${channelId}`;
}

const secretDigest = (secret: string) => createHash('sha256').update(secret).digest('base64url').slice(0, 22);

export class TelegramUpdatesWorker {
  readonly #owner: string;
  readonly #pollTimeoutSeconds: number;
  readonly #leaseMs: number;
  readonly #syncMs: number;
  readonly #loops = new Map<string, Loop>();
  /** Channels whose webhook we removed before polling, in this process. */
  readonly #webhookCleared = new Set<string>();
  /** Channels whose polling lease this process took (released on stop). */
  readonly #leased = new Set<string>();
  /** Failed attempts per `<channel>:<update_id>`. */
  readonly #attempts = new Map<string, number>();
  #live = false;
  #timer: NodeJS.Timeout | null = null;
  #syncing: Promise<unknown> = Promise.resolve();
  #unsubscribe: (() => void) | null = null;

  constructor(
    private readonly ctx: AppContext,
    options: TelegramWorkerOptions = {},
  ) {
    this.#owner = options.owner ?? randomUUID();
    this.#pollTimeoutSeconds = options.pollTimeoutSeconds ?? TELEGRAM_DEFAULTS.pollTimeoutSeconds;
    this.#leaseMs = options.leaseMs ?? TELEGRAM_DEFAULTS.leaseMs;
    this.#syncMs = options.syncMs ?? TELEGRAM_DEFAULTS.syncMs;
  }

  /** Channels this process is polling now: a loop runs and holds the channel's lease. */
  get polling(): string[] {
    return [...this.#loops.keys()].filter((id) => this.#leased.has(id));
  }

  start(): void {
    if (this.#live) return;
    this.#live = true;
    this.#unsubscribe = dispatcherOf(this.ctx).on('telegramSync', () => this.#schedule(0));
    this.#schedule(0);
  }

  /** Stops syncing and polling (aborting the long polls in flight) and releases the leases. */
  async stop(): Promise<void> {
    this.#live = false;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#syncing;
    await Promise.all([...this.#loops.keys()].map((id) => this.#stopLoop(id)));
    // Leases taken by pollOnce (tests, or a loop that ended early): another process may take over now.
    for (const channelId of this.#leased) await this.#release(channelId);
  }

  async #release(channelId: string): Promise<void> {
    this.#leased.delete(channelId);
    await releaseLease(this.ctx.store.db, channelId, this.#owner, this.ctx.clock.now()).catch(
      (error: unknown) => this.ctx.log.warn({ err: error, channelId }, 'telegram lease not released'),
    );
  }

  #schedule(delayMs: number): void {
    if (!this.#live) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.syncOnce()
        .catch((error: unknown) => this.ctx.log.error({ err: error }, 'telegram sync failed'))
        .finally(() => this.#schedule(this.#syncMs));
    }, delayMs);
    this.#timer.unref();
  }

  /** Brings webhooks and pollers in line with the channels; syncs never overlap. */
  syncOnce(): Promise<SyncReport> {
    const run = this.#syncing.then(() => this.#sync());
    this.#syncing = run.catch(() => {});
    return run;
  }

  async #sync(): Promise<SyncReport> {
    const report: SyncReport = {
      webhooksSet: [],
      webhooksDeleted: [],
      pollersStarted: [],
      pollersStopped: [],
    };
    const channels = await this.ctx.store.db
      .selectFrom('channels')
      .selectAll()
      .where('kind', '=', 'telegram')
      .execute();
    const states = await loadTelegramStates(
      this.ctx.store.db,
      channels.map((c) => c.id),
    );
    const present = new Set(channels.map((c) => c.id));
    for (const id of this.#loops.keys()) {
      if (!present.has(id)) {
        await this.#stopLoop(id);
        report.pollersStopped.push(id);
      }
    }
    for (const channel of channels) {
      try {
        await this.#syncChannel(channel, states.get(channel.id) ?? {}, report);
      } catch (error) {
        const neutral = connectorErrorOf(error);
        this.ctx.log.warn(
          { channelId: channel.id, code: neutral.code, err: neutral.message },
          'telegram sync of a channel failed',
        );
      }
    }
    return report;
  }

  async #syncChannel(channel: ChannelRow, state: TelegramState, report: SyncReport): Promise<void> {
    // A suspended account's bot is neither polled nor hooked: Telegram keeps its updates (for up
    // to 24 hours) until the account is resumed.
    const connected =
      channel.status === 'connected' && channel.line_id !== null && !channel.account_suspended;
    const mode = resolveUpdateMode(channel.settings, this.ctx.config.publicUrl);
    if ((!connected || mode === 'webhook') && this.#loops.has(channel.id)) {
      await this.#stopLoop(channel.id);
      report.pollersStopped.push(channel.id);
    }
    if (!connected || mode === 'polling') {
      if (state.webhook) {
        try {
          const api = this.#api(channel);
          await callBotApi(() => api.deleteWebhook({ drop_pending_updates: false }));
        } catch (error) {
          // A revoked token has no webhook to remove any more; anything else is tried again later.
          if (connectorErrorOf(error).code !== 'auth_revoked') throw error;
        }
        await recordWebhook(this.ctx.store.db, channel.id, null, this.ctx.clock.now());
        this.#webhookCleared.add(channel.id);
        report.webhooksDeleted.push(channel.id);
      }
      if (connected && this.#live && !this.#loops.has(channel.id)) {
        this.#startLoop(channel.id);
        report.pollersStarted.push(channel.id);
      }
      return;
    }
    const secret = channelRuntime(this.ctx, channel).secrets.webhookSecret;
    if (!secret)
      throw new ConnectorError('auth_revoked', 'The channel has no webhook secret; rotate its secrets');
    const wanted = { url: webhookUrlOf(this.ctx, channel.id), secretDigest: secretDigest(secret) };
    if (state.webhook?.url === wanted.url && state.webhook.secretDigest === wanted.secretDigest) return;
    const api = this.#api(channel);
    await callBotApi(() =>
      api.setWebhook(wanted.url, { secret_token: secret, allowed_updates: [...ALLOWED_UPDATES] }),
    );
    await recordWebhook(this.ctx.store.db, channel.id, wanted, this.ctx.clock.now());
    this.#webhookCleared.delete(channel.id);
    report.webhooksSet.push(channel.id);
  }

  #api(channel: ChannelRow, timeoutMs = 30_000) {
    const token = channelRuntime(this.ctx, channel).secrets.botToken;
    if (!token)
      throw new ConnectorError('auth_revoked', 'The channel has no bot token; paste it in the settings');
    return botApi(token, { apiRoot: apiRootOf(channel.settings), timeoutMs });
  }

  #startLoop(channelId: string): void {
    const controller = new AbortController();
    const loop: Loop = { controller, done: Promise.resolve() };
    loop.done = this.#runLoop(channelId, controller.signal).finally(() => {
      if (this.#loops.get(channelId) === loop) this.#loops.delete(channelId);
    });
    this.#loops.set(channelId, loop);
  }

  async #stopLoop(channelId: string): Promise<void> {
    const loop = this.#loops.get(channelId);
    if (!loop) return;
    loop.controller.abort();
    await loop.done;
  }

  async #runLoop(channelId: string, signal: AbortSignal): Promise<void> {
    let failures = 0;
    try {
      while (!signal.aborted) {
        try {
          const report = await this.#poll(channelId, this.#pollTimeoutSeconds, signal);
          if (!report.polled) break;
          failures = 0;
        } catch (error) {
          if (signal.aborted) break;
          failures++;
          const neutral = connectorErrorOf(error);
          const delay = neutral.retryAfterMs ?? Math.min(1000 * 2 ** (failures - 1), MAX_BACKOFF_MS);
          this.ctx.log.warn(
            { channelId, code: neutral.code, err: neutral.message, retryInMs: delay },
            'telegram polling failed',
          );
          await sleep(delay, signal);
        }
      }
    } finally {
      await this.#release(channelId);
    }
  }

  /**
   * One getUpdates round for a channel (the loop's body; tests call it with timeout 0). Updates are
   * committed one by one, the offset saved after each; an error stops the round after saving the
   * progress made, and the failed update comes again in the next round.
   */
  async pollOnce(channelId: string, options: { timeoutSeconds?: number } = {}): Promise<PollReport> {
    return this.#poll(channelId, options.timeoutSeconds ?? 0, undefined);
  }

  async #poll(
    channelId: string,
    timeoutSeconds: number,
    signal: AbortSignal | undefined,
  ): Promise<PollReport> {
    const report: PollReport = {
      received: 0,
      stored: 0,
      duplicates: 0,
      ignored: 0,
      offset: undefined,
      polled: false,
    };
    const db = this.ctx.store.db;
    const channel = await db
      .selectFrom('channels')
      .selectAll()
      .where('id', '=', channelId)
      .executeTakeFirst();
    if (
      channel?.kind !== 'telegram' ||
      channel.status !== 'connected' ||
      !channel.line_id ||
      channel.account_suspended
    )
      return report;
    if (resolveUpdateMode(channel.settings, this.ctx.config.publicUrl) !== 'polling') return report;
    const state = await acquireLease<TelegramState>(
      db,
      channelId,
      this.#owner,
      this.ctx.clock.now(),
      this.#leaseMs,
    );
    if (!state) return report;
    this.#leased.add(channelId);
    report.polled = true;
    const botId = String(channel.settings.botId ?? '');
    let offset = state.botId === botId ? state.offset : undefined;
    report.offset = offset;
    const api = this.#api(channel, (timeoutSeconds + 15) * 1000);
    if (!this.#webhookCleared.has(channelId)) {
      // getUpdates is refused while a webhook is set (by us before, or by another program).
      await callBotApi(() => api.deleteWebhook({ drop_pending_updates: false }));
      this.#webhookCleared.add(channelId);
    }
    let updates: Update[];
    try {
      updates = await callBotApi(() =>
        api.getUpdates(
          {
            ...(offset === undefined ? {} : { offset }),
            timeout: timeoutSeconds,
            allowed_updates: [...ALLOWED_UPDATES],
          },
          // grammY types its own AbortSignal shim; a native one is what it uses at run time.
          signal as Parameters<typeof api.getUpdates>[1],
        ),
      );
    } catch (error) {
      // 409: a webhook was set meanwhile, or another program polls this bot.
      if (telegramStatusOf(error) === 409) this.#webhookCleared.delete(channelId);
      throw error;
    }
    report.received = updates.length;
    for (const update of [...updates].sort((a, b) => a.update_id - b.update_id)) {
      if (offset !== undefined && update.update_id < offset) continue;
      const key = `${channelId}:${update.update_id}`;
      try {
        // Polled updates did not cross the HTTP boundary, which repairs webhook bodies the same way.
        const results = await receiveDelivery(this.ctx, channel, repairUnstorableText(update));
        this.#attempts.delete(key);
        if (results.length === 0) report.ignored++;
        for (const result of results) {
          if (result.outcome === 'stored') report.stored++;
          else if (result.outcome === 'duplicate') report.duplicates++;
          else report.ignored++;
        }
      } catch (error) {
        if (error instanceof AppError && error.code === 'not_found') {
          // Disconnected while we were reading: the update stays unconfirmed for a reconnect.
          report.polled = false;
          return report;
        }
        const neutral = connectorErrorOf(error);
        const attempts = (this.#attempts.get(key) ?? 0) + 1;
        this.#attempts.set(key, attempts);
        const retryable =
          !(error instanceof AppError) && (neutral.code === 'temporary' || neutral.code === 'rate_limited');
        if (retryable || attempts < MAX_UPDATE_ATTEMPTS) throw error;
        this.ctx.log.error(
          {
            channelId,
            updateId: update.update_id,
            err: error instanceof AppError ? error.message : neutral.message,
          },
          'telegram update skipped after repeated failures',
        );
        this.#attempts.delete(key);
      }
      offset = update.update_id + 1;
      const saved = await saveOffset(db, channelId, {
        owner: this.#owner,
        botId,
        offset,
        now: this.ctx.clock.now(),
        leaseMs: this.#leaseMs,
      });
      report.offset = offset;
      if (!saved) {
        report.polled = false;
        return report;
      }
    }
    return report;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
