import type { Conversation, PendingMessage } from './conversation';
import { h } from './dom';
import { type BubbleContext, messageBubble, pendingBubble } from './message-bubble';

/** Within this many pixels of the end the visitor is reading the newest: new messages scroll into view. */
const FOLLOW_PX = 80;

/** A row of the log: rebuilt only when `sig` (its content) changed, so images do not reload. */
interface Row {
  key: string;
  sig: string;
  build: () => HTMLElement;
}

export interface MessageList {
  /** The scrolling log, with the "older messages" button on top. */
  element: HTMLElement;
  render(): void;
  /** History came from before: what the visitor was reading stays where it was on screen. */
  renderOlder(): void;
  scrollToEnd(): void;
}

/**
 * The log: the conversation's stored messages, then the pending ones, kept in order by moving and
 * replacing only the rows that changed; a screen reader hears new ones (`aria-live`).
 */
export function createMessageList(options: {
  bubble: BubbleContext;
  conversation: Conversation;
  onOlder(): void;
  onRetry(item: PendingMessage): void;
  onDiscard(item: PendingMessage): void;
  /** A quick reply (a bot's button) was chosen: it is sent as the visitor's message. */
  onQuickReply(reply: string): void;
  /** The line's welcome (AA-1), shown until the first message; the server's welcome follows it. */
  greeting: string | null;
  /**
   * Whether an empty conversation is known to be empty: a returning visitor's history is read
   * first, so the greeting does not flash before it.
   */
  knownEmpty(): boolean;
}): MessageList {
  const { bubble, conversation } = options;
  const actions = { retry: options.onRetry, discard: options.onDiscard };
  const more = h(
    'button',
    { type: 'button', class: 'more', hidden: true, onclick: () => options.onOlder() },
    '↑',
  );
  const list = h('div', { class: 'list' });
  const log = h(
    'div',
    { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': bubble.texts.messages, tabindex: 0 },
    more,
    list,
  );
  const rows = new Map<string, { sig: string; el: HTMLElement }>();

  function render(): void {
    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < FOLLOW_PX;
    const shown = conversation.shown();
    // Buttons belong to the newest message only, while nothing was written after it.
    const last = shown.at(-1);
    const buttonsOn =
      last && last.author !== 'visitor' && last.quickReplies.length > 0 && conversation.pending.length === 0
        ? last.id
        : null;
    const greeting = conversation.isEmpty && options.knownEmpty() ? options.greeting : null;
    const wanted: Row[] = [
      ...(greeting
        ? [
            {
              key: 'greeting',
              sig: greeting,
              build: () =>
                h(
                  'div',
                  { class: 'msg op greeting' },
                  h('div', { class: 'bubble' }, h('span', { class: 'text' }, greeting)),
                ),
            },
          ]
        : []),
      ...shown.map((message) => ({
        key: message.id,
        sig: `${message.id === buttonsOn ? 'q' : ''}${JSON.stringify(message)}`,
        build: () =>
          messageBubble(message, bubble, message.id === buttonsOn ? options.onQuickReply : undefined),
      })),
      ...conversation.pending.map((item) => ({
        key: `p:${item.clientMessageId}`,
        sig: JSON.stringify(item),
        build: () => pendingBubble(item, bubble, actions),
      })),
    ];
    const keep = new Set(wanted.map((row) => row.key));
    for (const [key, row] of rows) {
      if (!keep.has(key)) {
        row.el.remove();
        rows.delete(key);
      }
    }
    wanted.forEach((row, index) => {
      let current = rows.get(row.key);
      if (!current || current.sig !== row.sig) {
        const el = row.build();
        current?.el.replaceWith(el);
        current = { sig: row.sig, el };
        rows.set(row.key, current);
      }
      if (list.children[index] !== current.el) list.insertBefore(current.el, list.children[index] ?? null);
    });
    more.hidden = !conversation.hasMore;
    if (nearBottom) log.scrollTop = log.scrollHeight;
  }

  return {
    element: log,
    render,
    renderOlder() {
      const height = log.scrollHeight;
      render();
      log.scrollTop = log.scrollHeight - height;
    },
    scrollToEnd() {
      log.scrollTop = log.scrollHeight;
    },
  };
}
