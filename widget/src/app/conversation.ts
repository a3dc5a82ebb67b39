import type { Attachment, VisitorMessage, VisitorSession, WidgetConversation } from '@openlines/contract';

/** A message written here and not yet stored by the server (offline, or on its way). */
export interface PendingMessage {
  clientMessageId: string;
  text: string;
  attachments: Attachment[];
  createdAt: string;
  state: 'queued' | 'sending' | 'failed';
  error?: string;
}

/** Before the first answer from the server: nobody asked anything, nobody answers yet. */
export const NO_SESSION: VisitorSession = {
  status: 'none',
  operator: null,
  consentPending: false,
  ratingPending: false,
  ratingAllowed: false,
};

/** The id a message is sent with: the server stores a message once per id, however often it is retried. */
export function newClientMessageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The conversation as the visitor sees it: the server's messages, the ones written here and not
 * stored yet, and the session's state. No DOM and no network: the views read it, the connection
 * and the outbox change it. `savePending` is called whenever the pending messages change in a way
 * a reload must not lose.
 */
export class Conversation {
  session: VisitorSession = NO_SESSION;
  /** Older messages exist on the server: the log offers to load them. */
  hasMore = false;
  /** The server's conversation has been read at least once (see `replace`). */
  historyRead = false;
  /**
   * AG-2, consent first: the line requires consent and the visitor has not decided yet (the
   * server refuses their messages until they do). null until the server has said.
   */
  consentNeeded: boolean | null = null;
  pending: PendingMessage[];
  private readonly messages = new Map<string, VisitorMessage>();
  /** Arrival order, for messages with the same timestamp; older pages get numbers below every other. */
  private readonly order = new Map<string, number>();
  private seq = 0;

  constructor(
    pending: PendingMessage[],
    private readonly savePending: (pending: readonly PendingMessage[]) => void,
  ) {
    this.pending = pending;
  }

  /** Nothing to show at all: outside working hours this is when the offline form replaces the composer. */
  get isEmpty(): boolean {
    return this.messages.size === 0 && this.pending.length === 0;
  }

  /** Adds or updates a message; true when it is new. Stored means no longer pending. */
  upsert(message: VisitorMessage): boolean {
    const known = this.messages.has(message.id);
    if (!known) this.order.set(message.id, this.seq++);
    this.messages.set(message.id, message);
    if (message.clientMessageId) {
      const before = this.pending.length;
      this.pending = this.pending.filter((p) => p.clientMessageId !== message.clientMessageId);
      if (this.pending.length !== before) this.savePending(this.pending);
    }
    return !known;
  }

  /** The whole conversation from the server (a start, an identify) replaces what was shown. */
  replace(conversation: WidgetConversation): void {
    this.historyRead = true;
    this.messages.clear();
    this.order.clear();
    for (const message of conversation.messages) this.upsert(message);
    this.session = conversation.session;
    this.hasMore = conversation.hasMore;
    this.consentNeeded = conversation.consentNeeded;
  }

  /** A page of history from before everything shown. */
  addOlder(messages: VisitorMessage[], hasMore: boolean): void {
    for (const message of messages) {
      this.order.set(message.id, -1e6 + this.seq++);
      this.messages.set(message.id, message);
    }
    this.hasMore = hasMore;
  }

  /** The messages the log shows, oldest first; erased ones (no text, no files) are left out, deleted ones say so. */
  shown(): VisitorMessage[] {
    return [...this.messages.values()]
      .sort(
        (a, b) =>
          a.createdAt.localeCompare(b.createdAt) || (this.order.get(a.id) ?? 0) - (this.order.get(b.id) ?? 0),
      )
      .filter((m) => m.deleted || m.text || m.attachments.length > 0);
  }

  /** Where the next page of history ends: the oldest message known, shown or not. */
  oldest(): VisitorMessage | undefined {
    return [...this.messages.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
  }

  /** The newest system message of a kind (`consent_request`, `rating_request`, …). */
  latest(systemKind: string): VisitorMessage | undefined {
    let found: VisitorMessage | undefined;
    for (const message of this.messages.values()) {
      if (message.systemKind === systemKind && (!found || message.createdAt >= found.createdAt)) {
        found = message;
      }
    }
    return found;
  }

  queue(text: string, attachments: Attachment[]): void {
    this.pending.push({
      clientMessageId: newClientMessageId(),
      text,
      attachments,
      createdAt: new Date().toISOString(),
      state: 'queued',
    });
    this.savePending(this.pending);
  }

  /** The next message to send, in the order written; refused ones wait for Retry. */
  nextToSend(): PendingMessage | undefined {
    return this.pending.find((p) => p.state !== 'failed');
  }

  delivered(item: PendingMessage, message: VisitorMessage): void {
    this.upsert(message);
    this.pending = this.pending.filter((p) => p !== item);
    this.savePending(this.pending);
  }

  refused(item: PendingMessage, error: string): void {
    item.state = 'failed';
    item.error = error;
    this.savePending(this.pending);
  }

  retry(item: PendingMessage): void {
    item.state = 'queued';
    delete item.error;
    this.savePending(this.pending);
  }

  discard(item: PendingMessage): void {
    this.pending = this.pending.filter((p) => p !== item);
    this.savePending(this.pending);
  }

  /**
   * `Openlines.reset()`: nothing of this visitor stays. The storage is cleared by its owner, so
   * nothing is saved here; `hasMore` is not touched, the next start sets it.
   */
  forget(): void {
    this.pending = [];
    this.messages.clear();
    this.session = NO_SESSION;
    this.consentNeeded = null;
  }
}
