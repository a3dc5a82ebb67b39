import { AUDIT_ACTIONS, type AuditAction, type AuditEntry, type AuditListQuery } from '@openlines/contract';
import { useState } from 'react';
import { client } from '../lib/api';
import { formatDateTime } from '../lib/format';
import { useT } from '../lib/i18n';
import { ErrorNotice } from '../ui/error-notice';
import { useLoad } from './use-load';

const PAGE = 50;

/** A date input's value (local day) → the instant it starts, for the period filter. */
function dayStart(day: string): string | undefined {
  if (!day) return undefined;
  const at = new Date(`${day}T00:00:00`);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

function dayAfter(day: string): string | undefined {
  const start = dayStart(day);
  return start ? new Date(Date.parse(start) + 86_400_000).toISOString() : undefined;
}

/**
 * The audit log (issue 18): privileged actions, newest first, filtered by action, user and period.
 * It shows who, when, what and the names of the settings that changed — never their values.
 */
export function AuditScreen() {
  const t = useT();
  const [action, setAction] = useState<AuditAction | ''>('');
  const [userId, setUserId] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const query: AuditListQuery = {
    limit: PAGE,
    ...(action ? { action } : {}),
    ...(userId ? { userId } : {}),
    ...(dayStart(from) ? { from: dayStart(from) } : {}),
    ...(dayAfter(to) ? { to: dayAfter(to) } : {}),
  };
  const key = JSON.stringify(query);
  const users = useLoad(() => client.users.list());
  const first = useLoad(() => client.privacy.auditLog(query), key);
  const [more, setMore] = useState<{ key: string; items: AuditEntry[]; nextCursor: string | null } | null>(
    null,
  );
  const [moreError, setMoreError] = useState<unknown>(null);
  const extra = more?.key === key ? more : null;
  const items = [...(first.data?.items ?? []), ...(extra?.items ?? [])];
  const nextCursor = extra ? extra.nextCursor : (first.data?.nextCursor ?? null);

  async function loadMore() {
    if (!nextCursor) return;
    setMoreError(null);
    try {
      const page = await client.privacy.auditLog({ ...query, cursor: nextCursor });
      setMore({ key, items: [...(extra?.items ?? []), ...page.items], nextCursor: page.nextCursor });
    } catch (failure) {
      setMoreError(failure);
    }
  }

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">{t('audit.title')}</h1>
      <p className="muted">{t('audit.explain')}</p>
      <form className="filters audit-filters" onSubmit={(event) => event.preventDefault()}>
        <label>
          {t('audit.action')}
          <select value={action} onChange={(event) => setAction(event.target.value as AuditAction | '')}>
            <option value="">{t('audit.anyAction')}</option>
            {AUDIT_ACTIONS.map((name) => (
              <option key={name} value={name}>
                {t(`audit.actions.${name}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('audit.user')}
          <select value={userId} onChange={(event) => setUserId(event.target.value)}>
            <option value="">{t('audit.anyUser')}</option>
            {users.data?.map((user) => (
              <option key={user.id} value={user.id}>
                {user.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('audit.from')}
          <input type="date" value={from} onChange={(event) => setFrom(event.target.value)} />
        </label>
        <label>
          {t('audit.to')}
          <input type="date" value={to} onChange={(event) => setTo(event.target.value)} />
        </label>
      </form>
      <ErrorNotice error={first.error ?? moreError} />
      <table className="table audit-table">
        <thead>
          <tr>
            <th scope="col">{t('audit.when')}</th>
            <th scope="col">{t('audit.who')}</th>
            <th scope="col">{t('audit.action')}</th>
            <th scope="col">{t('audit.target')}</th>
            <th scope="col">{t('audit.changed')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((entry) => (
            <tr key={entry.id}>
              <td>
                <time dateTime={entry.at}>{formatDateTime(entry.at, t.locale)}</time>
              </td>
              <td>{entry.userName || t('audit.system')}</td>
              <td>{t(`audit.actions.${entry.action}`)}</td>
              <td>
                {t(`audit.targets.${entry.targetType}`)}{' '}
                {entry.targetId ? <code title={entry.targetId}>{entry.targetId.slice(0, 8)}</code> : null}
              </td>
              <td className="audit-keys">
                {entry.changedKeys.length
                  ? entry.changedKeys.map((name) => <code key={name}>{name}</code>)
                  : '—'}
              </td>
            </tr>
          ))}
          {first.data && items.length === 0 ? (
            <tr>
              <td colSpan={5} className="muted">
                {t('audit.none')}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      {first.loading && !first.data ? <p className="muted">{t('common.loading')}</p> : null}
      {nextCursor ? (
        <button type="button" onClick={() => void loadMore()}>
          {t('audit.more')}
        </button>
      ) : null}
    </section>
  );
}
