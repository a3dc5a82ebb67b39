import {
  type Attachment,
  type ConsentRecord,
  type Dialog,
  MaxMessageText,
  type Message,
  type SessionTransition,
} from '@openlines/contract';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { isOpen, waitingSince } from '../lib/dialogs';
import { formatBytes, formatDay, formatDuration, formatTime } from '../lib/format';
import { type Translate, useT } from '../lib/i18n';
import { withoutDelivered } from '../lib/messages';
import { linkClick } from '../lib/router';
import { isInlineImage, safeUrl } from '../lib/safe-url';
import { buildTimeline } from '../lib/timeline';
import { ErrorNotice } from '../ui/error-notice';
import { ClientCard } from './client-card';
import { Composer } from './composer';
import { DialogActions } from './dialog-actions';
import { DialogTags } from './dialog-tags';
import { dialogSlice, shallowEqual, timelineSlice, typingSlice } from './selectors';
import { useStore, useWorkspace } from './store-context';
import { useNow } from './use-now';

export function DialogView({ dialogId }: { dialogId: string }) {
  const t = useT();
  const { dialog, line, operatorName, loadError } = useWorkspace(dialogSlice(dialogId), shallowEqual);
  const now = useNow();
  const [showCard, setShowCard] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);

  // Opening a dialog moves focus to its heading, so keyboard and screen-reader users land in it.
  useEffect(() => {
    headingRef.current?.focus();
  }, []);

  if (!dialog) {
    return (
      <section className="dialog-view">
        {loadError ? <ErrorNotice error={loadError} /> : <p className="padded">{t('common.loading')}</p>}
      </section>
    );
  }
  const since = waitingSince(dialog);
  const watchTyping = line?.settings.queue.watchTyping ?? true;

  return (
    <div className="dialog-area">
      <section className="dialog-view" aria-labelledby="dialog-title">
        <header className="dialog-header">
          <a href="/" onClick={linkClick('/')} className="back-link">
            ← {t('dialog.back')}
          </a>
          <div className="dialog-heading">
            <h1 id="dialog-title" ref={headingRef} tabIndex={-1}>
              {dialog.client.name}
            </h1>
            <div className="dialog-meta">
              <span className="chip">{dialog.channelKind}</span>
              <span className="chip">{line?.name ?? '—'}</span>
              {dialog.session ? (
                <span className={`status status-${dialog.session.status}`} data-testid="dialog-status">
                  {t(`status.${dialog.session.status}`)}
                </span>
              ) : null}
              {operatorName ? (
                <span className="chip">{t('dialog.operator', { name: operatorName })}</span>
              ) : null}
              {since && isOpen(dialog) ? (
                <span className="waiting">
                  {t('dialog.waiting', { time: formatDuration(now - Date.parse(since), t.locale) })}
                </span>
              ) : null}
              {dialog.pinnedOperatorId ? <span className="chip">{t('dialog.pinned')}</span> : null}
              {dialog.session?.consent === 'pending' ? (
                <span className="chip chip-warn">{t('dialog.consentPending')}</span>
              ) : null}
              {dialog.session?.openedOffHours ? <span className="chip">{t('dialog.offHours')}</span> : null}
              {dialog.unreachable ? <span className="chip chip-warn">{t('dialog.unreachable')}</span> : null}
            </div>
          </div>
          <button
            type="button"
            className="card-toggle"
            aria-expanded={showCard}
            aria-controls="client-card"
            onClick={() => setShowCard(!showCard)}
          >
            {t('card.title')}
          </button>
        </header>
        <DialogTags dialog={dialog} />
        <DialogActions dialog={dialog} line={line} />
        <Timeline dialog={dialog} />
        {watchTyping ? <TypingIndicator dialogId={dialog.id} clientName={dialog.client.name} /> : null}
        <Composer dialog={dialog} />
      </section>
      <ClientCard dialog={dialog} open={showCard} onClose={() => setShowCard(false)} />
    </div>
  );
}

/** What the client is typing: the only part of the dialog that the typing signals re-render. */
function TypingIndicator({ dialogId, clientName }: { dialogId: string; clientName: string }) {
  const t = useT();
  const typing = useWorkspace(typingSlice(dialogId));
  if (!typing) return null;
  return (
    <div className="typing" aria-live="polite" data-testid="typing">
      <span className="typing-label">{t('dialog.typing', { name: clientName })}</span>
      {typing.text ? <span className="typing-text">{typing.text}</span> : null}
    </div>
  );
}

