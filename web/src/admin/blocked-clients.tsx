import { useState } from 'react';
import { client } from '../lib/api';
import { formatDateTime } from '../lib/format';
import { useT } from '../lib/i18n';
import { ErrorNotice } from '../ui/error-notice';
import { useLoad } from './use-load';

/**
 * OP-3: the clients a spam mark blocked, for supervisors. Lifting a block removes the spam marks
 * of the client's dialogs; their next message is routed again.
 */
export function BlockedClientsScreen() {
  const t = useT();
  const { data, error, reload } = useLoad(() => client.dialogs.blockedClients(), 'blocked');
  const [actionError, setActionError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  async function unblock(id: string, name: string) {
    setActionError(null);
    setDone(null);
    setBusy(id);
    try {
      await client.dialogs.unblockClient(id);
      setDone(t('blocked.unblocked', { name }));
      await reload();
    } catch (failure) {
      setActionError(failure);
    } finally {
      setBusy(null);
    }
  }

  return (
    <section aria-labelledby="blocked-title">
      <h1 id="blocked-title">{t('blocked.title')}</h1>
      <p className="muted">{t('blocked.explain')}</p>
      <ErrorNotice error={error ?? actionError} />
      {done ? (
        <p role="status" className="saved">
          {done}
        </p>
      ) : null}
      <table className="table blocked-table">
        <thead>
          <tr>
            <th scope="col">{t('blocked.client')}</th>
            <th scope="col">{t('blocked.identities')}</th>
            <th scope="col">{t('blocked.since')}</th>
            <th scope="col">{t('blocked.by')}</th>
            <th scope="col">
              <span className="visually-hidden">{t('blocked.unblock')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(data?.items ?? []).map((blocked) => (
            <tr key={blocked.id}>
              <td className="wrap-anywhere">
                {blocked.name}
                {blocked.email || blocked.phone ? (
                  <div className="muted">{[blocked.email, blocked.phone].filter(Boolean).join(', ')}</div>
                ) : null}
              </td>
              <td className="wrap-anywhere">
                <ul className="plain">
                  {blocked.identities.map((identity) => (
                    <li key={`${identity.channelId}:${identity.externalId}`}>
                      <span className="chip">{identity.channelName}</span> <code>{identity.externalId}</code>
                    </li>
                  ))}
                </ul>
              </td>
              <td>
                <time dateTime={blocked.blockedAt}>{formatDateTime(blocked.blockedAt, t.locale)}</time>
              </td>
              <td>{blocked.blockedByName ?? '—'}</td>
              <td>
                <button
                  type="button"
                  disabled={busy === blocked.id}
                  onClick={() => void unblock(blocked.id, blocked.name)}
                >
                  {t('blocked.unblock')}
                </button>
              </td>
            </tr>
          ))}
          {data && data.items.length === 0 ? (
            <tr>
              <td colSpan={5} className="muted">
                {t('blocked.empty')}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      {data?.hasMore ? <p className="muted">{t('blocked.more')}</p> : null}
    </section>
  );
}
