import type { WidgetSendResult } from '@openlines/contract';
import type { Answer, Api, Problem } from './api';
import type { Conversation } from './conversation';
import type { Texts } from './i18n';

/** After a dropped request while the browser says it is online: soon, but not in a tight loop. */
const NETWORK_RETRY_MS = 3000;

export interface OutboxEvents {
  /** A pending message changed state: the log redraws it (and nothing else, so a form keeps its text). */
  changed(): void;
  /** A message was stored: everything that depends on the conversation redraws. */
  delivered(): void;
  /** The server no longer knows the token: a new conversation starts, and the queue goes there. */
  restart(): Promise<void>;
  notify(text: string): void;
}

/**
 * Sends the messages written here to the server, one at a time in the order written, so they are
 * stored in that order. Each carries its client message id, so a retry after a lost answer is
 * stored once. Busy or overloaded servers are retried later; a refusal leaves the message with
 * Retry and Remove.
 */
export class Outbox {
  private flushing = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly api: Api,
    private readonly conversation: Conversation,
    private readonly texts: Texts,
    /** Without a token there is no conversation to send to yet; `start` flushes once there is. */
    private readonly hasToken: () => boolean,
    private readonly events: OutboxEvents,
  ) {}

  async flush(): Promise<void> {
    if (this.flushing || !this.hasToken()) return;
    this.flushing = true;
    try {
      for (;;) {
        const item = this.conversation.nextToSend();
        if (!item) return;
        item.state = 'sending';
        this.events.changed();
        let answer: Answer<WidgetSendResult & Problem>;
        try {
          answer = await this.api.call<WidgetSendResult & Problem>('POST', '/messages', {
            clientMessageId: item.clientMessageId,
            ...(item.text ? { text: item.text } : {}),
            ...(item.attachments.length ? { attachments: item.attachments } : {}),
          });
        } catch {
          item.state = 'queued';
          this.events.changed();
          // Offline, the `online` event flushes again; online, the request itself was lost.
          if (navigator.onLine) this.later(NETWORK_RETRY_MS);
          return;
        }
        if (answer.ok) {
          this.conversation.delivered(item, answer.body.message);
          this.events.delivered();
          continue;
        }
        if (answer.status === 401) {
          item.state = 'queued';
          // The new conversation's start flushes the queue itself.
          this.flushing = false;
          await this.events.restart();
          return;
        }
        if (answer.status === 429 || answer.status >= 500) {
          item.state = 'queued';
          this.events.changed();
          if (answer.status === 429) this.events.notify(this.texts.tooMany);
          this.later(Math.max(1, answer.retryAfter || 3) * 1000);
          return;
        }
        this.conversation.refused(item, answer.body?.detail ?? this.texts.failed);
        this.events.changed();
      }
    } finally {
      this.flushing = false;
    }
  }

  /** One timer at most: several failures in a row do not multiply the retries. */
  private later(ms: number): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.flush();
    }, ms);
  }
}
