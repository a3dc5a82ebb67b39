import { type FormEvent, useEffect, useState } from 'react';
import { client } from '../lib/api';
import { fieldErrorsOf } from '../lib/errors';
import { useT } from '../lib/i18n';
import { ErrorNotice } from '../ui/error-notice';
import { Field } from '../ui/field';
import { useLoad } from './use-load';

/** The account's retention of messages and files (docs/privacy.md); needs managePersonalData. */
export function PrivacyScreen() {
  const t = useT();
  const { data, error, reload } = useLoad(() => client.privacy.settings(), 'privacy');
  const [keep, setKeep] = useState(true);
  const [days, setDays] = useState('365');
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (!data) return;
    setKeep(data.messageRetentionDays === null);
    if (data.messageRetentionDays !== null) setDays(String(data.messageRetentionDays));
  }, [data]);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setSaveError(null);
    setSaved(false);
    try {
      await client.privacy.updateSettings({ messageRetentionDays: keep ? null : Number(days) });
      setSaved(true);
      await reload();
    } catch (failure) {
      setSaveError(failure);
    }
  }
  const fieldErrors = fieldErrorsOf(saveError);
  return (
    <section aria-labelledby="privacy-title">
      <h1 id="privacy-title">{t('privacy.title')}</h1>
      <ErrorNotice error={error} />
      <form className="stack" onSubmit={submit}>
        <fieldset className="settings-group">
          <legend>{t('privacy.retention')}</legend>
          <div className="stack">
            <label className="checkbox">
              <input type="radio" name="retention" checked={keep} onChange={() => setKeep(true)} />
              {t('privacy.keep')}
            </label>
            <label className="checkbox">
              <input type="radio" name="retention" checked={!keep} onChange={() => setKeep(false)} />
              {t('privacy.eraseOlder')}
            </label>
          </div>
          {keep ? null : (
            <Field label={t('privacy.days')} errors={fieldErrors.messageRetentionDays}>
              {(props) => (
                <input
                  {...props}
                  type="number"
                  min={1}
                  max={36500}
                  value={days}
                  onChange={(event) => setDays(event.target.value)}
                />
              )}
            </Field>
          )}
          <p className="muted">{t('privacy.lineHint')}</p>
        </fieldset>
        {data ? (
          <p className="muted">{t('privacy.events', { hours: String(data.eventRetentionHours) })}</p>
        ) : null}
        <ErrorNotice error={saveError} onDismiss={() => setSaveError(null)} />
        <div className="row-buttons">
          <button type="submit">{t('common.save')}</button>
          {saved ? (
            <span role="status" className="saved">
              {t('common.saved')}
            </span>
          ) : null}
        </div>
      </form>
    </section>
  );
}
