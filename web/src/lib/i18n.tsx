import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { catalogues, LOCALES, type Locale, type MessageKey } from './catalogue';

export type Params = Record<string, string | number>;

export type Translate = ((key: MessageKey, params?: Params) => string) & {
  locale: Locale;
  /** Whether a key computed at run time (an error code, a status) has a text. */
  has(key: string): key is MessageKey;
};

const STORAGE_KEY = 'openlines.locale';

/** The saved choice, else the browser's preferred languages, else English. */
export function detectLocale(
  saved: string | null,
  languages: readonly string[] = typeof navigator === 'undefined' ? [] : navigator.languages,
): Locale {
  if (saved && (LOCALES as readonly string[]).includes(saved)) return saved as Locale;
  for (const language of languages) {
    const base = language.toLowerCase().split('-')[0];
    if ((LOCALES as readonly string[]).includes(base ?? '')) return base as Locale;
  }
  return 'en';
}

/** `{count, plural, one {# member} other {# members}}`: the ICU plural form, `#` being the number. */
const PLURAL = /\{(\w+), plural,((?:\s*\w+\s*\{[^{}]*\})+)\s*\}/g;
const PLURAL_OPTION = /(\w+)\s*\{([^{}]*)\}/g;

/**
 * Fills `{name}` placeholders and picks plural forms by the locale's rules (Russian has one / few /
 * many: 1 участник, 2 участника, 5 участников), falling back to `other`.
 */
export function interpolate(text: string, params?: Params, locale: Locale = 'en'): string {
  if (!params) return text;
  const rules = new Intl.PluralRules(locale);
  const plural = text.replace(PLURAL, (whole, name: string, options: string) => {
    if (!Object.hasOwn(params, name)) return whole;
    const value = Number(params[name]);
    const forms = new Map(Array.from(options.matchAll(PLURAL_OPTION), (match) => [match[1], match[2]]));
    const form = forms.get(rules.select(value)) ?? forms.get('other') ?? whole;
    return form.replaceAll('#', String(params[name]));
  });
  return plural.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}

export function makeTranslate(locale: Locale): Translate {
  const catalogue = catalogues[locale];
  const t = ((key: MessageKey, params?: Params) =>
    interpolate(catalogue[key] ?? key, params, locale)) as Translate;
  t.locale = locale;
  t.has = (key: string): key is MessageKey => Object.hasOwn(catalogue, key);
  return t;
}

interface I18nValue {
  t: Translate;
  locale: Locale;
  setLocale(locale: Locale): void;
}

const I18nContext = createContext<I18nValue | null>(null);

function readSaved(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(() => detectLocale(readSaved()));
  const setLocale = useCallback((next: Locale) => {
    setLocaleState(next);
    try {
      window.localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Private mode: the choice lasts for this page only.
    }
  }, []);
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const value = useMemo(() => ({ t: makeTranslate(locale), locale, setLocale }), [locale, setLocale]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18nValue {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}

export function useT(): Translate {
  return useI18n().t;
}
