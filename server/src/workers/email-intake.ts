import { randomUUID } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { inboundItemsOf } from '../channels/email/inbound';
import { type EmailPayload, parseMail, startsThread } from '../channels/email/mime';
import type { EmailPublicSettings } from '../channels/email/settings';
import { imapClient } from '../channels/email/transport';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import { receiveDelivery } from '../services/channel-inbound';
import { channelRuntime } from '../services/channels';
import { clientOfAnsweredMail, endSessionForNewThread } from '../services/threads';
import { acquireLease, releaseLease } from '../store/channel-state';
import { type EmailState, loadEmailState, saveEmailProgress } from '../store/email-state';
import type { ChannelRow } from '../store/schema';

/**
 * How mail reaches the server (issue 15), in every process, for each connected e-mail channel
 * whose lease this process holds (one reader per mailbox; another process takes over when the
 * lease runs out):
 *
 *   poll   log in, open the folder, fetch every mail with a UID above the last one committed
 *          (the first time, and after a UIDVALIDITY change, the unseen ones), and for each, in UID
 *          order: parse it (mime.ts) → a mail that answers nothing ends the client's open session
 *          (services/threads.ts), so it opens a new one in the same dialog; one that answers a mail
 *          of ours goes to that mail's client, whatever address it comes from → commit it through the generic inbound path
 *          (`receiveDelivery`, deduplicated by Message-ID) → flag it \Seen on the server → save
 *          its UID in channel_state. A crash between commit and save takes the mail again and
 *          finds it stored; nothing is flagged before it is committed.
 *   idle   a second connection per mailbox this process reads stays IDLE in the folder; new mail
 *          (EXISTS) starts a round at once
 *   loop   every `pollMs` as well (the fallback when IDLE is not possible), with exponential backoff after failures (an unreachable server, a
 *          changed password: the error is kept in channel_state.lastError and logged).
 *
 * Tests drive it without timers: `pollOnce(channelId)`.
 */
export interface EmailWorkerOptions {
  pollMs?: number;
  leaseMs?: number;
  owner?: string;
  timeoutMs?: number;
}

export interface EmailPollReport {
  received: number;
  stored: number;
  duplicates: number;
  ignored: number;
  lastUid: number | undefined;
  /** False when this process may not read the channel (disconnected, lease elsewhere). */
  polled: boolean;
}

export const EMAIL_DEFAULTS = { pollMs: 30_000, leaseMs: 120_000, timeoutMs: 30_000 } as const;
const MAX_BACKOFF_MS = 10 * 60_000;

export class EmailIntakeWorker {
  readonly #owner: string;
  readonly #pollMs: number;
  readonly #leaseMs: number;
  readonly #timeoutMs: number;
  readonly #leased = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #nextAt = new Map<string, number>();
  #live = false;
  #timer: NodeJS.Timeout | null = null;
  #round: Promise<unknown> = Promise.resolve();
  #running = false;
  #woken = false;
  readonly #watchers = new Map<string, ImapFlow>();
  readonly #idling = new Set<string>();

  constructor(
    private readonly ctx: AppContext,
    options: EmailWorkerOptions = {},
  ) {
    this.#owner = options.owner ?? randomUUID();
    this.#pollMs = options.pollMs ?? EMAIL_DEFAULTS.pollMs;
    this.#leaseMs = options.leaseMs ?? EMAIL_DEFAULTS.leaseMs;
    this.#timeoutMs = options.timeoutMs ?? EMAIL_DEFAULTS.timeoutMs;
  }

