import type { Dialog } from '@openlines/contract';
import { isOpen } from '@openlines/contract';
import { type FormEvent, useState } from 'react';
import { client } from '../lib/api';
import { formatDateTime } from '../lib/format';
import { useT } from '../lib/i18n';
import { safeUrl } from '../lib/safe-url';
import { ConfirmByName } from '../ui/confirm-by-name';
import { ErrorNotice } from '../ui/error-notice';
import { CrmCardBlock } from './crm-card';
import { userNames } from './selectors';
import { useStore, useWorkspace } from './store-context';

/** Who the client is (OP-2): contacts, identities per channel, the session, and the CRM links. */
export function ClientCard({
  dialog,
  open,
  onClose,
}: {
  dialog: Dialog;
  open: boolean;
  onClose: () => void;
}) {
  const t = useT();
  const names = useWorkspace(userNames);
  const store = useStore();
  const session = dialog.session;
  const name = (id: string | null | undefined) => (id ? (names[id] ?? id.slice(0, 8)) : '—');
  return (
    <aside
      id="client-card"
      className={`client-card${open ? ' open' : ''}`}
      aria-labelledby="client-card-title"
    >
      <div className="card-head">
        <h2 id="client-card-title">{t('card.title')}</h2>
        <button
          type="button"
          className="icon-button card-close"
          onClick={onClose}
          aria-label={t('common.close')}
        >
          ×
        </button>
      </div>
      <dl className="facts">
        <dt>{t('card.name')}</dt>
        <dd>{dialog.client.name}</dd>
        <dt>{t('card.email')}</dt>
        <dd>{dialog.client.email ?? '—'}</dd>
        <dt>{t('card.phone')}</dt>
        <dd>{dialog.client.phone ?? '—'}</dd>
        <dt>{t('card.identities')}</dt>
        <dd>
          <ul className="plain">
            {dialog.client.identities.map((identity) => (
              <li key={`${identity.channelId}:${identity.externalId}`}>
                <span className="chip">
                  {identity.channelId === dialog.channelId
                    ? dialog.channelKind
                    : identity.channelId.slice(0, 8)}
                </span>{' '}
                <code>{identity.externalId}</code>
              </li>
            ))}
          </ul>
        </dd>
        <VisitorPage dialog={dialog} />
        {dialog.client.blockedAt ? (
          <>
            <dt>{t('card.blocked')}</dt>
            <dd>{formatDateTime(dialog.client.blockedAt, t.locale)}</dd>
          </>
        ) : null}
        <dt>{t('card.since')}</dt>
        <dd>{formatDateTime(dialog.createdAt, t.locale)}</dd>
      </dl>
      {session ? (
        <>
          <h3>{t('card.session')}</h3>
          <dl className="facts">
            <dt>{t('filter.status')}</dt>
            <dd>{t(`status.${session.status}`)}</dd>
            <dt>{t('filter.operator')}</dt>
            <dd>{name(session.operatorId)}</dd>
            <dt>{t('card.participants')}</dt>
            <dd>{session.participantIds.length ? session.participantIds.map(name).join(', ') : '—'}</dd>
            <dt>{t('card.started')}</dt>
            <dd>{formatDateTime(session.createdAt, t.locale)}</dd>
            {session.firstAnswerAt ? (
              <>
                <dt>{t('card.firstAnswer')}</dt>
                <dd>{formatDateTime(session.firstAnswerAt, t.locale)}</dd>
              </>
            ) : null}
            {session.closedAt ? (
              <>
                <dt>{t('card.closed')}</dt>
                <dd>{formatDateTime(session.closedAt, t.locale)}</dd>
              </>
            ) : null}
          </dl>
        </>
      ) : null}
      {session ? <Ratings dialog={dialog} /> : null}
      {store.me.permissions.crm !== 'none' ? (
        <CrmCardBlock dialogId={dialog.id} clientName={dialog.client.name} />
      ) : null}
      <ClientData dialog={dialog} />
      <EraseClient dialog={dialog} />
    </aside>
  );
}

/**
 * The widget visitor's current page and referrer (issue 19), the newest any of their identities
 * reported. The address is shown as text; it is a link only when it is http(s), and the link
 * opens apart from the app, telling the site nothing about it.
 */
function VisitorPage({ dialog }: { dialog: Dialog }) {
  const t = useT();
  const page = dialog.client.identities
    .flatMap((identity) => (identity.page ? [identity.page] : []))
    .sort((a, b) => b.at.localeCompare(a.at))[0];
  if (!page) return null;
  return (
    <>
      <dt>{t('card.page')}</dt>
      <dd className="page-url">
        <PageLink url={page.url} />
        <span className="muted"> {t('card.pageAt', { time: formatDateTime(page.at, t.locale) })}</span>
      </dd>
      <dt>{t('card.referrer')}</dt>
      <dd className="page-url">{page.referrer ? <PageLink url={page.referrer} /> : t('card.noReferrer')}</dd>
    </>
  );
}