function Timeline({ dialog }: { dialog: Dialog }) {
  const t = useT();
  const store = useStore();
  const { history, pending: unsent, names } = useWorkspace(timelineSlice(dialog.id), shallowEqual);
  const pending = withoutDelivered(unsent ?? [], history?.messages ?? []);
  const items = useMemo(
    () =>
      buildTimeline(history?.messages ?? [], history?.transitions ?? [], undefined, history?.consents ?? []),
    [history?.messages, history?.transitions, history?.consents],
  );
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const count = items.length + pending.length;

  // Stay at the bottom while new messages arrive, unless the operator scrolled up to read.
  // biome-ignore lint/correctness/useExhaustiveDependencies: scrolling follows the number of items
  useLayoutEffect(() => {
    const element = scroller.current;
    if (element && stick.current) element.scrollTop = element.scrollHeight;
  }, [count]);

  return (
    <div
      className="timeline"
      ref={scroller}
      role="log"
      aria-label={t('dialog.history')}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard to scroll it
      tabIndex={0}
      onScroll={(event) => {
        const element = event.currentTarget;
        stick.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
      }}
    >
      {history && !history.complete && history.messages.length > 0 ? (
        <button
          type="button"
          className="link-button load-earlier"
          disabled={history.loading}
          onClick={() => void store.loadEarlier(dialog.id)}
        >
          {t('dialog.loadEarlier')}
        </button>
      ) : null}
      {history?.error ? <ErrorNotice error={history.error} /> : null}
      {!history || (history.loading && history.messages.length === 0) ? (
        <p className="muted padded">{t('common.loading')}</p>
      ) : null}
      {items.map((item) => {
        if (item.kind === 'day') {
          return (
            <p key={item.key} className="day-separator">
              <span>{formatDay(item.day, t.locale)}</span>
            </p>
          );
        }
        if (item.kind === 'event') {
          return <SystemEvent key={item.key} transition={item.transition} names={names} t={t} />;
        }
        if (item.kind === 'consent') return <ConsentEvent key={item.key} consent={item.consent} t={t} />;
        return (
          <MessageItem
            key={item.key}
            message={item.message}
            dialog={dialog}
            authorName={item.message.authorId ? names[item.message.authorId] : undefined}
          />
        );
      })}
      {pending.map((message) => (
        <div
          key={message.clientMessageId}
          className={`message message-operator${message.private ? ' message-private' : ''} message-pending`}
        >
          <div className="bubble">
            {message.private ? <div className="private-label">{t('dialog.privateLabel')}</div> : null}
            <div className="message-text">{message.text}</div>
            <div className="message-foot">
              {message.error ? (
                <span className="delivery delivery-failed" role="alert">
                  {t('dialog.sendFailed')}{' '}
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => store.discardPending(dialog.id, message.clientMessageId)}
                  >
                    {t('common.dismiss')}
                  </button>
                </span>
              ) : (
                <span className="delivery">{t('dialog.sending')}</span>
              )}
            </div>
          </div>
        </div>
      ))}
    </div>
  );
}

function MessageItem({
  message,
  dialog,
  authorName,
}: {
  message: Message;
  dialog: Dialog;
  authorName: string | undefined;
}) {
  const t = useT();
  // A bot answers on our side of the conversation, like an operator (BOT-1).
  const side =
    message.authorKind === 'client'
      ? 'client'
      : message.authorKind === 'operator' || message.authorKind === 'bot'
        ? 'operator'
        : 'system';
  const name =
    message.authorKind === 'client'
      ? dialog.client.name
      : message.authorKind === 'operator'
        ? (authorName ?? t('dialog.operatorUnknown'))
        : t(`author.${message.authorKind}`);
  const kind = message.systemKind ? `systemKind.${message.systemKind}` : null;
  const kindLabel = kind && t.has(kind) ? t(kind) : null;
  const store = useStore();
  const mine = message.authorKind === 'operator' && message.authorId === store.me.user.id;
  const deleted = message.deletedAt !== null;
  const [mode, setMode] = useState<'view' | 'edit' | 'confirmDelete'>('view');
  const [draft, setDraft] = useState(message.text ?? '');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      setMode('view');
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div
      className={`message message-${side}${message.authorKind === 'bot' ? ' message-bot' : ''}${message.private ? ' message-private' : ''}`}
      data-message-id={message.id}
    >
      <div className="bubble">
        <div className="message-author">
          {name}
          {message.private ? <span className="private-label">{t('dialog.privateLabel')}</span> : null}
          {kindLabel ? <span className="muted">· {kindLabel}</span> : null}
        </div>
        {deleted ? (
          <div className="message-text muted message-deleted">{t('dialog.deleted')}</div>
        ) : mode === 'edit' ? (
          <form
            className="message-edit"
            onSubmit={(event) => {
              event.preventDefault();
              void run(() => store.editMessage(message.dialogId, message.id, draft.trim()));
            }}
          >
            <textarea
              aria-label={t('dialog.editLabel')}
              value={draft}
              maxLength={MaxMessageText}
              onChange={(event) => setDraft(event.target.value)}
            />
            <div className="message-edit-actions">
              <button type="submit" className="button button-primary" disabled={busy || !draft.trim()}>
                {t('common.save')}
              </button>
              <button type="button" className="button" onClick={() => setMode('view')}>
                {t('common.cancel')}
              </button>
            </div>
          </form>
        ) : message.text !== null ? (
          <div className="message-text">{message.text}</div>
        ) : message.attachments.length === 0 ? (
          <div className="message-text muted">{t('dialog.erased')}</div>
        ) : null}
        {!deleted && message.attachments.length > 0 ? (
          <Attachments attachments={message.attachments} />
        ) : null}
        {error ? <ErrorNotice error={error} /> : null}
        <div className="message-foot">
          <time dateTime={message.createdAt}>{formatTime(message.createdAt, t.locale)}</time>
          {message.editedAt && !deleted ? (
            <span className="message-edited" title={formatTime(message.editedAt, t.locale)}>
              {t('dialog.edited')}
            </span>
          ) : null}
          {mine && !deleted && mode === 'view' ? (
            <span className="message-tools">
              <button
                type="button"
                className="link-button"
                onClick={() => {
                  setDraft(message.text ?? '');
                  setMode('edit');
                }}
              >
                {t('dialog.editMessage')}
              </button>
              <button type="button" className="link-button" onClick={() => setMode('confirmDelete')}>
                {t('dialog.deleteMessage')}
              </button>
            </span>
          ) : null}
          {mode === 'confirmDelete' && !deleted ? (
            <span className="message-tools" role="alert">
              {t('dialog.deleteConfirm')}{' '}
              <button
                type="button"
                className="link-button message-delete"
                disabled={busy}
                onClick={() => void run(() => store.deleteMessage(message.dialogId, message.id))}
              >
                {t('dialog.deleteMessage')}
              </button>
              <button type="button" className="link-button" onClick={() => setMode('view')}>
                {t('common.cancel')}
              </button>
            </span>
          ) : null}
          {message.authorKind === 'operator' && !message.private ? (
            <span
              className={`delivery delivery-${message.deliveryState}`}
              title={message.deliveryError ?? undefined}
            >
              {t(`delivery.${message.deliveryState}`)}
            </span>
          ) : null}
        </div>
      </div>
    </div>
  );
}

