import type { LineLanguage } from '@openlines/contract';

/**
 * Client-facing texts that are not line settings, in every notification language (OT-1). The
 * line's own texts (welcome, off hours, agreement, rating…) live in its settings with defaults.
 */
const TEXTS = {
  en: {
    contactForm: 'To help you faster, please tell us your name, phone number or e-mail.',
    kpiMissed: 'An answer target was missed in the dialog with #DIALOG# (#OPERATOR#).',
    noAnswerNotice: '#DIALOG# is waiting for an answer.',
  },
  ru: {
    contactForm: 'Чтобы помочь вам быстрее, оставьте, пожалуйста, ваше имя, телефон или e-mail.',
    kpiMissed: 'Пропущено целевое время ответа в диалоге с #DIALOG# (#OPERATOR#).',
    noAnswerNotice: '#DIALOG# ждёт ответа.',
  },
} as const satisfies Record<LineLanguage, Record<string, string>>;

export type ServerTextKey = keyof (typeof TEXTS)['en'];

export function serverText(language: LineLanguage, key: ServerTextKey): string {
  return TEXTS[language][key];
}
