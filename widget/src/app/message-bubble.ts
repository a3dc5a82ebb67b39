import type { Attachment, VisitorMessage } from '@openlines/contract';
import type { PendingMessage } from './conversation';
import { face, formatBytes, h, icon, safeUrl } from './dom';
import type { Texts } from './i18n';

/** Shown as pictures in the bubble; every other file is a link with its name and size. */
const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** What a bubble needs besides its message: the words, and the language its time is written in. */
export interface BubbleContext {
  texts: Texts;
  lang: string;
}

function timeOf(iso: string, lang: string): string {
  return new Date(iso).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
}

function attachmentsEl(attachments: Attachment[]) {
  if (attachments.length === 0) return null;
  return h(
    'div',
    { class: 'files' },
    ...attachments.map((attachment) => {
      const url = safeUrl(attachment.url);
      if (!url) return null;
      if (INLINE_IMAGES.has(attachment.mimeType)) {
        return h(
          'a',
          { href: url, target: '_blank', rel: 'noopener noreferrer' },
          h('img', { src: url, alt: attachment.name, loading: 'lazy' }),
        );
      }
      return h(
        'a',
        { href: url, target: '_blank', rel: 'noopener noreferrer', class: 'file' },
        icon('file'),
        `${attachment.name} (${formatBytes(attachment.size)})`,
      );
    }),
  );
}

/** A stored message: the visitor's on the right with a tick, an operator's or bot's with their name, a system one centred. */
export function messageBubble(
  message: VisitorMessage,
  { texts: t, lang }: BubbleContext,
  /** Shows the message's quick replies (a bot's buttons) as buttons that send their reply. */
  onQuickReply?: (reply: string) => void,
): HTMLElement {
  if (message.author === 'system') {
    return h(
      'div',
      { class: 'msg sys' },
      h('div', { class: 'bubble' }, message.text ?? ''),
      attachmentsEl(message.attachments),
    );
  }
  const mine = message.author === 'visitor';
  return h(
    'div',
    { class: `msg ${mine ? 'me' : 'op'}` },
    // An operator's or bot's photo when they are shown with one; the initial if it does not load.
    !mine && message.avatarUrl ? face(message.avatarUrl, message.name, 'face') : null,
    h(
      'div',
      { class: 'bubble' },
      !mine && message.name ? h('span', { class: 'name' }, message.name) : null,
      message.deleted ? h('span', { class: 'text deleted' }, t.deleted) : null,
      !message.deleted && message.text ? h('span', { class: 'text' }, message.text) : null,
      message.deleted ? null : attachmentsEl(message.attachments),
      h(
        'span',
        { class: 'meta' },
        timeOf(message.createdAt, lang),
        message.editedAt && !message.deleted ? h('span', { class: 'edited' }, ` · ${t.edited}`) : null,
        mine ? h('span', { class: 'state', title: t.sent, 'aria-label': t.sent }, ' ✓') : null,
      ),
    ),
    onQuickReply && !message.deleted
      ? h(
          'div',
          { class: 'quick' },
          ...message.quickReplies.map((quick) =>
            h(
              'button',
              { type: 'button', class: 'quick-reply', onclick: () => onQuickReply(quick.reply) },
              quick.title,
            ),
          ),
        )
      : null,
  );
}

/** A message not stored yet: its state, and for a refused one the reason with Retry and Remove. */
export function pendingBubble(
  item: PendingMessage,
  { texts: t, lang }: BubbleContext,
  actions: { retry(item: PendingMessage): void; discard(item: PendingMessage): void },
): HTMLElement {
  const label = item.state === 'failed' ? t.failed : item.state === 'sending' ? t.sending : t.queued;
  return h(
    'div',
    { class: `msg me ${item.state}` },
    h(
      'div',
      { class: 'bubble' },
      item.text ? h('span', { class: 'text' }, item.text) : null,
      attachmentsEl(item.attachments),
      h(
        'span',
        { class: 'meta' },
        timeOf(item.createdAt, lang),
        h(
          'span',
          { class: 'state', title: label, 'aria-label': label },
          item.state === 'failed' ? ' !' : ' …',
        ),
      ),
      item.state === 'failed'
        ? h(
            'span',
            { class: 'fail' },
            item.error ?? t.failed,
            ' ',
            h('button', { type: 'button', class: 'link', onclick: () => actions.retry(item) }, t.retry),
            ' ',
            h('button', { type: 'button', class: 'link', onclick: () => actions.discard(item) }, t.remove),
          )
        : null,
    ),
  );
}
