import type { CrmAdapter, CrmAdapterKind } from '@openlines/contract';
import { type FormEvent, useState } from 'react';
import { fieldErrorsOf } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { useT } from '../lib/i18n';
import { ErrorNotice } from '../ui/error-notice';
import { Field } from '../ui/field';
import { crmApi } from '../workspace/crm-card';
import { useLoad } from './use-load';

// The account's CRM (CRM-4; docs/crm.md "External CRMs"): the built-in one, or an external CRM's
// REST API through the example adapter. The token is write-only: the server never shows it back.

export function CrmAdapterScreen() {
  const t = useT();
  const { data, error, reload } = useLoad(() => crmApi.adapter(), 'crm-adapter');
  return (
    <section aria-labelledby="crm-adapter-title">
      <h1 id="crm-adapter-title">{t('crmAdapter.title')}</h1>
      <p className="muted">{t('crmAdapter.intro')}</p>
      <ErrorNotice error={error} />
      {data ? <CrmAdapterForm current={data} onSaved={reload} /> : null}
    </section>
  );
}

function CrmAdapterForm({ current, onSaved }: { current: CrmAdapter; onSaved: () => Promise<unknown> }) {
  const t = useT();
  const [kind, setKindNow] = useState<CrmAdapterKind>(current.kind);
  const [baseUrl, setBaseUrlNow] = useState(current.baseUrl ?? '');
  const [token, setTokenNow] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  // "Saved" stands only until the next edit.
  const edited =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      setSaved(false);
      set(value);
    };
  const [setKind, setBaseUrl, setToken] = [edited(setKindNow), edited(setBaseUrlNow), edited(setTokenNow)];
  const errors = fieldErrorsOf(error);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await crmApi.setAdapter(
        kind === 'builtin'
          ? { kind }
          : { kind, baseUrl: baseUrl.trim(), ...(token.trim() ? { token: token.trim() } : {}) },
      );
      setTokenNow('');
      await onSaved();
      setSaved(true);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="stack settings-group" onSubmit={submit} noValidate>
      <Field label={t('crmAdapter.kind')} errors={errors.kind}>
        {(props) => (
          <select {...props} value={kind} onChange={(event) => setKind(event.target.value as CrmAdapterKind)}>
            <option value="builtin">{t('crmAdapter.kind.builtin')}</option>
            <option value="rest">{t('crmAdapter.kind.rest')}</option>
          </select>
        )}
      </Field>
      {kind === 'rest' ? (
        <>
          <Field label={t('crmAdapter.baseUrl')} hint={t('crmAdapter.baseUrlHint')} errors={errors.baseUrl}>
            {(props) => (
              <input
                {...props}
                type="url"
                placeholder="https://crm.example.com/api"
                value={baseUrl}
                onChange={(event) => setBaseUrl(event.target.value)}
              />
            )}
          </Field>
          <Field
            label={t('crmAdapter.token')}
            hint={current.hasToken ? t('crmAdapter.tokenKept') : undefined}
            errors={errors.token}
          >
            {(props) => (
              <input
                {...props}
                type="password"
                autoComplete="off"
                value={token}
                onChange={(event) => setToken(event.target.value)}
              />
            )}
          </Field>
        </>
      ) : null}
      {current.kind === 'rest' ? (
        <p role="status" className="muted">
          {current.pending > 0
            ? t('crmAdapter.pending', { count: current.pending })
            : t('crmAdapter.noPending')}
          {current.lastError ? ` — ${t('crmAdapter.lastError')}: ${current.lastError}` : ''}
          {current.updatedAt
            ? ` · ${t('crmAdapter.updatedAt')} ${formatDateTime(current.updatedAt, t.locale)}`
            : ''}
        </p>
      ) : null}
      <ErrorNotice error={error} inline={['kind', 'baseUrl', 'token']} />
      <div className="save-bar">
        {saved ? (
          <span role="status" className="saved">
            {t('common.saved')}
          </span>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          {t('common.save')}
        </button>
      </div>
    </form>
  );
}
