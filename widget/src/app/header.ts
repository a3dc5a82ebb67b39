import type { VisitorSession } from '@openlines/contract';
import { face, h } from './dom';
import type { Texts } from './i18n';

/** The server repeats a typing frame while the operator types; after this long without one they stopped. */
const TYPING_SHOWN_MS = 5000;

export interface HeaderState {
  session: VisitorSession;
  /** A socket exists and is not up. */
  reconnecting: boolean;
}

export interface Header {
  head: HTMLElement;
  banner: HTMLElement;
  typing: HTMLElement;
  render(): void;
  /** A typing frame came: "Operator is typing…" until the frames stop. */
  showTyping(): void;
  /** Their message came: they are no longer typing it. */
  stopTyping(): void;
}

/**
 * The panel's header and the two lines that, like it, say how the other side is: who answers
 * (their avatar and name, or the line's status), the offline banner, and the typing notice.
 */
export function createHeader(options: {
  texts: Texts;
  title: string;
  onClose(): void;
  read(): HeaderState;
}): Header {
  const { texts: t, title } = options;
  const avatarEl = h('span', { class: 'avatar', 'aria-hidden': 'true' });
  const statusEl = h('p', { class: 'status' });
  const head = h(
    'header',
    { class: 'head' },
    avatarEl,
    h('div', { class: 'who' }, h('h2', { id: 'ol-title' }, title), statusEl),
    h(
      'button',
      { type: 'button', class: 'x', 'aria-label': t.closeChat, onclick: () => options.onClose() },
      '×',
    ),
  );
  const banner = h('p', { class: 'banner', role: 'status', hidden: true });
  const typing = h('p', { class: 'typing', 'aria-live': 'polite' });
  let typingUntil = 0;

  function render(): void {
    const { session, reconnecting } = options.read();
    const operator = session.operator;
    // The operator's photo as the line shows them; the initial without one or when it does not load.
    const shown = face(operator?.avatarUrl, operator?.name || title, 'photo');
    avatarEl.replaceChildren(...(shown ? [shown] : []));
    statusEl.textContent =
      !navigator.onLine || reconnecting
        ? t.reconnecting
        : operator?.name
          ? operator.name
          : session.status === 'active'
            ? t.online
            : t.waiting;
    banner.hidden = navigator.onLine;
    banner.textContent = t.offline;
    typing.textContent = Date.now() < typingUntil ? t.typing : '';
  }

  return {
    head,
    banner,
    typing,
    render,
    showTyping() {
      typingUntil = Date.now() + TYPING_SHOWN_MS;
      setTimeout(render, TYPING_SHOWN_MS + 50);
    },
    stopTyping() {
      typingUntil = 0;
    },
  };
}
