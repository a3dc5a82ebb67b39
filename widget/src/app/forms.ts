import type { WidgetConfig } from '@openlines/contract';
import { h } from './dom';
import type { Texts } from './i18n';

type FieldName = 'name' | 'email' | 'phone' | 'message';

function field(t: Texts, limits: WidgetConfig['limits'], name: FieldName, required = false) {
  const input =
    name === 'message'
      ? h('textarea', { name, rows: 3, required, maxlength: limits.textLength })
      : h('input', {
          name,
          type: name === 'email' ? 'email' : name === 'phone' ? 'tel' : 'text',
          required,
          maxlength: name === 'phone' ? 50 : 200,
          autocomplete: name === 'phone' ? 'tel' : name,
        });
  return h('label', {}, h('span', {}, t[name]), input);
}

/** The fields filled in, trimmed; empty ones are left out, as the server takes only what was given. */
function valuesOf(form: HTMLFormElement): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of new FormData(form))
    if (typeof value === 'string' && value.trim()) values[name] = value.trim();
  return values;
}

/**
 * Outside working hours with nothing written yet (WH-3): a message and how to reach the visitor,
 * instead of the composer. Sent only with the message; the contact details are optional.
 */
export function offlineForm(options: {
  texts: Texts;
  limits: WidgetConfig['limits'];
  /** When the line is back, in words. */
  closedText: string;
  onSend(message: string, contact: Record<string, string>): void;
}): HTMLElement {
  const { texts: t, limits } = options;
  const form = h(
    'form',
    {
      class: 'card offline',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const { message, ...contact } = valuesOf(form);
        if (!message) return;
        options.onSend(message, contact);
      },
    },
    h('strong', {}, t.closedTitle),
    h('p', {}, options.closedText),
    field(t, limits, 'name'),
    field(t, limits, 'email'),
    field(t, limits, 'message', true),
    h('button', { type: 'submit', class: 'primary' }, t.submit),
  );
  return form;
}

/** The line asked for contact details (AA-2): the fields it wants; sent once something is filled in. */
export function contactForm(options: {
  texts: Texts;
  limits: WidgetConfig['limits'];
  fields: WidgetConfig['contactFormFields'];
  onSend(values: Record<string, string>): void;
}): HTMLElement {
  const { texts: t, limits } = options;
  const form = h(
    'form',
    {
      class: 'card',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const values = valuesOf(form);
        if (Object.keys(values).length === 0) return;
        options.onSend(values);
      },
    },
    h('p', {}, t.contactPrompt),
    ...options.fields.map((name) => field(t, limits, name)),
    h('button', { type: 'submit', class: 'primary' }, t.submit),
  );
  return form;
}
