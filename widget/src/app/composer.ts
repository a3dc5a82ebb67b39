import type { Attachment, WidgetConfig } from '@openlines/contract';
import type { Api, Problem } from './api';
import { formatBytes, h, icon } from './dom';
import type { Texts } from './i18n';
import type { Notice } from './notice';

/** A typing frame is a hint, not a stream: one this often keeps the operator's indicator on. */
const TYPING_SENT_EVERY_MS = 1500;
/** The contract's `WIDGET_LIMITS.typingText`, copied: importing it would bundle the contract's schemas. */
const TYPING_TEXT_MAX = 2000;
/** The length counter appears once a draft is this close to the line's limit. */
const COUNTER_FROM_SHARE = 0.9;

export interface Composer {
  element: HTMLFormElement;
  focus(): void;
  /** Nothing can be written or attached (consent first, AG-2); the placeholder says why. */
  setLocked(locked: boolean): void;
}

/**
 * Where the visitor writes: Enter sends (Shift+Enter and an IME's Enter do not), the clip uploads a
 * file and sends it as a message of its own, and typing is told to the operator — with the text
 * only when the line watches typing.
 */
export function createComposer(options: {
  texts: Texts;
  config: WidgetConfig;
  api: Api;
  notice: Notice;
  /** The conversation must exist before a file can be uploaded into it. */
  start(): Promise<void>;
  send(text: string, attachments?: Attachment[]): void;
  sendTyping(frame: { kind: 'typing'; text: string | null }): void;
}): Composer {
  const { texts: t, config, notice } = options;
  let lastTypingSent = 0;

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
    // No maxlength: it would cut a pasted text silently. The counter says the limit instead.
    oninput: () => {
      count();
      typing();
    },
    onkeydown: (event: Event) => {
      const key = event as KeyboardEvent;
      if (key.key === 'Enter' && !key.shiftKey && !key.isComposing) {
        key.preventDefault();
        submit();
      }
    },
  });
  const counter = h('span', { class: 'counter', hidden: true, 'aria-live': 'polite' });
  const element = h(
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
    counter,
    h('button', { type: 'submit', class: 'icon send', 'aria-label': t.send, title: t.send }, icon('send')),
  );

  function submit(): void {
    if (locked) return;
    const text = textarea.value;
    if (!text.trim()) return;
    if (text.length > config.limits.textLength) {
      notice.show(t.tooLong(config.limits.textLength));
      return;
    }
    textarea.value = '';
    count();
    options.send(text);
  }

  /** Near the limit the draft shows "length / limit", marked when over it (nothing is cut). */
  function count(): void {
    const limit = config.limits.textLength;
    const length = textarea.value.length;
    counter.hidden = length < limit * COUNTER_FROM_SHARE;
    counter.textContent = `${length} / ${limit}`;
    counter.classList.toggle('over', length > limit);
    textarea.setAttribute('aria-invalid', String(length > limit));
  }

  function typing(): void {
    const now = Date.now();
    if (now - lastTypingSent < TYPING_SENT_EVERY_MS || !textarea.value) return;
    lastTypingSent = now;
    options.sendTyping({
      kind: 'typing',
      text: config.watchTyping ? textarea.value.slice(0, TYPING_TEXT_MAX) : null,
    });
  }

  async function attach(): Promise<void> {
    const file = fileInput.files?.[0];
    // Cleared at once, so choosing the same file again is a change too.
    fileInput.value = '';
    if (!file) return;
    if (!config.limits.uploadTypes.includes(file.type)) return notice.show(t.fileType);
    if (file.size > config.limits.uploadBytes) {
      return notice.show(t.fileTooLarge(formatBytes(config.limits.uploadBytes)));
    }
    try {
      await options.start();
      notice.show(t.uploading, true);
      const form = new FormData();
      form.append('file', file, file.name);
      const answer = await options.api.call<Attachment & Problem>('POST', '/files', form);
      notice.clear();
      if (!answer.ok) return notice.show(answer.body?.detail ?? t.error);
      options.send('', [answer.body]);
    } catch {
      notice.show(navigator.onLine ? t.error : t.offline);
    }
  }

  let locked = false;
  return {
    element,
    focus: () => textarea.focus(),
    setLocked(next) {
      if (next === locked) return;
      locked = next;
      for (const control of element.querySelectorAll<HTMLTextAreaElement | HTMLButtonElement>(
        'textarea,button',
      ))
        control.disabled = next;
      textarea.placeholder = next ? t.consentLocked : t.placeholder;
      element.classList.toggle('locked', next);
    },
  };
}