function Attachments({ attachments }: { attachments: Attachment[] }) {
  const t = useT();
  return (
    <ul className="attachments">
      {attachments.map((attachment) => {
        const url = safeUrl(attachment.url, window.location.href);
        if (!url) {
          return (
            <li key={`${attachment.url}:${attachment.name}`}>
              {attachment.name} ({t('dialog.badLink')})
            </li>
          );
        }
        return (
          <li key={`${attachment.url}:${attachment.name}`}>
            {isInlineImage(attachment.mimeType) ? (
              <a href={url} target="_blank" rel="noopener noreferrer">
                <img src={url} alt={attachment.name} loading="lazy" className="attachment-image" />
              </a>
            ) : null}
            <a href={url} target="_blank" rel="noopener noreferrer" download={attachment.name}>
              {attachment.name}
            </a>{' '}
            <span className="muted">({formatBytes(attachment.size)})</span>
          </li>
        );
      })}
    </ul>
  );
}

/** "Taken by Anna", "Transferred to Boris", "Closed": the session's history inline (SPEC §15). */
export function describeTransition(
  transition: SessionTransition,
  names: Record<string, string>,
  t: Translate,
): string {
  const actor =
    transition.actorKind === 'operator' && transition.actorId
      ? (names[transition.actorId] ?? t('dialog.operatorUnknown'))
      : transition.actorKind === 'client'
        ? t('author.client')
        : transition.actorKind === 'bot'
          ? t('author.bot')
          : t('author.system');
  const operator = transition.operatorId ? (names[transition.operatorId] ?? t('dialog.operatorUnknown')) : '';
  const key = transition.reason.startsWith('routed_') ? 'event.routed' : `event.${transition.reason}`;
  if (t.has(key))
    return t(key, {
      actor,
      operator,
      status: t.has(`status.${transition.to}`) ? t(`status.${transition.to}`) : transition.to,
    });
  return t('event.generic', {
    actor,
    status: t.has(`status.${transition.to}`) ? t(`status.${transition.to}`) : transition.to,
    reason: transition.reason,
  });
}

/** AG-2: the client gave or refused consent, how, and to which version of the agreement text. */
function ConsentEvent({ consent, t }: { consent: ConsentRecord; t: Translate }) {
  return (
    <div className={`system-event consent-event consent-${consent.decision}`} data-consent={consent.decision}>
      <span>
        {t(consent.decision === 'given' ? 'timeline.consentGiven' : 'timeline.consentRefused', {
          how: t(`timeline.consentHow.${consent.how}`),
          version: consent.agreement.version,
        })}
      </span>{' '}
      <span className="muted" title={consent.agreement.textSha256}>
        {t('timeline.consentHash', { hash: consent.agreement.textSha256.slice(0, 12) })}
      </span>{' '}
      <time dateTime={consent.at}>{formatTime(consent.at, t.locale)}</time>
    </div>
  );
}

function SystemEvent({
  transition,
  names,
  t,
}: {
  transition: SessionTransition;
  names: Record<string, string>;
  t: Translate;
}) {
  return (
    <div className="system-event" data-reason={transition.reason}>
      <span>{describeTransition(transition, names, t)}</span>{' '}
      <time dateTime={transition.at}>{formatTime(transition.at, t.locale)}</time>
      {transition.comment ? (
        <p className="transition-comment">
          <span className="muted">{t('event.comment')}</span> {transition.comment}
        </p>
      ) : null}
    </div>
  );
}
