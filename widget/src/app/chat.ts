import type {
  Attachment,
  VisitorMessage,
  VisitorServerFrame,
  VisitorSession,
  WidgetConversation,
  WidgetHistory,
  WidgetSendResult,
} from '@openlines/contract';
import { type AppHandle, type Host, type IdentifyInput, STORE_TOKEN } from '../host';
import { type Answer, Api, NetworkError, type Problem } from './api';
import { formatBytes, h, icon, safeUrl } from './dom';
import { type Texts, textsFor } from './i18n';
import { Live } from './live';

/** A message written here and not yet stored by the server (offline, or on its way). */
interface Pending {
  clientMessageId: string;
  text: string;
  attachments: Attachment[];
  createdAt: string;
  state: 'queued' | 'sending' | 'failed';
  error?: string;
}

interface Row {
  key: string;
  sig: string;
  build: () => HTMLElement;
}

const STORE_OUTBOX = 'outbox';
const STORE_DONE = 'done';
const STORE_IDENTIFIED = 'identified';
const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
const TYPING_SHOWN_MS = 5000;
const TYPING_SENT_EVERY_MS = 1500;
const NO_SESSION: VisitorSession = {
  status: 'none',
  operator: null,
  consentPending: false,
  ratingPending: false,
  ratingAllowed: false,
};

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function readJson<T>(raw: string | null, fallback: T): T {
  try {
    return raw ? (JSON.parse(raw) as T) : fallback;
  } catch {
    return fallback;
  }
}

