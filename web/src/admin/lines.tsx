import { type FormEvent, useState } from 'react';
import { client } from '../lib/api';
import { fieldErrorsOf } from '../lib/errors';
import { useT } from '../lib/i18n';
import { linkClick, navigate } from '../lib/router';
import { ErrorNotice } from '../ui/error-notice';
import { Field } from '../ui/field';
import { useLoad } from './use-load';

/** Lines of the account and the plan's limit (LN-1). */
export function LinesScreen() {
  const t = useT();
  const { data, error, reload } = useLoad(() => client.lines.list());
  const [name, setName] = useState('');
  const [createError, setCreateError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const count = data?.items.length ?? 0;
  const atLimit = data !== null && count >= data.limit;

  async function create(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setCreateError(null);
    try {
      const line = await client.lines.create({ name: name.trim() });
      setName('');
      await reload();
      navigate(`/admin/lines/${line.id}`);
    } catch (failure) {
      setCreateError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="lines-title">
      <h1 id="lines-title">{t('lines.title')}</h1>
      <ErrorNotice error={error} />
      {data ? (
        <p className={atLimit ? 'notice notice-warn' : 'muted'} data-testid="line-limit">
          {t('lines.limit', { count, limit: data.limit })}
          {atLimit ? ` ${t('lines.limitReached')}` : ''}
        </p>
      ) : null}
      <table className="table">
        <thead>
          <tr>
            <th scope="col">{t('common.name')}</th>
            <th scope="col">{t('lines.state')}</th>
            <th scope="col">{t('lines.queue')}</th>
          </tr>
        </thead>
        <tbody>
          {data?.items.map((line) => (
            <tr key={line.id}>
              <td>
                <a href={`/admin/lines/${line.id}`} onClick={linkClick(`/admin/lines/${line.id}`)}>
                  {line.name}
                </a>
              </td>
              <td>
                <span className={line.active ? 'status status-answered' : 'status status-closed'}>
                  {line.active ? t('lines.active') : t('lines.inactive')}
                </span>
              </td>
              <td>{t('lines.members', { count: line.settings.queue.members.length })}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form className="inline-form" onSubmit={create} noValidate>
        <h2>{t('lines.create')}</h2>
        <Field label={t('common.name')} errors={fieldErrorsOf(createError).name}>
          {(props) => (
            <input
              {...props}
              value={name}
              onChange={(event) => setName(event.target.value)}
              maxLength={200}
            />
          )}
        </Field>
        <button type="submit" className="primary" disabled={busy || atLimit || !name.trim()}>
          {t('lines.createButton')}
        </button>
        {atLimit ? <p className="muted">{t('lines.limitHelp')}</p> : null}
        <ErrorNotice error={createError} inline={['name']} />
      </form>
    </section>
  );
}
