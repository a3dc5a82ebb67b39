import type { ChannelRuntime, ConnectorIo } from '../channels/connector';
import { type ConnectorError, toConnectorError } from '../channels/connector';
import { findConnector } from '../channels/registry';
import type {
  OutboxChannelEvent,
  OutboxDialogEvent,
  OutboxPayload,
  OutboxRowPayload,
} from '../channels/types';
import type { AppContext } from '../context';
import { OUTBOX_BACKOFF, type RandomSource, retryDelayMs } from '../core/backoff';
import { channelRuntime, clearChannelFailure, markChannelFailing } from '../services/channels';
import { emitMessage, touchDialog } from '../services/dialog-events';
import { wantsDialogEvents } from '../services/dialog-lifecycle';
import { dispatcherOf } from '../services/event-dispatch';
import { fileIdFromUrl, readFileOf } from '../services/files';
import { presentMessage } from '../services/message-presenter';
import { numericIds } from '../services/numeric-ids';
import { runInTransaction, type UnitOfWork } from '../services/transaction';
import { retainedOutboxPayloadSql } from '../store/personal-data';
import type { ChannelRow, MessageRow } from '../store/schema';
import { traced } from '../tracing';
import { claimRoundDelayMs, nextPendingAttempt, RoundLoop } from './round-loop';

/**
 * The durable outbox (ARCHITECTURE property 2): messages are queued in the transaction that stores
 * them (services/outbox.enqueueOutbound) and delivered from here, after commit, by every server
 * process.
 *
 *   1. claim: one statement takes due rows `FOR UPDATE SKIP LOCKED` (so two processes never
 *      take the same row), counts the attempt and pushes `next_attempt_at` forward as a lease: a
 *      process that dies mid-send leaves the row to be retried when the lease ends;
 *   2. send, outside any transaction (PGlite is one connection; nothing waits on the network while
 *      holding it);
 *   3. record, in a short transaction: sent, a retry time (full-jitter backoff, or the channel's
 *      Retry-After when longer), or failed, with a 'message.updated' event.
 *
 * Delivery is at least once: a send whose result could not be recorded (crash, lease ran out) is
 * repeated; receivers deduplicate by the message id (the API channel sends it as
 * X-Openlines-Delivery). Messages of one dialog in one batch go out in order; a message waiting
 * for a retry does not hold back later ones.
 *
 * The one base path for outbound sending (STYLE, after Chatwoot): it refuses private messages
 * (consultations, notes) and anything that came from the client (no echo loops), whatever queued it.
 */
export interface OutboxWorkerOptions {
  /** Rows claimed per round. */
  batchSize?: number;
  /** How long a claimed row stays invisible to other claimers. */
  leaseMs?: number;
  /** After this many failed attempts the message is failed. */
  maxAttempts?: number;
  /** A connector request is aborted after this long. */
  sendTimeoutMs?: number;
  /** Between rounds while there is work; defaults to ctx.config.workerPollMs. */
  pollMs?: number;
  /** The longest sleep when idle; defaults to ctx.config.workerIdleMs. */
  idleMs?: number;
  random?: RandomSource;
}

export interface OutboxRunReport {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
}

interface Claimed {
  id: number;
  accountId: string;
  attempts: number;
  payload: OutboxRowPayload;
  message: MessageRow | null;
  channel: ChannelRow | null;
  /** The traceparent of the step that queued it (tracing on): the delivery span links to it. */
  traceParent: string | null;
}

type Outcome =
  | { kind: 'sent'; externalId?: string }
  | { kind: 'retry'; error: ConnectorError }
  /** The platform refuses the channel's credentials: the row waits, uncounted, and the channel is failing. */
  | { kind: 'held'; reason: string }
  | { kind: 'failed'; reason: string; touchMessage: boolean; unreachable?: boolean };

/** A message held by a refused token is tried again after this long (or when the settings are saved). */
export const AUTH_HOLD_MS = 15 * 60 * 1000;

export const OUTBOX_DEFAULTS = {
  batchSize: 20,
  leaseMs: 5 * 60 * 1000,
  maxAttempts: 10,
  sendTimeoutMs: 10_000,
} as const;

function isDialogEvent(payload: OutboxRowPayload | null): payload is OutboxDialogEvent {
  return payload?.kind === 'dialog_start' || payload?.kind === 'dialog_finish';
}

