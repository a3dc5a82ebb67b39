import type { Attachment, VisitorServerFrame, WidgetHistory } from '@openlines/contract';
import type { AppHandle, Host } from '../host';
import { Api } from './api';
import { createComposer } from './composer';
import { Connection } from './connection';
import { Conversation } from './conversation';
import { h } from './dom';
import { createHeader } from './header';
import { textsFor } from './i18n';
import { createMessageList } from './message-list';
import { createNotice } from './notice';
import { Outbox } from './outbox';
import { createPrompts } from './prompts';
import { VisitorStorage } from './visitor-storage';

/** The contract's `WIDGET_PAGE_URL_LENGTH`, copied: importing it would bundle the contract's schemas. */
const PAGE_URL_MAX = 2048;

/**
 * The chat panel: history, live updates, an offline-proof outbox, and the line's prompts. This puts
 * the parts together — the conversation and what survives a reload, the connection and the outbox
 * that talk to the server, and the views that draw them — and is the handle the loader drives.
 */
export function createChat(host: Host): AppHandle {
  const { config } = host;
  const t = textsFor(host.lang);
  const storage = new VisitorStorage(host.store);
  const api = new Api(host.base, host.key, () => storage.token);
  const conversation = new Conversation(storage.readOutbox(), (pending) => storage.writeOutbox(pending));
  const hadToken = Boolean(storage.token);
  let isOpen = false;
  let unread = 0;

  const notice = createNotice();
  const connection = new Connection(host, api, storage, {
    conversation: (received) => {
      conversation.replace(received);
      render();
      reportPage();
    },
    frame: receive,
    changed: () => header.render(),
    ready: () => void outbox.flush(),
    failed: () => notice.show(t.error),
  });
  const outbox = new Outbox(api, conversation, t, () => Boolean(storage.token), {
    changed: () => messageList.render(),
    delivered: () => render(),
    restart: () => connection.restart(),
    notify: (text) => notice.show(text),
  });
  const start = () => connection.start();

  const header = createHeader({
    texts: t,
    title: config.appearance.title || t.title,
    onClose: () => close(),
    read: () => ({ session: conversation.session, reconnecting: connection.reconnecting }),
  });
  const messageList = createMessageList({
    bubble: { texts: t, lang: host.lang },
    conversation,
    onOlder: () => void loadOlder(),
    onRetry: (item) => {
      conversation.retry(item);
      messageList.render();
      void outbox.flush();
    },
    onDiscard: (item) => {
      conversation.discard(item);
      messageList.render();
    },
    onQuickReply: (reply) => enqueue(reply),
    greeting: config.greeting,
    // A visitor without a token has no history; one with a token waits for theirs.
    knownEmpty: () => !hadToken || conversation.historyRead,
  });
  const composer = createComposer({
    texts: t,
    config,
    api,
    notice,
    start,
    send: enqueue,
    sendTyping: (frame) => connection.send(frame),
  });
  const prompts = createPrompts({
    texts: t,
    config,
    lang: host.lang,
    root: host.root,
    api,
    conversation,
    storage,
    notice,
    composer,
    start,
    renderAll: () => render(),
  });

  const panel = h(
    'section',
    {
      class: `panel ${config.appearance.position}`,
      role: 'dialog',
      'aria-labelledby': 'ol-title',
      hidden: true,
      lang: host.lang,
      onkeydown: (event: Event) => {
        if ((event as KeyboardEvent).key === 'Escape') close();
      },
    },
    header.head,
    header.banner,
    messageList.element,
    header.typing,
    prompts.element,
    notice.element,
    composer.element,
  );
  host.root.appendChild(panel);
  addEventListener('online', () => {
    render();
    void outbox.flush();
  });
  addEventListener('offline', () => render());

  function render(): void {
    messageList.render();
    header.render();
    prompts.render();
    reportSeen();
  }

  /** The read receipt (issue 19): with the panel open on a visible page, our side's latest answer is seen. */
  let reportedSeen: string | null = null;
  function reportSeen(): void {
    if (!isOpen || document.visibilityState === 'hidden') return;
    const latest = conversation
      .shown()
      .filter((m) => m.author === 'operator' || m.author === 'bot')
      .at(-1);
    if (!latest || latest.seen || latest.id === reportedSeen) return;
    if (!connection.send({ kind: 'seen', messageId: latest.id })) return;
    reportedSeen = latest.id;
  }
  document.addEventListener('visibilitychange', () => reportSeen());

  /**
   * The page the visitor is on and where they came from, for the operator's client card (issue 19):
   * told once the conversation exists and again when the page changes (history navigation, a hash,
   * a single-page app's navigation). Only http(s) pages; addresses past the server's limit are cut.
   */
  let reportedPage = '';
  function reportPage(): void {
    if (!storage.token) return;
    const url = location.href;
    const referrer = /^https?:\/\//i.test(document.referrer)
      ? document.referrer.slice(0, PAGE_URL_MAX)
      : null;
    if (!/^https?:\/\//i.test(url)) return;
    const key = `${url}\n${referrer}`;
    if (key === reportedPage) return;
    reportedPage = key;
    api.call('POST', '/page', { url: url.slice(0, PAGE_URL_MAX), referrer }).catch(() => {
      reportedPage = '';
    });
  }
  addEventListener('popstate', () => reportPage());
  addEventListener('hashchange', () => reportPage());
  const navigation = (globalThis as { navigation?: EventTarget }).navigation;
  navigation?.addEventListener('navigatesuccess', () => reportPage());

  /** What the socket brings; an answer while the panel is closed counts as unread on the button. */
  function receive(frame: VisitorServerFrame): void {
    if (frame.kind === 'message') {
      const fresh = conversation.upsert(frame.message);
      if (fresh && frame.message.author !== 'visitor') {
        host.emit('message', {
          id: frame.message.id,
          author: frame.message.author,
          text: frame.message.text,
        });
        header.stopTyping();
        if (!isOpen) host.setUnread(++unread);
      }
    } else if (frame.kind === 'session') {
      conversation.session = frame.session;
    } else if (frame.kind === 'typing') {
      if (frame.typing) header.showTyping();
      else header.stopTyping();
    }
    render();
  }

  /** A message written here: shown at once, sent when the conversation and the network allow. */
  function enqueue(text: string, attachments: Attachment[] = []): void {
    conversation.queue(text, attachments);
    messageList.render();
    messageList.scrollToEnd();
    // A start that gives up has told the visitor (failed()); the message stays queued for the
    // next start, so its rejection needs no one else.
    void start().then(
      () => outbox.flush(),
      () => {},
    );
  }

  async function loadOlder(): Promise<void> {
    const first = conversation.oldest();
    if (!first) return;
    const answer = await api.call<WidgetHistory>('GET', `/messages?before=${first.id}`).catch(() => null);
    if (!answer?.ok) return;
    conversation.addOlder(answer.body.items, answer.body.hasMore);
    messageList.renderOlder();
  }

  function open(): void {
    if (isOpen) return;
    isOpen = true;
    panel.hidden = false;
    unread = 0;
    host.setUnread(0);
    host.setOpen(true);
    render();
    messageList.scrollToEnd();
    if (composer.element.hidden) prompts.focusFirstField();
    else composer.focus();
    void start().catch(() => {});
  }

  function close(): void {
    if (!isOpen) return;
    isOpen = false;
    panel.hidden = true;
    host.setOpen(false);
  }

  // A returning visitor's widget connects at once, to show answers that came while away.
  if (storage.token || conversation.pending.length > 0) void start().catch(() => {});
  render();

  return {
    open,
    close,
    async identify(input) {
      host.identity = input;
      await connection.identify(input);
    },
    async reset() {
      connection.stop();
      storage.clear();
      conversation.forget();
      host.identity = null;
      render();
      if (isOpen) await start();
    },
  };
}