function PageLink({ url }: { url: string }) {
  const href = safeUrl(url);
  if (!href || !/^https?:\/\//i.test(url)) return <span>{url}</span>;
  return (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {url}
    </a>
  );
}

/**
 * A client's right of access (152-FZ art. 14, GDPR art. 15): everything stored about them as a zip,
 * for those with managePersonalData. A plain link: the browser streams the download to disk.
 */
function ClientData({ dialog }: { dialog: Dialog }) {
  const t = useT();
  const store = useStore();
  if (!store.me.permissions.managePersonalData) return null;
  return (
    <>
      <h3>{t('card.personalData')}</h3>
      <p>
        <a
          className="button"
          href={client.privacy.clientExportUrl(dialog.client.id)}
          download={`client-${dialog.client.id}.zip`}
        >
          {t('card.exportData')}
        </a>
      </p>
      <p className="muted">{t('card.exportExplain')}</p>
    </>
  );
}

/** The client's rating (QR-1) and, for supervisors, their own 1–5 rating with a comment (QR-3). */
function Ratings({ dialog }: { dialog: Dialog }) {
  const t = useT();
  const store = useStore();
  const session = dialog.session!;
  const [value, setValue] = useState(session.supervisorRating?.value ?? 0);
  const [comment, setComment] = useState(session.supervisorRating?.comment ?? '');
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const supervise = store.me.permissions.supervise;
  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setSaved(false);
    try {
      await client.dialogs.rateAsSupervisor(session.id, {
        ...(value ? { rating: value } : {}),
        ...(comment.trim() ? { comment: comment.trim() } : {}),
      });
      setSaved(true);
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <>
      <h3>{t('card.rating')}</h3>
      <p>
        {session.rating
          ? `${t(session.rating.value === 'like' ? 'card.like' : 'card.dislike')}${session.rating.comment ? ` — ${session.rating.comment}` : ''}`
          : session.ratingRequestedAt
            ? t('card.ratingAsked')
            : t('card.noRating')}
      </p>
      {supervise ? (
        <form className="stack" onSubmit={submit}>
          <fieldset className="settings-group settings-inline">
            <legend>{t('card.supervisorRating')}</legend>
            {[1, 2, 3, 4, 5].map((score) => (
              <label key={score} className="checkbox">
                <input
                  type="radio"
                  name={`supervisor-rating-${session.id}`}
                  checked={value === score}
                  onChange={() => setValue(score)}
                />
                {score}
              </label>
            ))}
          </fieldset>
          <label htmlFor={`supervisor-comment-${session.id}`}>{t('card.comment')}</label>
          <textarea
            id={`supervisor-comment-${session.id}`}
            rows={2}
            value={comment}
            onChange={(event) => setComment(event.target.value)}
          />
          <ErrorNotice error={error} onDismiss={() => setError(null)} />
          <div className="row-buttons">
            <button type="submit" disabled={!value && !comment.trim()}>
              {t('card.rate')}
            </button>
            {saved ? (
              <span role="status" className="saved">
                {t('common.saved')}
              </span>
            ) : null}
          </div>
        </form>
      ) : null}
    </>
  );
}

/**
 * A client's right to erasure (docs/privacy.md), for those with managePersonalData: anonymise (the
 * dialogs stay as "Deleted client", without texts and files) or delete with the dialogs, confirmed
 * by typing the client's name. The server refuses while the session is open.
 */
function EraseClient({ dialog }: { dialog: Dialog }) {
  const t = useT();
  const store = useStore();
  const [mode, setMode] = useState<'anonymise' | 'delete' | null>(null);
  const [done, setDone] = useState<string | null>(null);
  if (!store.me.permissions.managePersonalData) return null;
  const open = dialog.session ? isOpen(dialog.session.status) : false;
  return (
    <>
      <h3>{t('erase.title')}</h3>
      <p className="muted">{open ? t('erase.closeFirst') : t('erase.hint')}</p>
      <div className="row-buttons">
        <button type="button" className="danger-outline" disabled={open} onClick={() => setMode('anonymise')}>
          {t('erase.anonymise')}
        </button>
        <button type="button" className="danger-outline" disabled={open} onClick={() => setMode('delete')}>
          {t('erase.delete')}
        </button>
      </div>
      {done ? (
        <p role="status" className="saved">
          {done}
        </p>
      ) : null}
      {mode ? (
        <ConfirmByName
          title={t('erase.confirmTitle', { name: dialog.client.name })}
          warning={t(mode === 'anonymise' ? 'erase.anonymiseWarning' : 'erase.deleteWarning')}
          name={dialog.client.name}
          confirmLabel={t('erase.confirm')}
          onClose={() => setMode(null)}
          onConfirm={async (typed) => {
            const summary = await client.privacy.eraseClient(dialog.client.id, { mode, confirm: typed });
            setMode(null);
            setDone(t('erase.done', { messages: String(summary.messages), files: String(summary.files) }));
            if (mode === 'delete') await store.open(null);
            await store.resync();
          }}
        />
      ) : null}
    </>
  );
}