function isChannelEvent(payload: OutboxRowPayload | null): payload is OutboxChannelEvent {
  return payload?.kind === 'channel_disconnected' || payload?.kind === 'line_deleted';
}

export class OutboxWorker {
  readonly #batchSize: number;
  readonly #leaseMs: number;
  readonly #maxAttempts: number;
  readonly #pollMs: number;
  readonly #random: RandomSource;
  readonly #io: ConnectorIo;
  readonly #loop: RoundLoop<OutboxRunReport>;
  #unsubscribe: (() => void) | null = null;
  /** After a round that claimed nothing: when the next pending row is due. */
  #nextDueAt: Date | null = null;

  constructor(
    private readonly ctx: AppContext,
    options: OutboxWorkerOptions = {},
  ) {
    this.#batchSize = options.batchSize ?? OUTBOX_DEFAULTS.batchSize;
    this.#leaseMs = options.leaseMs ?? OUTBOX_DEFAULTS.leaseMs;
    this.#maxAttempts = options.maxAttempts ?? OUTBOX_DEFAULTS.maxAttempts;
    this.#pollMs = options.pollMs ?? ctx.config.workerPollMs;
    this.#random = options.random ?? Math.random;
    this.#io = { clock: ctx.clock, timeoutMs: options.sendTimeoutMs ?? OUTBOX_DEFAULTS.sendTimeoutMs };
    const bounds = { pollMs: this.#pollMs, idleMs: options.idleMs ?? ctx.config.workerIdleMs };
    this.#loop = new RoundLoop({
      round: () => this.#round(),
      delayAfter: (report) =>
        claimRoundDelayMs(
          report?.claimed ?? null,
          this.#batchSize,
          this.#nextDueAt,
          this.ctx.clock.now(),
          bounds,
        ),
      onError: (error) => this.ctx.log.error({ err: error }, 'outbox round failed'),
    });
  }

  /**
   * Rounds every pollMs while there is work; idle, it sleeps until the next retry is due (at most
   * idleMs), and wakes at once when a pending message is created in any process.
   */
  start(): void {
    if (!this.#loop.start()) return;
    this.#unsubscribe = dispatcherOf(this.ctx).on('outboxWake', ({ event }) => {
      if (event.type === 'message.created' && event.data.message.deliveryState === 'pending')
        this.#loop.wake();
      // An operator's (or a bot's) edit or deletion may have queued a change for the channel.
      else if (
        event.type === 'message.updated' &&
        (event.data.message.authorKind === 'operator' || event.data.message.authorKind === 'bot') &&
        (event.data.message.editedAt || event.data.message.deletedAt)
      )
        this.#loop.wake();
      // A session of a channel that hears starts and ends may have queued one (services/dialog-lifecycle).
      else if (event.type === 'dialog.updated' && wantsDialogEvents(event.data.dialog.channelKind))
        this.#loop.wake();
      // A channel switched off, or its line deleted, may have queued its end (queueChannelEvents).
      else if (event.type === 'channel.changed' && !event.data.deleted) this.#loop.wake();
    });
  }

  /** Stops polling and waits for the round in progress to record its results. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    await this.#loop.stop();
  }

  /** One round: claim due rows, deliver them, record the results. Rounds never overlap. */
  runOnce(): Promise<OutboxRunReport> {
    return this.#loop.runOnce();
  }

  async #round(): Promise<OutboxRunReport> {
    const report: OutboxRunReport = { claimed: 0, sent: 0, retried: 0, failed: 0 };
    const claimed = await this.#claim();
    report.claimed = claimed.length;
    if (claimed.length === 0) {
      this.#nextDueAt = await nextPendingAttempt(this.ctx.store.db, 'outbox');
      return report;
    }
    // One dialog's messages in order; different dialogs side by side.
    const byDialog = new Map<string, Claimed[]>();
    for (const item of claimed) {
      const key =
        item.message?.dialog_id ??
        (isDialogEvent(item.payload) ? item.payload.dialogId : null) ??
        `row:${item.id}`;
      const list = byDialog.get(key) ?? [];
      list.push(item);
      byDialog.set(key, list);
    }
    await Promise.all(
      [...byDialog.values()].map(async (items) => {
        for (const item of items) {
          const kind = item.channel?.kind ?? 'deleted';
          await traced(
            this.ctx,
            'openlines.outbound.deliver',
            { 'openlines.channel.kind': kind, 'openlines.outbox.id': item.id },
            async (span) => {
              const outcome = await this.#deliver(item);
              span?.setAttribute('openlines.outbound.outcome', outcome.kind);
              try {
                await this.#record(item, outcome);
                const result = outcome.kind === 'retry' || outcome.kind === 'held' ? 'retried' : outcome.kind;
                report[result]++;
                this.ctx.telemetry?.outboundResult(kind, result);
                span?.setAttribute('openlines.outbound.result', result);
              } catch (error) {
                // The lease runs out and the row is claimed again: at least once, never lost.
                this.ctx.log.error({ err: error, outboxId: item.id }, 'outbox result not recorded');
              }
            },
            item.traceParent,
          );
        }
      }),
    );
    return report;
  }

  /**
   * One statement takes the due rows and starts their lease (`FOR UPDATE SKIP LOCKED` in a CTE,
   * evaluated once: two processes never take the same row); what they carry is read after it, outside
   * any transaction, since nobody else touches a leased row. An idle poll costs that one statement.
   */
  async #claim(): Promise<Claimed[]> {
    const now = this.ctx.clock.now();
    const leaseUntil = new Date(now.getTime() + this.#leaseMs);
    const { db } = this.ctx.store;
    const rows = await db
      .with('due', (qb) =>
        qb
          .selectFrom('outbox')
          .select('id')
          .where('state', '=', 'pending')
          .where('next_attempt_at', '<=', now)
          .orderBy('next_attempt_at')
          .orderBy('id')
          .limit(this.#batchSize)
          .forUpdate()
          .skipLocked(),
      )
      .updateTable('outbox')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), next_attempt_at: leaseUntil }))
      .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
      .returningAll()
      .execute();
    if (rows.length === 0) return [];
    const messageIds = rows.flatMap((r) => (r.message_id ? [r.message_id] : []));
    const channelIds = [...new Set(rows.map((r) => r.channel_id))];
    const messages =
      messageIds.length > 0
        ? await db.selectFrom('messages').selectAll().where('id', 'in', messageIds).execute()
        : [];
    const channels = await db.selectFrom('channels').selectAll().where('id', 'in', channelIds).execute();
    const messageById = new Map(messages.map((m) => [m.id, m]));
    const channelById = new Map(channels.map((c) => [c.id, c]));
    return rows
      .sort((a, b) => a.id - b.id)
      .map((row) => ({
        id: row.id,
        accountId: row.account_id,
        attempts: row.attempts,
        payload: row.payload as OutboxRowPayload,
        message: row.message_id ? (messageById.get(row.message_id) ?? null) : null,
        channel: channelById.get(row.channel_id) ?? null,
        traceParent: row.trace_parent,
      }));
  }

  /** Decides whether the row may be sent at all, then sends it. Never throws. */
  async #deliver(item: Claimed): Promise<Outcome> {
    const { message, channel } = item;
    if (isDialogEvent(item.payload)) return this.#deliverDialogEvent(item, item.payload);
    if (isChannelEvent(item.payload)) return this.#deliverChannelEvent(item, item.payload);
    const payload = item.payload as OutboxPayload | null;
    if (!payload?.message || !['message', 'edit', 'delete'].includes(payload.kind)) {
      return {
        kind: 'failed',
        reason: 'The outbox row carries nothing this worker can send',
        touchMessage: false,
      };
    }
    if (!message) return { kind: 'failed', reason: 'The message no longer exists', touchMessage: false };
    if (payload.kind !== 'message') return this.#deliverChange(item, payload.kind);
    if (message.deleted_at) {
      return { kind: 'failed', reason: 'The message was deleted before it was sent', touchMessage: false };
    }
    if (message.private) {
      return {
        kind: 'failed',
        reason: 'A private message is never sent to the channel',
        touchMessage: false,
      };
    }
    if (message.author_kind === 'client') {
      return {
        kind: 'failed',
        reason: "A client's message is not sent back to the channel it came from",
        touchMessage: false,
      };
    }
    // Sent before (a channel may since have reported it delivered or read): never twice.
    if (['sent', 'delivered', 'read'].includes(message.delivery_state)) return { kind: 'sent' };
    if (!channel) return { kind: 'failed', reason: 'The channel no longer exists', touchMessage: true };
    if (channel.status !== 'connected') {
      return { kind: 'failed', reason: 'The channel is disconnected', touchMessage: true };
    }
    const connector = findConnector(channel.kind);
    if (!connector) {
      return {
        kind: 'failed',
        reason: `No connector for channel kind "${channel.kind}"`,
        touchMessage: true,
      };
    }
    let runtime: ChannelRuntime;
    try {
      runtime = channelRuntime(this.ctx, channel);
    } catch (error) {
      this.ctx.log.error({ err: error, channelId: channel.id }, 'channel secrets unreadable');
      return {
        kind: 'failed',
        reason: "The channel's secrets cannot be read (was SECRET_KEY changed?); rotate them",
        touchMessage: true,
      };
    }
    try {
      const result = await connector.send(runtime, payload.message, this.#ioFor(channel, message));
      return result.externalId ? { kind: 'sent', externalId: result.externalId } : { kind: 'sent' };
    } catch (thrown) {
      const error = toConnectorError(thrown);
      this.ctx.log.warn(
        { outboxId: item.id, channelId: channel.id, code: error.code, attempt: item.attempts },
        'outbound delivery failed',
      );
      if (error.code === 'auth_revoked' && connector.holdsOutboxOnAuthFailure) {
        return { kind: 'held', reason: error.message };
      }
      if (error.permanent) {
        // The client blocked the bot (or is gone): the dialog shows it, and nothing is retried.
        const unreachable = error.code === 'recipient_unreachable';
        return { kind: 'failed', reason: error.message, touchMessage: true, unreachable };
      }
      if (item.attempts >= this.#maxAttempts) {
        return {
          kind: 'failed',
          reason: `Gave up after ${item.attempts} attempts: ${error.message}`,
          touchMessage: true,
        };
      }
      return { kind: 'retry', error };
    }
  }

  /**
   * An operator's edit or deletion of a message this channel was sent: the connector changes its
   * copy, found by the external id `send` returned. The message is read again (its send may have
   * been recorded in this same round); while it is still on its way the change waits for it.
   */
  async #deliverChange(item: Claimed, kind: 'edit' | 'delete'): Promise<Outcome> {
    const untouched = (reason: string): Outcome => ({ kind: 'failed', reason, touchMessage: false });
    const { channel } = item;
    const payload = item.payload as OutboxPayload;
    const message = await this.ctx.store.db
      .selectFrom('messages')
      .selectAll()
      .where('id', '=', item.message!.id)
      .executeTakeFirst();
    if (!message) return untouched('The message no longer exists');
    if (kind === 'edit' && message.deleted_at) return untouched('The message was deleted since');
    if (channel?.status !== 'connected') return untouched('The channel is disconnected');
    const connector = findConnector(channel.kind);
    const change = kind === 'edit' ? connector?.editSent : connector?.deleteSent;
    if (!connector || !change) return untouched(`The channel cannot ${kind} sent messages`);
    if (!message.external_id) {
      if (message.delivery_state === 'pending' && item.attempts < this.#maxAttempts) {
        return { kind: 'retry', error: toConnectorError(new Error('The message is not sent yet')) };
      }
      return untouched('The channel never confirmed the message, so there is nothing to change');
    }
    try {
      const runtime = channelRuntime(this.ctx, channel);
      await change.call(
        connector,
        runtime,
        message.external_id,
        payload.message,
        this.#ioFor(channel, message),
      );
      return { kind: 'sent' };
    } catch (thrown) {
      const error = toConnectorError(thrown);
      this.ctx.log.warn(
        { outboxId: item.id, channelId: channel.id, code: error.code, attempt: item.attempts },
        `outbound ${kind} failed`,
      );
      if (error.permanent || item.attempts >= this.#maxAttempts) return untouched(error.message);
      return { kind: 'retry', error };
    }
  }

  /**
   * A session's start or end for a channel that hears them (services/dialog-lifecycle): what the
   * connector needs is read now — the client's id on the channel, the integer ids, whether the
   * session is over. Failures are retried like a message's, and never touch a message.
   */
  async #deliverDialogEvent(item: Claimed, payload: OutboxDialogEvent): Promise<Outcome> {
    const untouched = (reason: string): Outcome => ({ kind: 'failed', reason, touchMessage: false });
    const { channel } = item;
    if (channel?.status !== 'connected') return untouched('The channel is disconnected');
    const connector = findConnector(channel.kind);
    if (!connector?.sendDialogEvent) return untouched(`The channel cannot hear dialog events`);
    const { db } = this.ctx.store;
    const facts = await db
      .selectFrom('sessions')
      .innerJoin('dialogs', 'dialogs.id', 'sessions.dialog_id')
      .innerJoin('client_identities', (join) =>
        join
          .onRef('client_identities.client_id', '=', 'dialogs.client_id')
          .onRef('client_identities.channel_id', '=', 'dialogs.channel_id'),
      )
      .select(['sessions.closed_at', 'dialogs.client_id', 'client_identities.external_id'])
      .where('sessions.id', '=', payload.sessionId)
      .where('dialogs.id', '=', payload.dialogId)
      .where('dialogs.channel_id', '=', channel.id)
      .executeTakeFirst();
    if (!facts) return untouched('The session no longer exists');
    const [dialog, session, client] = await numericIds(db, channel.account_id, [
      { kind: 'dialog', id: payload.dialogId },
      { kind: 'session', id: payload.sessionId },
      { kind: 'client', id: facts.client_id },
    ]);
    try {
      await connector.sendDialogEvent.call(
        connector,
        channelRuntime(this.ctx, channel),
        {
          kind: payload.kind,
          recipientId: facts.external_id,
          numbers: { dialog: dialog!, session: session!, client: client! },
          closed: facts.closed_at !== null,
        },
        this.#io,
      );
      return { kind: 'sent' };
    } catch (thrown) {
      const error = toConnectorError(thrown);
      this.ctx.log.warn(
        { outboxId: item.id, channelId: channel.id, code: error.code, attempt: item.attempts },
        `outbound ${payload.kind} failed`,
      );
      if (error.permanent || item.attempts >= this.#maxAttempts) return untouched(error.message);
      return { kind: 'retry', error };
    }
  }

  /**
   * The channel stopped serving (services/dialog-lifecycle queueChannelEvents): sent although the
   * channel is disconnected, since that is the news. Retried like a message; never touches one.
   */
  async #deliverChannelEvent(item: Claimed, payload: OutboxChannelEvent): Promise<Outcome> {
    const untouched = (reason: string): Outcome => ({ kind: 'failed', reason, touchMessage: false });
    const { channel } = item;
    if (!channel) return untouched('The channel no longer exists');
    const connector = findConnector(channel.kind);
    if (!connector?.sendChannelEvent) return untouched('The channel cannot hear channel events');
    try {
      await connector.sendChannelEvent.call(
        connector,
        channelRuntime(this.ctx, channel),
        { kind: payload.kind },
        this.#io,
      );
      return { kind: 'sent' };
    } catch (thrown) {
      const error = toConnectorError(thrown);
      this.ctx.log.warn(
        { outboxId: item.id, channelId: channel.id, code: error.code, attempt: item.attempts },
        `outbound ${payload.kind} failed`,
      );
      if (error.permanent || item.attempts >= this.#maxAttempts) return untouched(error.message);
      return { kind: 'retry', error };
    }
  }

  async #record(item: Claimed, outcome: Outcome): Promise<void> {
    if (outcome.kind === 'held') {
      const channel = item.channel!;
      await runInTransaction(this.ctx, async (uow) => {
        // Not an attempt that counts towards giving up: the messages wait for a working token.
        await uow.tx
          .updateTable('outbox')
          .set((eb) => ({
            attempts: eb('attempts', '-', 1),
            next_attempt_at: new Date(this.ctx.clock.now().getTime() + AUTH_HOLD_MS),
            last_error: outcome.reason,
          }))
          .where('id', '=', item.id)
          .where('state', '=', 'pending')
          .where('attempts', '=', item.attempts)
          .execute();
        await markChannelFailing(uow, channel, outcome.reason, this.ctx.clock.now());
      });
      return;
    }
    if (outcome.kind === 'retry') {
      // One row, one statement: no transaction needed.
      const delay = retryDelayMs(item.attempts, this.#random, outcome.error.retryAfterMs, OUTBOX_BACKOFF);
      await this.ctx.store.db
        .updateTable('outbox')
        .set({
          next_attempt_at: new Date(this.ctx.clock.now().getTime() + delay),
          last_error: outcome.error.message,
        })
        .where('id', '=', item.id)
        .where('state', '=', 'pending')
        .where('attempts', '=', item.attempts)
        .execute();
      return;
    }
    await runInTransaction(this.ctx, async (uow) => {
      const now = this.ctx.clock.now();
      const { tx } = uow;
      let outbox = tx
        .updateTable('outbox')
        .set({
          state: outcome.kind,
          last_error: outcome.kind === 'failed' ? outcome.reason : null,
          // Delivered or given up: the row keeps no copy of the message's content (docs/privacy.md).
          payload: retainedOutboxPayloadSql(),
        })
        .where('id', '=', item.id)
        .where('state', '=', 'pending');
      // A failure is ours to record only while we hold the lease; a delivery is a fact regardless.
      if (outcome.kind === 'failed') outbox = outbox.where('attempts', '=', item.attempts);
      const changed = await outbox.executeTakeFirst();
      if (outcome.kind === 'sent' && item.channel?.failure) await clearChannelFailure(uow, item.channel);
      // A change (edit, delete) leaves the message's own delivery state as it was.
      if (changed.numUpdatedRows === 0n || !item.message || item.payload.kind !== 'message') return;
      if (outcome.kind === 'failed' && !outcome.touchMessage) {
        this.ctx.log.warn({ outboxId: item.id, reason: outcome.reason }, 'outbound message refused');
        return;
      }
      const message = item.message;
      const update =
        outcome.kind === 'sent'
          ? {
              delivery_state: 'sent' as const,
              delivery_error: null,
              ...(outcome.externalId &&
              !message.external_id &&
              (await this.#externalIdFree(uow, message, outcome.externalId))
                ? { external_id: outcome.externalId }
                : {}),
            }
          : { delivery_state: 'failed' as const, delivery_error: outcome.reason };
      if (outcome.kind === 'failed' && outcome.unreachable) {
        const marked = await tx
          .updateTable('dialogs')
          .set({ unreachable_at: now })
          .where('id', '=', message.dialog_id)
          .where('unreachable_at', 'is', null)
          .executeTakeFirst();
        if (marked.numUpdatedRows > 0n) touchDialog(this.ctx, uow, item.accountId, message.dialog_id);
      }
      let messageUpdate = tx
        .updateTable('messages')
        .set(update)
        .where('id', '=', message.id)
        .where('delivery_state', '!=', update.delivery_state);
      // The channel may report it delivered before this result is recorded (a Bitrix24 connector
      // answers the event with send.status.delivery at once): never move it back to sent.
      if (outcome.kind === 'sent')
        messageUpdate = messageUpdate.where('delivery_state', 'not in', ['delivered', 'read']);
      const row = await messageUpdate.returningAll().executeTakeFirst();
      if (row) await this.#emitUpdated(uow, item.accountId, row);
    });
  }

  /**
   * What a connector may use while sending for this channel: our stored attachments' bytes, and
   * the client's message this one answers (for threading channels such as e-mail).
   */
  #ioFor(channel: ChannelRow, message: MessageRow): ConnectorIo {
    return {
      ...this.#io,
      answering: async () =>
        (await this.ctx.store.db
          .selectFrom('messages')
          .select(['external_id as externalId', 'text'])
          .where('dialog_id', '=', message.dialog_id)
          .where('author_kind', '=', 'client')
          .where('created_at', '<=', message.created_at)
          .orderBy('created_at', 'desc')
          .limit(1)
          .executeTakeFirst()) ?? null,
      numericIds: async () => {
        const [numbered, dialog] = await numericIds(this.ctx.store.db, channel.account_id, [
          { kind: 'message', id: message.id },
          { kind: 'dialog', id: message.dialog_id },
        ]);
        return { message: numbered!, dialog: dialog! };
      },
      readAttachment: async (attachment) => {
        const id = fileIdFromUrl(attachment.url);
        return id ? readFileOf(this.ctx, this.ctx.store.db, channel.account_id, id) : null;
      },
    };
  }

  async #externalIdFree(uow: UnitOfWork, message: MessageRow, externalId: string): Promise<boolean> {
    const taken = await uow.tx
      .selectFrom('messages')
      .select('id')
      .where('channel_id', '=', message.channel_id)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
    if (taken) {
      this.ctx.log.warn({ messageId: message.id }, 'the channel returned an external id already in use');
    }
    return !taken;
  }

  async #emitUpdated(uow: UnitOfWork, accountId: string, row: MessageRow): Promise<void> {
    emitMessage(this.ctx, uow, 'message.updated', presentMessage(row), accountId);
  }
}
