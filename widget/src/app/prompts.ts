import type { WidgetConfig, WidgetSendResult } from '@openlines/contract';
import type { Api, Problem } from './api';
import type { Composer } from './composer';
import { type Conversation, newClientMessageId } from './conversation';
import { h } from './dom';
import { contactForm, offlineForm } from './forms';
import type { Texts } from './i18n';
import type { Notice } from './notice';
import { type RatingValue, ratingCard } from './rating';
import type { VisitorStorage } from './visitor-storage';

export interface Prompts {
  element: HTMLElement;
  render(): void;
  /** Where typing starts when the offline form stands in for the composer. */
  focusFirstField(): void;
}

/**
 * The cards between the log and the composer, each something the line asks of the visitor or tells
 * them: outside working hours the offline form (instead of the composer) or a notice, consent, the
 * contact form, the rating. They follow the session's state on the server; the messages that ask
 * are in the log above. An answer given here is remembered, so the card does not come back.
 */
export function createPrompts(options: {
  texts: Texts;
  config: WidgetConfig;
  lang: string;
  root: ShadowRoot;
  api: Api;
  conversation: Conversation;
  storage: VisitorStorage;
  notice: Notice;
  composer: Composer;
  start(): Promise<void>;
  /** Redraws the whole panel: an answer changes the log and the header too. */
  renderAll(): void;
}): Prompts {
  const { texts: t, config, conversation, storage, notice, api } = options;
  const cards = h('div', { class: 'cards' });
  /** Like or dislike picked, not sent yet. */
  let rating: RatingValue | null = null;

  const card = (...children: (Node | string | null)[]) => h('div', { class: 'card' }, ...children);

  function closedUntil(): string {
    const next = config.availability.nextOpenAt;
    if (!next) return t.closedText;
    const when = new Date(next).toLocaleString(options.lang, {
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
    });
    return `${t.closedText} ${t.closedUntil}: ${when}.`;
  }

  /** The newest system message asking for `kind`, unless the visitor already answered it here. */
  function latestAsk(kind: string) {
    const found = conversation.latest(kind);
    return found && !storage.answered.has(found.id) ? found : undefined;
  }

  /** Sends a prompt's answer; the card goes once the server took it, or no longer asks. */
  async function sendAnswer(path: string, body: unknown, onDone: () => void): Promise<void> {
    try {
      await options.start();
      const answer = await api.call<Problem>('POST', path, body);
      if (answer.ok || answer.status === 409) {
        // 409: the line no longer asks (a rating window closed, already given): the prompt goes.
        onDone();
        cards.replaceChildren();
        options.renderAll();
        options.composer.focus();
        if (answer.ok) notice.show(t.thanks, true);
        return;
      }
      notice.show(answer.body?.detail ?? t.error);
    } catch {
      notice.show(t.offline);
    }
  }

  function consent(messageId: string | undefined, decision: 'given' | 'refused'): Promise<void> {
    return sendAnswer(decision === 'given' ? '/consent' : '/consent/refuse', undefined, () => {
      if (messageId) storage.markAnswered(messageId);
      conversation.session = { ...conversation.session, consentPending: false };
      conversation.consentNeeded = false;
    });
  }

  function consentChoices(messageId: string | undefined): HTMLElement {
    return h(
      'div',
      { class: 'choices' },
      h(
        'button',
        { type: 'button', class: 'primary', onclick: () => void consent(messageId, 'given') },
        t.agree,
      ),
      h(
        'button',
        { type: 'button', class: 'secondary', onclick: () => void consent(messageId, 'refused') },
        t.disagree,
      ),
    );
  }

  /** The offline form's message starts the conversation; the contact details follow it. */
  async function sendOffline(text: string, contact: Record<string, string>): Promise<void> {
    try {
      await options.start();
      const answer = await api.call<WidgetSendResult & Problem>('POST', '/messages', {
        clientMessageId: newClientMessageId(),
        text,
      });
      if (!answer.ok) return notice.show(answer.body?.detail ?? t.error);
      conversation.upsert(answer.body.message);
      if (Object.keys(contact).length > 0) await api.call('POST', '/contact-form', contact);
      options.renderAll();
    } catch {
      notice.show(t.offline);
    }
  }

  function rate(messageId: string | undefined, slim: boolean): HTMLElement {
    return ratingCard({
      texts: t,
      choice: rating,
      slim,
      onChoose: (value) => {
        rating = value;
        options.renderAll();
        cards.querySelector('textarea')?.focus();
      },
      onSend: (comment) => {
        const value = rating!;
        void sendAnswer('/rating', { value, ...(comment ? { comment } : {}) }, () => {
          if (messageId) storage.markAnswered(messageId);
          rating = null;
          conversation.session = { ...conversation.session, ratingPending: false, ratingAllowed: false };
        });
      },
    });
  }

  function render(): void {
    const { session } = conversation;
    const parts: HTMLElement[] = [];
    // AG-2, consent first: the agreement before anything can be written, the offline form too.
    const consentFirst = config.agreement !== null && conversation.consentNeeded === true;
    if (consentFirst && config.agreement) {
      parts.push(
        card(
          h('p', {}, t.consentFirst),
          h('p', { class: 'agreement' }, config.agreement.text),
          consentChoices(undefined),
        ),
      );
    } else if (!config.availability.open && conversation.isEmpty) {
      parts.push(
        offlineForm({
          texts: t,
          limits: config.limits,
          closedText: closedUntil(),
          onSend: (message, contact) => void sendOffline(message, contact),
        }),
      );
    } else if (!config.availability.open) {
      parts.push(card(h('strong', {}, t.closedTitle), ' ', closedUntil()));
    }
    if (session.consentPending && !consentFirst) {
      const ask = latestAsk('consent_request');
      parts.push(card(h('p', {}, t.consentPrompt), consentChoices(ask?.id)));
    }
    const form = latestAsk('contact_form_request');
    if (form) {
      parts.push(
        contactForm({
          texts: t,
          limits: config.limits,
          fields: config.contactFormFields,
          onSend: (values) => void sendAnswer('/contact-form', values, () => storage.markAnswered(form.id)),
        }),
      );
    }
    if (session.ratingPending || session.ratingAllowed) {
      parts.push(rate(latestAsk('rating_request')?.id, !session.ratingPending));
    }
    // Someone typing into a form keeps it as it is; anything else is redrawn.
    const active = options.root.activeElement;
    const typingHere = cards.contains(active) && /^(INPUT|TEXTAREA)$/.test(active?.tagName ?? '');
    if (!typingHere) cards.replaceChildren(...parts);
    options.composer.element.hidden = parts.some((part) => part.classList.contains('offline'));
    // Until the server has said whether this visitor decided, nothing is written on such a line.
    options.composer.setLocked(config.agreement !== null && conversation.consentNeeded !== false);
  }

  return {
    element: cards,
    render,
    focusFirstField() {
      (cards.querySelector('input,textarea') as HTMLElement | null)?.focus();
    },
  };
}