  start(): void {
    if (this.#live) return;
    this.#live = true;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#live = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#round;
    await Promise.all([...this.#watchers.keys()].map((id) => this.#unwatch(id)));
    for (const channelId of this.#leased) await this.#release(channelId);
  }

  /** A round is running or due at once (tests wait for quiet before proving that IDLE wakes it). */
  get busy(): boolean {
    return this.#running || this.#woken;
  }

  /** Channels whose folder this process watches with IMAP IDLE now. */
  get watching(): string[] {
    return [...this.#idling];
  }

  #schedule(delayMs: number): void {
    if (!this.#live) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#running = true;
      const run = this.#pollAll()
        .catch((error: unknown) => this.ctx.log.error({ err: error }, 'email polling failed'))
        .finally(() => {
          this.#running = false;
          const again = this.#woken;
          this.#woken = false;
          this.#schedule(again ? 0 : this.#pollMs);
        });
      this.#round = run;
    }, delayMs);
    this.#timer.unref();
  }

  /** New mail announced by IDLE: a round now (or right after the one running). */
  #wake(): void {
    if (!this.#live) return;
    if (this.#running) this.#woken = true;
    else this.#schedule(0);
  }

  async #pollAll(): Promise<void> {
    const channels = await this.ctx.store.db
      .selectFrom('channels')
      .selectAll()
      .where('kind', '=', 'email')
      .where('status', '=', 'connected')
      // A suspended account's mailbox is left as it is: its mail is read once it is resumed.
      .where('account_suspended', '=', false)
      .execute();
    const present = new Set(channels.map((c) => c.id));
    for (const id of this.#watchers.keys()) if (!present.has(id)) await this.#unwatch(id);
    const now = this.ctx.clock.now().getTime();
    for (const channel of channels) {
      const id = channel.id;
      if (!this.#live) return;
      if ((this.#nextAt.get(id) ?? 0) > now) continue;
      try {
        const report = await this.pollOnce(id);
        this.#failures.delete(id);
        this.#nextAt.delete(id);
        if (report.polled) await this.#watch(channel);
        else await this.#unwatch(id);
      } catch (error) {
        await this.#unwatch(id);
        const failures = (this.#failures.get(id) ?? 0) + 1;
        this.#failures.set(id, failures);
        const delay = Math.min(this.#pollMs * 2 ** (failures - 1), MAX_BACKOFF_MS);
        this.#nextAt.set(id, now + delay);
        this.ctx.log.warn(
          { channelId: id, err: error instanceof Error ? error.message : String(error), retryInMs: delay },
          'email mailbox not read',
        );
      }
    }
  }

  /**
   * Keeps a second connection IDLE in the channel's folder (imapflow re-issues IDLE before the
   * server's limit; without IDLE it polls with NOOP): an EXISTS wakes the worker at once. Reading
   * stays with `pollOnce`; when this connection drops, the next round opens it again.
   */
  async #watch(channel: ChannelRow): Promise<void> {
    if (!this.#live || this.#watchers.has(channel.id)) return;
    const settings = channel.settings as EmailPublicSettings;
    const imap = this.#client(channel, settings);
    this.#watchers.set(channel.id, imap);
    imap.on('exists', () => this.#wake());
    imap.on('close', () => {
      if (this.#watchers.get(channel.id) !== imap) return;
      this.#watchers.delete(channel.id);
      this.#idling.delete(channel.id);
    });
    try {
      await imap.connect();
      await imap.mailboxOpen(settings.imapFolder, { readOnly: true });
      // IDLE at once (imapflow's own auto-IDLE starts only after 15 s without commands).
      imap
        .idle()
        .catch((error: unknown) =>
          this.ctx.log.debug({ channelId: channel.id, err: String(error) }, 'email IDLE ended'),
        );
      this.#idling.add(channel.id);
      // Mail that arrived between the round and this connection's EXAMINE raised no EXISTS.
      this.#wake();
    } catch (error) {
      this.ctx.log.debug({ channelId: channel.id, err: String(error) }, 'email IDLE not started');
      await this.#unwatch(channel.id);
    }
  }

  async #unwatch(channelId: string): Promise<void> {
    const imap = this.#watchers.get(channelId);
    if (!imap) return;
    this.#watchers.delete(channelId);
    this.#idling.delete(channelId);
    await imap.logout().catch(() => imap.close());
  }

  async #release(channelId: string): Promise<void> {
    this.#leased.delete(channelId);
    await releaseLease(this.ctx.store.db, channelId, this.#owner, this.ctx.clock.now()).catch(
      (error: unknown) => this.ctx.log.warn({ err: error, channelId }, 'email lease not released'),
    );
  }

  /** One round for a channel: every new mail committed, flagged and its UID saved, in order. */
  async pollOnce(channelId: string): Promise<EmailPollReport> {
    const report: EmailPollReport = {
      received: 0,
      stored: 0,
      duplicates: 0,
      ignored: 0,
      lastUid: undefined,
      polled: false,
    };
    const db = this.ctx.store.db;
    const channel = await db
      .selectFrom('channels')
      .selectAll()
      .where('id', '=', channelId)
      .executeTakeFirst();
    if (
      channel?.kind !== 'email' ||
      channel.status !== 'connected' ||
      !channel.line_id ||
      channel.account_suspended
    )
      return report;
    const state = await acquireLease<EmailState>(
      db,
      channelId,
      this.#owner,
      this.ctx.clock.now(),
      this.#leaseMs,
    );
    if (!state) return report;
    this.#leased.add(channelId);
    report.polled = true;
    const settings = channel.settings as EmailPublicSettings;
    const mailbox = `${settings.imapUser}@${settings.imapHost}:${settings.imapPort}/${settings.imapFolder}`;
    const imap = this.#client(channel, settings);
    try {
      await imap.connect();
      const lock = await imap.getMailboxLock(settings.imapFolder);
      try {
        const opened = imap.mailbox;
        if (!opened) throw new Error('the folder did not open');
        const uidValidity = String(opened.uidValidity);
        const known = state.mailbox === mailbox && state.uidValidity === uidValidity;
        let lastUid = known ? (state.lastUid ?? 0) : 0;
        report.lastUid = known ? state.lastUid : undefined;
        // First contact, or the folder was recreated: the unseen mail is new to us.
        const uids = known
          ? ((await imap.search({ uid: `${lastUid + 1}:*` }, { uid: true })) || []).filter(
              (uid) => uid > lastUid,
            )
          : (await imap.search({ seen: false }, { uid: true })) || [];
        uids.sort((a, b) => a - b);
        report.received = uids.length;
        for (const uid of uids) {
          const fetched = await imap.fetchOne(String(uid), { source: true, uid: true }, { uid: true });
          if (fetched === false || !fetched.source) continue;
          const payload = await this.#threaded(
            channel,
            await parseMail(fetched.source, { uidValidity, uid }),
          );
          let results: Awaited<ReturnType<typeof receiveDelivery>>;
          try {
            const message = inboundItemsOf(payload)[0]?.message;
            if (message && startsThread(payload)) {
              await endSessionForNewThread(this.ctx, channel, message.user.id, message.externalId);
            }
            results = await receiveDelivery(this.ctx, channel, payload);
          } catch (error) {
            if (error instanceof AppError && error.code === 'not_found') {
              report.polled = false; // disconnected meanwhile: the mail stays for a reconnect
              return report;
            }
            throw error;
          }
          for (const result of results) {
            if (result.outcome === 'stored') report.stored++;
            else if (result.outcome === 'duplicate') report.duplicates++;
            else report.ignored++;
          }
          await imap.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
          lastUid = Math.max(lastUid, uid);
          const saved = await saveEmailProgress(db, channelId, this.#owner, this.ctx.clock.now(), {
            mailbox,
            uidValidity,
            lastUid,
            lastError: null,
          });
          report.lastUid = lastUid;
          if (!saved) {
            report.polled = false;
            return report;
          }
        }
        if (!known || state.lastError) {
          // Remember the mailbox even when it had nothing unseen, so later mail is found by UID.
          await saveEmailProgress(db, channelId, this.#owner, this.ctx.clock.now(), {
            mailbox,
            uidValidity,
            lastUid: Math.max(lastUid, uids.length === 0 ? Number(opened.uidNext) - 1 : lastUid),
            lastError: null,
          });
        }
      } finally {
        lock.release();
      }
      await imap.logout();
    } catch (error) {
      imap.close();
      const message = error instanceof Error ? error.message : String(error);
      await saveEmailProgress(db, channelId, this.#owner, this.ctx.clock.now(), { lastError: message }).catch(
        () => {},
      );
      throw error;
    }
    return report;
  }

  /** A reply to one of our mails is its client's, even from another of their addresses. */
  async #threaded(channel: ChannelRow, mail: EmailPayload): Promise<EmailPayload> {
    if (!mail.from || mail.automatic) return mail;
    const answered = [...(mail.inReplyTo ? [mail.inReplyTo] : []), ...mail.references];
    const client = await clientOfAnsweredMail(this.ctx, channel, answered);
    return client && client !== mail.from.address
      ? { ...mail, from: { ...mail.from, address: client } }
      : mail;
  }

  /** The channel's last reading error (null: reading works), from channel_state. */
  async lastErrorOf(channelId: string): Promise<string | null> {
    return (await loadEmailState(this.ctx.store.db, channelId)).lastError ?? null;
  }

  #client(channel: ChannelRow, settings: EmailPublicSettings): ImapFlow {
    const secrets = channelRuntime(this.ctx, channel).secrets;
    const imap = imapClient(
      { settings, imapPassword: secrets.imapPassword ?? '', smtpPassword: secrets.smtpPassword },
      this.#timeoutMs,
    );
    imap.on('error', (error: unknown) =>
      this.ctx.log.debug({ channelId: channel.id, err: String(error) }, 'imap connection error'),
    );
    return imap;
  }
}
