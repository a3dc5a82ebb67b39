import { LOCALES, type Locale } from '../lib/catalogue';
import { useI18n } from '../lib/i18n';

export function LanguageSwitch() {
  const { t, locale, setLocale } = useI18n();
  return (
    <label className="language">
      <span className="visually-hidden">{t('language.label')}</span>
      <select value={locale} onChange={(event) => setLocale(event.target.value as Locale)}>
        {LOCALES.map((value) => (
          <option key={value} value={value} lang={value}>
            {value === 'ru' ? 'Русский' : 'English'}
          </option>
        ))}
      </select>
    </label>
  );
}
