import { h, icon } from './dom';
import type { Texts } from './i18n';

export type RatingValue = 'like' | 'dislike';

/**
 * The rating card: like or dislike, then an optional comment and Send. Asked (QR-1), it is a card
 * with the question; merely allowed (QR-2, `slim`), a slim row that does not get in the way until
 * the visitor picks a value.
 */
export function ratingCard(options: {
  texts: Texts;
  /** Picked and not sent yet; kept by the caller, as the card is redrawn with the conversation. */
  choice: RatingValue | null;
  slim: boolean;
  onChoose(value: RatingValue): void;
  /** Sends the caller's choice as it is then: a redraw may be held back while the visitor types. */
  onSend(comment: string): void;
}): HTMLElement {
  const { texts: t, choice } = options;
  const comment = h('textarea', {
    rows: 2,
    'aria-label': t.comment,
    placeholder: t.comment,
    maxlength: 1000,
  });
  const button = (value: RatingValue) =>
    h(
      'button',
      {
        type: 'button',
        'aria-pressed': String(choice === value),
        'aria-label': t[value],
        title: t[value],
        onclick: () => options.onChoose(value),
      },
      icon(value),
    );
  const element = h(
    'div',
    { class: 'card' },
    h('p', {}, t.ratePrompt),
    h('div', { class: 'rate' }, button('like'), button('dislike')),
    choice
      ? h(
          'div',
          { class: 'stack' },
          comment,
          h(
            'button',
            { type: 'button', class: 'primary', onclick: () => options.onSend(comment.value.trim()) },
            t.sendRating,
          ),
        )
      : null,
  );
  if (options.slim && !choice) element.classList.add('slim');
  return element;
}
