import {
  type Attachment,
  type Dialog,
  isOpen,
  MaxMessageText,
  type QuickAnswer,
  type User,
} from '@openlines/contract';
import { type KeyboardEvent, useId, useMemo, useRef, useState } from 'react';
import { client } from '../lib/api';
import { useT } from '../lib/i18n';
import { mentionedIds, mentionQuery, searchColleagues } from '../lib/mentions';
import { textLimit } from '../lib/messages';
import { answersForLine, quickQuery, searchQuickAnswers } from '../lib/quick-answers';
import { windowClosed } from '../lib/reply-window';
import { ErrorNotice } from '../ui/error-notice';
import { TemplatePicker, useChannelKind, useLastClientMessageAt } from './reply-window';
import type { WorkspaceState } from './store';
import { useStore, useWorkspace } from './store-context';
import { useNow } from './use-now';

const selectQuickAnswers = (state: WorkspaceState) => state.quickAnswers;
const selectUsers = (state: WorkspaceState) => state.users;

export function Composer({ dialog }: { dialog: Dialog }) {
  const t = useT();
  const store = useStore();
  const quickAnswers = useWorkspace(selectQuickAnswers);
  const users = useWorkspace(selectUsers);
  const me = store.me.user.id;
  /** Colleagues picked from the "@" list while writing this note. */
  const [picked, setPicked] = useState<{ id: string; name: string }[]>([]);
  const [text, setText] = useState('');
  const [privateNote, setPrivateNote] = useState(false);
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const [uploading, setUploading] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [forcedOpen, setForcedOpen] = useState(false);
  const [dismissed, setDismissed] = useState<string | null>(null);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const listId = useId();
  const session = dialog.session;
  const consulting = session?.participantIds.includes(me) === true && session.operatorId !== me;
  const closed = !session || !isOpen(session.status);
  const kind = useChannelKind(dialog.channelKind);
  const lastClientAt = useLastClientMessageAt(dialog.id);
  const now = useNow();
  const windowShut = windowClosed(kind, lastClientAt, now);

  const trigger = quickQuery(text, caret);
  const query = trigger?.query ?? (forcedOpen ? '' : null);
  // Shared and personal answers of every line, and those kept for this dialog's line.
  const dialogLine = session?.lineId ?? dialog.lineId;
  const offered = useMemo(() => answersForLine(quickAnswers, dialogLine), [quickAnswers, dialogLine]);
  const suggestions = useMemo(
    () => (query === null ? [] : searchQuickAnswers(offered, query)),
    [query, offered],
  );
  const quickOpen =
    query !== null && dismissed !== `${trigger?.start}:${query}` && (suggestions.length > 0 || forcedOpen);
  // A private note: "@" and a part of a name offers colleagues to mention (and notify).
  const noteOn = privateNote || consulting;
  const mention = noteOn && !quickOpen ? mentionQuery(text, caret) : null;
  const mentionText = mention ? mention.query : null;
  const colleagues = useMemo(
    () => (mentionText === null ? [] : searchColleagues(Object.values(users), mentionText, me)),
    [mentionText, users, me],
  );
  const mentionOpen =
    mention !== null && colleagues.length > 0 && dismissed !== `@${mention.start}:${mention.query}`;
  const popupOpen = quickOpen || mentionOpen;
  const optionCount = mentionOpen ? colleagues.length : suggestions.length;

  function insertMention(user: User) {
    if (!mention) return;
    const written = `@${user.name} `;
    const next = text.slice(0, mention.start) + written + text.slice(caret);
    setText(next);
    setPicked((current) => [...current, { id: user.id, name: user.name }]);
    const position = mention.start + written.length;
    setCaret(position);
    requestAnimationFrame(() => {
      textarea.current?.focus();
      textarea.current?.setSelectionRange(position, position);
    });
  }

  function insert(answer: QuickAnswer) {
    const start = trigger ? trigger.start : caret;
    const end = trigger ? caret : caret;
    const next = text.slice(0, start) + answer.text + text.slice(end);
    setText(next);
    setForcedOpen(false);
    const position = start + answer.text.length;
    setCaret(position);
    requestAnimationFrame(() => {
      textarea.current?.focus();
      textarea.current?.setSelectionRange(position, position);
    });
  }

  const limit = textLimit(text, MaxMessageText);
  async function send() {
    const body = text.trim();
    if ((!body && attachments.length === 0) || uploading > 0 || limit.over) return;
    setError(null);
    const isNote = privateNote || consulting;
    const mentions = isNote ? mentionedIds(body, picked) : [];
    const input = {
      ...(body ? { text: body } : {}),
      ...(attachments.length ? { attachments } : {}),
      private: isNote,
      ...(mentions.length ? { mentions } : {}),
    };
    setText('');
    setAttachments([]);
    setCaret(0);
    setPicked([]);
    try {
      await store.send(dialog.id, input);
    } catch (failure) {
      setError(failure);
      setText((current) => current || body);
      setAttachments((current) => (current.length ? current : (input.attachments ?? [])));
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (popupOpen && optionCount > 0) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const delta = event.key === 'ArrowDown' ? 1 : -1;
        setActive((active + delta + optionCount) % optionCount);
        return;
      }
      if (event.key === 'Enter' || event.key === 'Tab') {
        event.preventDefault();
        const index = Math.min(active, optionCount - 1);
        if (mentionOpen) insertMention(colleagues[index]!);
        else insert(suggestions[index]!);
        return;
      }
    }
    if (popupOpen && event.key === 'Escape') {
      event.preventDefault();
      setForcedOpen(false);
      setDismissed(
        mentionOpen && mention ? `@${mention.start}:${mention.query}` : `${trigger?.start}:${query}`,
      );
      return;
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send();
    }
  }

  async function upload(files: FileList | null) {
    if (!files) return;
    for (const file of Array.from(files)) {
      setUploading((n) => n + 1);
      try {
        const attachment = await client.files.upload(file, file.name);
        setAttachments((current) => [...current, attachment]);
      } catch (failure) {
        setError(failure);
      } finally {
        setUploading((n) => n - 1);
      }
    }
    if (fileInput.current) fileInput.current.value = '';
  }

  if (closed) {
    return (
      <div className="composer composer-closed">
        <p className="muted">
          {dialog.spam || dialog.unreachable ? t('composer.closed') : t('composer.closedFollowUp')}
        </p>
        <Note dialog={dialog} />
      </div>
    );
  }

  const activeId =
    popupOpen && optionCount > 0 ? `${listId}-${Math.min(active, optionCount - 1)}` : undefined;
  const isPrivate = privateNote || consulting;

  return (
    <div className={`composer${isPrivate ? ' composer-private' : ''}`}>
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
      {consulting ? <p className="composer-hint">{t('composer.consultingHint')}</p> : null}
      {windowShut && !isPrivate ? (
        <div className="notice notice-warn" role="status">
          <p>
            {t(kind?.templates ? 'composer.windowClosedTemplates' : 'composer.windowClosed', {
              hours: String(kind?.replyWindowHours ?? ''),
            })}
          </p>
          {kind?.templates ? (
            <TemplatePicker
              dialog={dialog}
              onSend={(body, template) => store.send(dialog.id, { text: body, template })}
            />
          ) : null}
        </div>
      ) : null}
      {mentionOpen ? (
        <div className="quick-answers" id={listId} role="listbox" aria-label={t('composer.mentions')}>
          {colleagues.map((user, index) => (
            <div
              key={user.id}
              id={`${listId}-${index}`}
              role="option"
              tabIndex={-1}
              aria-selected={index === active}
              className={index === active ? 'active' : undefined}
              onMouseDown={(event) => {
                event.preventDefault();
                insertMention(user);
              }}
            >
              <strong>{user.name}</strong>
              <span className="muted">{user.email}</span>
            </div>
          ))}
        </div>
      ) : popupOpen ? (
        <div className="quick-answers" id={listId} role="listbox" aria-label={t('composer.quickAnswers')}>
          {suggestions.map((answer, index) => (
            <div
              key={answer.id}
              id={`${listId}-${index}`}
              role="option"
              tabIndex={-1}
              aria-selected={index === active}
              className={index === active ? 'active' : undefined}
              onMouseDown={(event) => {
                event.preventDefault();
                insert(answer);
              }}
            >
              <span>
                <strong>{answer.title}</strong>{' '}
                {answer.personal ? <span className="chip">{t('qa.personalBadge')}</span> : null}
              </span>
              <span className="muted">{answer.text}</span>
            </div>
          ))}
          {suggestions.length === 0 ? <p className="muted">{t('composer.noQuickAnswers')}</p> : null}
        </div>
      ) : null}
      {attachments.length > 0 || uploading > 0 ? (
        <ul className="pending-attachments" aria-label={t('composer.attachments')}>
          {attachments.map((attachment, index) => (
            <li key={attachment.url}>
              {attachment.name}
              <button
                type="button"
                className="icon-button"
                aria-label={t('composer.removeAttachment', { name: attachment.name })}
                onClick={() => setAttachments(attachments.filter((_, i) => i !== index))}
              >
                ×
              </button>
            </li>
          ))}
          {uploading > 0 ? <li className="muted">{t('composer.uploading')}</li> : null}
        </ul>
      ) : null}
      <label htmlFor="composer-text" className="visually-hidden">
        {isPrivate ? t('composer.notePlaceholder') : t('composer.placeholder')}
      </label>
      <textarea
        id="composer-text"
        ref={textarea}
        rows={3}
        value={text}
        placeholder={isPrivate ? t('composer.notePlaceholder') : t('composer.placeholder')}
        role="combobox"
        aria-expanded={popupOpen}
        aria-controls={popupOpen ? listId : undefined}
        aria-autocomplete="list"
        aria-activedescendant={activeId}
        onChange={(event) => {
          setText(event.target.value);
          setCaret(event.target.selectionStart);
          setActive(0);
          setDismissed(null);
          if (event.target.value.trim()) store.typing(dialog.id, isPrivate ? '' : event.target.value);
        }}
        onSelect={(event) => setCaret(event.currentTarget.selectionStart)}
        onKeyDown={onKeyDown}
        onBlur={() => setForcedOpen(false)}
      />
      <div className="composer-tools">
        <label className="checkbox">
          <input
            type="checkbox"
            checked={isPrivate}
            disabled={consulting}
            onChange={(event) => setPrivateNote(event.target.checked)}
          />
          {t('composer.private')}
        </label>
        <button
          type="button"
          onClick={() => {
            setForcedOpen(true);
            setDismissed(null);
            textarea.current?.focus();
          }}
          aria-haspopup="listbox"
        >
          {t('composer.quickAnswers')}
        </button>
        <input
          ref={fileInput}
          id="composer-file"
          type="file"
          multiple
          className="visually-hidden"
          onChange={(event) => void upload(event.target.files)}
        />
        <button type="button" onClick={() => fileInput.current?.click()}>
          {t('composer.attach')}
        </button>
        <span className="muted composer-help">{t('composer.help')}</span>
        {limit.shown ? (
          <span
            className={limit.over ? 'composer-count composer-count-over' : 'composer-count muted'}
            role="status"
          >
            {limit.over
              ? t('composer.tooLong', { count: limit.length, max: MaxMessageText })
              : t('composer.count', { count: limit.length, max: MaxMessageText })}
          </span>
        ) : null}
        <button
          type="button"
          className="primary"
          onClick={() => void send()}
          disabled={uploading > 0 || limit.over || (!text.trim() && attachments.length === 0)}
        >
          {isPrivate ? t('composer.sendNote') : t('composer.send')}
        </button>
      </div>
    </div>
  );
}

/** A private note on a closed dialog (colleagues only). */
function Note({ dialog }: { dialog: Dialog }) {
  const t = useT();
  const store = useStore();
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      className="note-form"
      onSubmit={(event) => {
        event.preventDefault();
        const body = text.trim();
        if (!body) return;
        setText('');
        store.send(dialog.id, { text: body, private: true }).catch((failure) => {
          setError(failure);
          setText(body);
        });
      }}
    >
      <label htmlFor="note-text" className="visually-hidden">
        {t('composer.notePlaceholder')}
      </label>
      <input
        id="note-text"
        value={text}
        placeholder={t('composer.notePlaceholder')}
        onChange={(event) => setText(event.target.value)}
      />
      <button type="submit">{t('composer.sendNote')}</button>
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
    </form>
  );
}