const identitySignature = (input: IdentifyInput) => JSON.stringify([input.id, input.name, input.email]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The chat panel: history, live updates, an offline-proof outbox, and the line's prompts. */
export function createChat(host: Host): AppHandle {
  const { config, store } = host;
  const t: Texts = textsFor(host.lang);
  const api = new Api(host.base, host.key, () => store.get(STORE_TOKEN));

  // ----- state ---------------------------------------------------------------------------------
  const messages = new Map<string, VisitorMessage>();
  const order = new Map<string, number>();
  let pending: Pending[] = readJson<Pending[]>(store.get(STORE_OUTBOX), []).map((p) => ({
    ...p,
    state: p.state === 'failed' ? 'failed' : 'queued',
  }));
  const done = new Set<string>(readJson<string[]>(store.get(STORE_DONE), []));
  let session: VisitorSession = NO_SESSION;
  let hasMore = false;
  let live: Live | null = null;
  let connected = false;
  let isOpen = false;
  let unread = 0;
  let starting: Promise<void> | null = null;
  let flushing = false;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let typingUntil = 0;
  let lastTypingSent = 0;
  let rating: 'like' | 'dislike' | null = null;
  let seq = 0;

  const savePending = () =>
    store.set(STORE_OUTBOX, JSON.stringify(pending.map(({ error: _error, ...p }) => p)));
  const markDone = (key: string) => {
    done.add(key);
    store.set(STORE_DONE, JSON.stringify([...done].slice(-50)));
  };

  // ----- elements ------------------------------------------------------------------------------
  const title = config.appearance.title || t.title;
  const titleEl = h('h2', { id: 'ol-title' }, title);
  const statusEl = h('p', { class: 'status' });
  const avatarEl = h('span', { class: 'avatar', 'aria-hidden': 'true' });
  const closeButton = h(
    'button',
    { type: 'button', class: 'x', 'aria-label': t.closeChat, onclick: () => close() },
    '×',
  );
  const banner = h('p', { class: 'banner', role: 'status', hidden: true });
  const more = h(
    'button',
    { type: 'button', class: 'more', hidden: true, onclick: () => void loadOlder() },
    '↑',
  );
  const list = h('div', { class: 'list' });
  const log = h(
    'div',
    { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': t.messages, tabindex: 0 },
    more,
    list,
  );
  const typingEl = h('p', { class: 'typing', 'aria-live': 'polite' });
  const cards = h('div', { class: 'cards' });
  const errorEl = h('p', { class: 'err', role: 'alert' });
  const fileInput = h('input', {
    type: 'file',
    hidden: true,
    accept: config.limits.uploadTypes.join(','),
    onchange: () => void attach(),
  });
  const textarea = h('textarea', {
    rows: 1,
    placeholder: t.placeholder,
    'aria-label': t.message,
    maxlength: config.limits.textLength,
    oninput: () => typing(),
    onkeydown: (event: Event) => {
      const key = event as KeyboardEvent;
      if (key.key === 'Enter' && !key.shiftKey && !key.isComposing) {
        key.preventDefault();
        submit();
      }
    },
  });
  const composer = h(
    'form',
    {
      class: 'composer',
      onsubmit: (event: Event) => {
        event.preventDefault();
        submit();
      },
    },
    h(
      'button',
      {
        type: 'button',
        class: 'icon',
        'aria-label': t.attach,
        title: t.attach,
        onclick: () => fileInput.click(),
      },
      icon('attach'),
    ),
    fileInput,
    textarea,
    h('button', { type: 'submit', class: 'icon send', 'aria-label': t.send, title: t.send }, icon('send')),
  );
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
    h('header', { class: 'head' }, avatarEl, h('div', { class: 'who' }, titleEl, statusEl), closeButton),
    banner,
    log,
    typingEl,
    cards,
    errorEl,
    composer,
  );
  host.root.appendChild(panel);
  addEventListener('online', () => {
    render();
    flush();
  });
  addEventListener('offline', () => render());

  // ----- rendering -----------------------------------------------------------------------------
  const rows = new Map<string, { sig: string; el: HTMLElement }>();

  function timeOf(iso: string): string {
    return new Date(iso).toLocaleTimeString(host.lang, { hour: '2-digit', minute: '2-digit' });
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

  function messageRow(message: VisitorMessage): Row {
    return {
      key: message.id,
      sig: JSON.stringify(message),
      build: () => {
        if (message.author === 'system') {
          return h(
            'div',
            { class: 'msg sys' },
            h('div', { class: 'bubble' }, message.text ?? ''),
            attachmentsEl(message.attachments),
          );
        }
        const mine = message.author === 'visitor';
        const avatar = safeUrl(message.avatarUrl);
        return h(
          'div',
          { class: `msg ${mine ? 'me' : 'op'}` },
          !mine && avatar ? h('img', { class: 'face', src: avatar, alt: '' }) : null,
          h(
            'div',
            { class: 'bubble' },
            !mine && message.name ? h('span', { class: 'name' }, message.name) : null,
            message.text ? h('span', { class: 'text' }, message.text) : null,
            attachmentsEl(message.attachments),
            h(
              'span',
              { class: 'meta' },
              timeOf(message.createdAt),
              mine ? h('span', { class: 'state', title: t.sent, 'aria-label': t.sent }, ' ✓') : null,
            ),
          ),
        );
      },
    };
  }

  function pendingRow(item: Pending): Row {
    return {
      key: `p:${item.clientMessageId}`,
      sig: JSON.stringify(item),
      build: () => {
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
              timeOf(item.createdAt),
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
                  h('button', { type: 'button', class: 'link', onclick: () => retry(item) }, t.retry),
                  ' ',
                  h('button', { type: 'button', class: 'link', onclick: () => discard(item) }, t.remove),
                )
              : null,
          ),
        );
      },
    };
  }

  function renderLog(): void {
    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    const sorted = [...messages.values()].sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0),
    );
    const wanted = [
      ...sorted.filter((m) => m.text || m.attachments.length > 0).map(messageRow),
      ...pending.map(pendingRow),
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
    more.hidden = !hasMore;
    if (nearBottom) log.scrollTop = log.scrollHeight;
  }

  function renderHead(): void {
    const operator = session.operator;
    const avatar = safeUrl(operator?.avatarUrl);
    avatarEl.replaceChildren(
      avatar ? h('img', { src: avatar, alt: '' }) : (operator?.name ?? title).slice(0, 1).toUpperCase(),
    );
    const status =
      !navigator.onLine || (!connected && live)
        ? t.reconnecting
        : operator?.name
          ? operator.name
          : session.status === 'active'
            ? t.online
            : t.waiting;
    statusEl.textContent = status;
    banner.hidden = navigator.onLine;
    banner.textContent = t.offline;
    typingEl.textContent = Date.now() < typingUntil ? t.typing : '';
  }

  /** The newest system message asking for `kind`, unless the visitor already answered it here. */
  function latestAsk(kind: string): VisitorMessage | undefined {
    let found: VisitorMessage | undefined;
    for (const message of messages.values()) {
      if (message.systemKind === kind && (!found || message.createdAt >= found.createdAt)) found = message;
    }
    return found && !done.has(found.id) ? found : undefined;
  }

  function card(...children: (Node | string | null)[]) {
    return h('div', { class: 'card' }, ...children);
  }

  function renderCards(): void {
    const parts: HTMLElement[] = [];
    if (!config.availability.open && messages.size === 0 && pending.length === 0) parts.push(offlineForm());
    else if (!config.availability.open) {
      parts.push(card(h('strong', {}, t.closedTitle), ' ', closedUntil()));
    }
    // Consent and rating follow the session's state on the server; the asking messages are above.
    if (session.consentPending) {
      const ask = latestAsk('consent_request');
      parts.push(
        card(
          h('p', {}, t.consentPrompt),
          h('button', { type: 'button', class: 'primary', onclick: () => void consent(ask?.id) }, t.agree),
        ),
      );
    }
    const form = latestAsk('contact_form_request');
    if (form) parts.push(contactForm(form.id));
    if (session.ratingPending || session.ratingAllowed) {
      parts.push(ratingCard(latestAsk('rating_request')?.id, !session.ratingPending));
    }
    // Someone typing into a form keeps it as it is; anything else is redrawn.
    const active = host.root.activeElement;
    const typingHere = cards.contains(active) && /^(INPUT|TEXTAREA)$/.test(active?.tagName ?? '');
    if (!typingHere) cards.replaceChildren(...parts);
    composer.hidden = parts.some((part) => part.classList.contains('offline'));
  }

  function closedUntil(): string {
    const next = config.availability.nextOpenAt;
    if (!next) return t.closedText;
    const when = new Date(next).toLocaleString(host.lang, {
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
    });
    return `${t.closedText} ${t.closedUntil}: ${when}.`;
  }

  function field(name: 'name' | 'email' | 'phone' | 'message', required = false) {
    const label = t[name];
    const input =
      name === 'message'
        ? h('textarea', { name, rows: 3, required, maxlength: config.limits.textLength })
        : h('input', {
            name,
            type: name === 'email' ? 'email' : name === 'phone' ? 'tel' : 'text',
            required,
            maxlength: name === 'phone' ? 50 : 200,
            autocomplete: name === 'phone' ? 'tel' : name,
          });
    return h('label', {}, h('span', {}, label), input);
  }

  function valuesOf(form: HTMLFormElement): Record<string, string> {
    const values: Record<string, string> = {};
    for (const [name, value] of new FormData(form))
      if (typeof value === 'string' && value.trim()) values[name] = value.trim();
    return values;
  }

  function offlineForm(): HTMLElement {
    const form = h(
      'form',
      {
        class: 'card offline',
        onsubmit: (event: Event) => {
          event.preventDefault();
          const { message, ...contact } = valuesOf(form);
          if (!message) return;
          void sendOffline(message, contact);
        },
      },
      h('strong', {}, t.closedTitle),
      h('p', {}, closedUntil()),
      field('name'),
      field('email'),
      field('message', true),
      h('button', { type: 'submit', class: 'primary' }, t.submit),
    );
    return form;
  }

  function contactForm(messageId: string): HTMLElement {
    const form = h(
      'form',
      {
        class: 'card',
        onsubmit: (event: Event) => {
          event.preventDefault();
          const values = valuesOf(form);
          if (Object.keys(values).length === 0) return;
          void action('/contact-form', values, () => markDone(messageId));
        },
      },
      h('p', {}, t.contactPrompt),
      ...config.contactFormFields.map((name) => field(name)),
      h('button', { type: 'submit', class: 'primary' }, t.submit),
    );
    return form;
  }

  /** Asked: a card with the question; merely allowed (QR-2): a slim row that does not get in the way. */
  function ratingCard(messageId: string | undefined, slim: boolean): HTMLElement {
    const choose = (value: 'like' | 'dislike') => {
      rating = value;
      render();
      cards.querySelector('textarea')?.focus();
    };
    const comment = h('textarea', {
      rows: 2,
      'aria-label': t.comment,
      placeholder: t.comment,
      maxlength: 1000,
    });
    const element = card(
      h('p', {}, t.ratePrompt),
      h(
        'div',
        { class: 'rate' },
        h(
          'button',
          {
            type: 'button',
            'aria-pressed': String(rating === 'like'),
            'aria-label': t.like,
            title: t.like,
            onclick: () => choose('like'),
          },
          icon('like'),
        ),
        h(
          'button',
          {
            type: 'button',
            'aria-pressed': String(rating === 'dislike'),
            'aria-label': t.dislike,
            title: t.dislike,
            onclick: () => choose('dislike'),
          },
          icon('dislike'),
        ),
      ),
      rating
        ? h(
            'div',
            { class: 'stack' },
            comment,
            h(
              'button',
              {
                type: 'button',
                class: 'primary',
                onclick: () => {
                  const value = rating!;
                  const text = comment.value.trim();
                  void action('/rating', { value, ...(text ? { comment: text } : {}) }, () => {
                    if (messageId) markDone(messageId);
                    rating = null;
                    session = { ...session, ratingPending: false, ratingAllowed: false };
                  });
                },
              },
              t.sendRating,
            ),
          )
        : null,
    );
    if (slim && !rating) element.classList.add('slim');
    return element;
  }

  function render(): void {
    renderLog();
    renderHead();
    renderCards();
  }

  function showError(text: string, ok = false): void {
    errorEl.className = ok ? 'err ok' : 'err';
    errorEl.textContent = text;
    setTimeout(() => {
      if (errorEl.textContent === text) errorEl.textContent = '';
    }, 6000);
  }

  // ----- talking to the server -----------------------------------------------------------------
  function upsert(message: VisitorMessage): boolean {
    const known = messages.has(message.id);
    if (!known) order.set(message.id, seq++);
    messages.set(message.id, message);
    if (message.clientMessageId) {
      const before = pending.length;
      pending = pending.filter((p) => p.clientMessageId !== message.clientMessageId);
      if (pending.length !== before) savePending();
    }
    return !known;
  }

  function apply(conversation: WidgetConversation): void {
    messages.clear();
    order.clear();
    for (const message of conversation.messages) upsert(message);
    session = conversation.session;
    hasMore = conversation.hasMore;
    render();
  }

  function onFrame(frame: VisitorServerFrame): void {
    if (frame.kind === 'message') {
      const fresh = upsert(frame.message);
      if (fresh && frame.message.author !== 'visitor') {
        host.emit('message', {
          id: frame.message.id,
          author: frame.message.author,
          text: frame.message.text,
        });
        typingUntil = 0;
        if (!isOpen) host.setUnread(++unread);
      }
    } else if (frame.kind === 'session') {
      session = frame.session;
    } else if (frame.kind === 'typing') {
      typingUntil = Date.now() + TYPING_SHOWN_MS;
      setTimeout(renderHead, TYPING_SHOWN_MS + 50);
    }
    render();
  }

  function connect(cursor: number): void {
    live?.stop();
    live = new Live(
      (after) => api.socketUrl(after),
      () => store.get(STORE_TOKEN),
      {
        frame: onFrame,
        state: (up) => {
          connected = up;
          renderHead();
          if (up) flush();
        },
        rejected: (code) => {
          live?.stop();
          live = null;
          if (code === 4401) void restart();
          else showError(t.error);
        },
      },
      cursor,
    );
  }

  async function identifyNow(input: IdentifyInput): Promise<WidgetConversation | null> {
    const answer = await api.call<WidgetConversation & Problem>('POST', '/identify', input);
    if (answer.ok) {
      store.set(STORE_IDENTIFIED, identitySignature(input));
      return answer.body;
    }
    host.emit('error', { code: answer.body?.code ?? 'identify_failed', detail: answer.body?.detail });
    return null;
  }

  /** Starts or resumes the conversation; retried with backoff while the network is down. */
  function start(): Promise<void> {
    starting ??= (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const answer = await api.call<WidgetConversation & Problem>('POST', '/session', {});
          if (!answer.ok) throw new Error(answer.body?.detail ?? `HTTP ${answer.status}`);
          let conversation = answer.body;
          if (conversation.token) store.set(STORE_TOKEN, conversation.token);
          // The site identifies its user on every page; the server needs telling once.
          const identity = host.identity;
          const known =
            identity &&
            conversation.visitor.identified &&
            store.get(STORE_IDENTIFIED) === identitySignature(identity);
          if (identity && !known) conversation = (await identifyNow(identity)) ?? conversation;
          apply(conversation);
          connect(conversation.cursor);
          flush();
          return;
        } catch (error) {
          if (!(error instanceof NetworkError) && attempt >= 2) {
            starting = null;
            showError(t.error);
            throw error;
          }
          await sleep(Math.min(15_000, 1000 * 2 ** attempt));
        }
      }
    })();
    return starting;
  }

  /** The server forgot the token (or it was reset): a new anonymous conversation; queued messages go there. */
  async function restart(): Promise<void> {
    store.remove(STORE_TOKEN);
    starting = null;
    await start();
  }

  function scheduleFlush(ms: number): void {
    if (retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      flush();
    }, ms);
  }

  /** Sends queued messages in order; each carries its client message id, so a retry is stored once. */
  async function flush(): Promise<void> {
    if (flushing || !store.get(STORE_TOKEN)) return;
    flushing = true;
    try {
      for (;;) {
        const item = pending.find((p) => p.state !== 'failed');
        if (!item) return;
        item.state = 'sending';
        renderLog();
        let answer: Answer<WidgetSendResult & Problem>;
        try {
          answer = await api.call<WidgetSendResult & Problem>('POST', '/messages', {
            clientMessageId: item.clientMessageId,
            ...(item.text ? { text: item.text } : {}),
            ...(item.attachments.length ? { attachments: item.attachments } : {}),
          });
        } catch {
          item.state = 'queued';
          renderLog();
          if (navigator.onLine) scheduleFlush(3000);
          return;
        }
        if (answer.ok) {
          upsert(answer.body.message);
          pending = pending.filter((p) => p !== item);
          savePending();
          render();
          continue;
        }
        if (answer.status === 401) {
          item.state = 'queued';
          flushing = false;
          await restart();
          return;
        }
        if (answer.status === 429 || answer.status >= 500) {
          item.state = 'queued';
          renderLog();
          if (answer.status === 429) showError(t.tooMany);
          scheduleFlush(Math.max(1, answer.retryAfter || 3) * 1000);
          return;
        }
        item.state = 'failed';
        item.error = answer.body?.detail ?? t.failed;
        savePending();
        renderLog();
      }
    } finally {
      flushing = false;
    }
  }

  function enqueue(text: string, attachments: Attachment[] = []): void {
    pending.push({
      clientMessageId: randomId(),
      text,
      attachments,
      createdAt: new Date().toISOString(),
      state: 'queued',
    });
    savePending();
    renderLog();
    log.scrollTop = log.scrollHeight;
    void start().then(() => flush());
  }

  function submit(): void {
    const text = textarea.value;
    if (!text.trim()) return;
    if (text.length > config.limits.textLength) {
      showError(t.tooLong(config.limits.textLength));
      return;
    }
    textarea.value = '';
    enqueue(text);
  }

  function retry(item: Pending): void {
    item.state = 'queued';
    delete item.error;
    savePending();
    renderLog();
    flush();
  }

  function discard(item: Pending): void {
    pending = pending.filter((p) => p !== item);
    savePending();
    renderLog();
  }

  function typing(): void {
    const now = Date.now();
    if (now - lastTypingSent < TYPING_SENT_EVERY_MS || !textarea.value) return;
    lastTypingSent = now;
    live?.send({ kind: 'typing', text: config.watchTyping ? textarea.value.slice(0, 2000) : null });
  }

  async function attach(): Promise<void> {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    if (!file) return;
    if (!config.limits.uploadTypes.includes(file.type)) return showError(t.fileType);
    if (file.size > config.limits.uploadBytes)
      return showError(t.fileTooLarge(formatBytes(config.limits.uploadBytes)));
    try {
      await start();
      showError(t.uploading, true);
      const form = new FormData();
      form.append('file', file, file.name);
      const answer = await api.call<Attachment & Problem>('POST', '/files', form);
      errorEl.textContent = '';
      if (!answer.ok) return showError(answer.body?.detail ?? t.error);
      enqueue('', [answer.body]);
    } catch {
      showError(navigator.onLine ? t.error : t.offline);
    }
  }

  /** A prompt's button or form: consent, contact form, rating. */
  async function action(path: string, body: unknown, onDone: () => void): Promise<void> {
    try {
      await start();
      const answer = await api.call<Problem>('POST', path, body);
      if (answer.ok || answer.status === 409) {
        // 409: the line no longer asks (a rating window closed, already given): the prompt goes.
        onDone();
        cards.replaceChildren();
        render();
        textarea.focus();
        if (answer.ok) showError(t.thanks, true);
        return;
      }
      showError(answer.body?.detail ?? t.error);
    } catch {
      showError(t.offline);
    }
  }

  async function consent(messageId: string | undefined): Promise<void> {
    await action('/consent', undefined, () => {
      if (messageId) markDone(messageId);
      session = { ...session, consentPending: false };
    });
  }

  async function sendOffline(text: string, contact: Record<string, string>): Promise<void> {
    try {
      await start();
      const answer = await api.call<WidgetSendResult & Problem>('POST', '/messages', {
        clientMessageId: randomId(),
        text,
      });
      if (!answer.ok) return showError(answer.body?.detail ?? t.error);
      upsert(answer.body.message);
      if (Object.keys(contact).length > 0) await api.call('POST', '/contact-form', contact);
      render();
    } catch {
      showError(t.offline);
    }
  }

  async function loadOlder(): Promise<void> {
    const first = [...messages.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
    if (!first) return;
    const answer = await api.call<WidgetHistory>('GET', `/messages?before=${first.id}`).catch(() => null);
    if (!answer?.ok) return;
    for (const message of answer.body.items) {
      order.set(message.id, -1e6 + seq++);
      messages.set(message.id, message);
    }
    hasMore = answer.body.hasMore;
    const height = log.scrollHeight;
    renderLog();
    log.scrollTop = log.scrollHeight - height;
  }

  // ----- the handle the loader drives ----------------------------------------------------------
  function open(): void {
    if (isOpen) return;
    isOpen = true;
    panel.hidden = false;
    unread = 0;
    host.setUnread(0);
    host.setOpen(true);
    render();
    log.scrollTop = log.scrollHeight;
    (composer.hidden ? (cards.querySelector('input,textarea') as HTMLElement | null) : textarea)?.focus();
    void start().catch(() => {});
  }

  function close(): void {
    if (!isOpen) return;
    isOpen = false;
    panel.hidden = true;
    host.setOpen(false);
  }

  // A returning visitor's widget connects at once, to show answers that came while away.
  if (store.get(STORE_TOKEN) || pending.length > 0) void start().catch(() => {});
  render();

  return {
    open,
    close,
    async identify(input) {
      host.identity = input;
      if (!starting) return;
      await starting.catch(() => {});
      const conversation = await identifyNow(input);
      if (conversation) {
        apply(conversation);
        connect(conversation.cursor);
      }
    },
    async reset() {
      live?.stop();
      live = null;
      store.remove(STORE_TOKEN);
      store.remove(STORE_OUTBOX);
      store.remove(STORE_DONE);
      store.remove(STORE_IDENTIFIED);
      pending = [];
      done.clear();
      messages.clear();
      session = NO_SESSION;
      starting = null;
      host.identity = null;
      render();
      if (isOpen) await start();
    },
  };
}
