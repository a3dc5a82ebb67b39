import { type Dialog, hasOperator, type Line, TransferComment, type User } from '@openlines/contract';
import { useEffect, useMemo, useState } from 'react';
import { client, OpenlinesError } from '../lib/api';
import { isOpen } from '../lib/dialogs';
import { fieldErrorsOf } from '../lib/errors';
import { useT } from '../lib/i18n';
import { ErrorNotice } from '../ui/error-notice';
import { Field } from '../ui/field';
import { Modal } from '../ui/modal';
import type { WorkspaceState } from './store';
import { useStore, useWorkspace } from './store-context';

type ModalKind = 'transfer' | 'invite' | 'close' | 'spam' | null;

/**
 * The operator actions (OP-3). Buttons show what the server would allow; the server decides, and a
 * refusal is shown as a readable message.
 */
export function DialogActions({ dialog, line }: { dialog: Dialog; line: Line | undefined }) {
  const t = useT();
  const store = useStore();
  const me = store.me;
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<{ failure: unknown; state: string } | null>(null);
  const [modal, setModal] = useState<ModalKind>(null);
  const session = dialog.session;
  // A refusal is about the state the action was tried in: once the session moves on (someone took
  // it, closed it, a new one started), it no longer applies and is not shown.
  const state = `${session?.id}:${session?.status}:${session?.operatorId}:${dialog.spam}`;
  const error = refusal?.state === state ? refusal.failure : null;
  const setError = (failure: unknown) => setRefusal(failure ? { failure, state } : null);
  const open = isOpen(dialog);
  const holder = session?.operatorId === me.user.id;
  const mayAct = open && (holder || me.permissions.supervise);
  const held = session ? hasOperator(session.status) : false;
  const canTake = open && (session?.status === 'queued' || session?.offeredTo.includes(me.user.id) === true);
  const consulting = session?.participantIds.includes(me.user.id) === true;
  // Writing first (issue 19): a dialog with no open session; the server checks the line, the
  // channel and a messenger's reply window, and its refusal is shown translated.
  const canFollowUp = !open && !dialog.spam && !dialog.unreachable;
  // Supervisor actions, as the server allows them (permissions.supervise, services/operator-actions).
  const supervise = me.permissions.supervise;
  // A queued dialog is simply taken; Intercept is for one an operator or a bot holds.
  const canIntercept = supervise && open && !(holder && held) && !canTake;
  const canJoin = supervise && open && held && !holder && !consulting;

  function closeModal() {
    setModal(null);
    setError(null);
  }

  async function run(action: () => Promise<Dialog>) {
    setBusy(true);
    setError(null);
    try {
      store.applyDialog(await action());
      setModal(null);
      return true;
    } catch (failure) {
      if (failure instanceof OpenlinesError && failure.code === 'confirmation_required') {
        setModal('close');
      } else {
        setError(failure);
      }
      return false;
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="dialog-actions-wrap">
      <div className="dialog-actions" role="toolbar" aria-label={t('actions.label')}>
        {canFollowUp ? (
          <button
            type="button"
            className="primary"
            disabled={busy}
            title={t('actions.followUpHint')}
            onClick={() => run(() => client.dialogs.followUp(dialog.id))}
          >
            {t('actions.followUp')}
          </button>
        ) : null}
        {canIntercept ? (
          <button
            type="button"
            disabled={busy}
            onClick={() => run(() => client.dialogs.intercept(dialog.id))}
          >
            {t('actions.intercept')}
          </button>
        ) : null}
        {canJoin ? (
          <button type="button" disabled={busy} onClick={() => run(() => client.dialogs.join(dialog.id))}>
            {t('actions.join')}
          </button>
        ) : null}
        {canTake ? (
          <button
            type="button"
            className="primary"
            disabled={busy}
            onClick={() => run(() => client.dialogs.take(dialog.id))}
          >
            {t('actions.take')}
          </button>
        ) : null}
        {mayAct && held ? (
          <button type="button" disabled={busy} onClick={() => run(() => client.dialogs.skip(dialog.id))}>
            {t('actions.skip')}
          </button>
        ) : null}
        {mayAct ? (
          <button type="button" disabled={busy} onClick={() => setModal('transfer')}>
            {t('actions.transfer')}
          </button>
        ) : null}
        {mayAct && held ? (
          <button type="button" disabled={busy} onClick={() => setModal('invite')}>
            {t('actions.invite')}
          </button>
        ) : null}
        {mayAct && held ? (
          dialog.pinnedOperatorId ? (
            <button
              type="button"
              disabled={busy}
              aria-pressed="true"
              onClick={() => run(() => client.dialogs.unpin(dialog.id))}
            >
              {t('actions.unpin')}
            </button>
          ) : (
            <button
              type="button"
              disabled={busy}
              aria-pressed="false"
              onClick={() => run(() => client.dialogs.pin(dialog.id))}
            >
              {t('actions.pin')}
            </button>
          )
        ) : null}
        {consulting ? (
          <button type="button" disabled={busy} onClick={() => run(() => client.dialogs.leave(dialog.id))}>
            {t('actions.leave')}
          </button>
        ) : null}
        {open && (mayAct || session?.status === 'queued') ? (
          <button type="button" className="danger-outline" disabled={busy} onClick={() => setModal('spam')}>
            {t('actions.spam')}
          </button>
        ) : null}
        {mayAct ? (
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={() =>
              line?.settings.other.confirmClose
                ? setModal('close')
                : run(() => client.dialogs.close(dialog.id))
            }
          >
            {t('actions.close')}
          </button>
        ) : null}
      </div>
      {/* A refusal inside the transfer or invite dialog is shown there, once. */}
      {modal === 'transfer' || modal === 'invite' ? null : (
        <ErrorNotice error={error} onDismiss={() => setError(null)} />
      )}
      {modal === 'close' ? (
        <ConfirmModal
          title={t('actions.closeConfirmTitle')}
          text={t('actions.closeConfirm', { name: dialog.client.name })}
          confirm={t('actions.close')}
          busy={busy}
          onCancel={() => setModal(null)}
          onConfirm={() => run(() => client.dialogs.close(dialog.id, { confirmed: true }))}
        />
      ) : null}
      {modal === 'spam' ? (
        <ConfirmModal
          title={t('actions.spamTitle')}
          text={t('actions.spamConfirm', { name: dialog.client.name })}
          confirm={t('actions.spam')}
          busy={busy}
          onCancel={() => setModal(null)}
          onConfirm={() => run(() => client.dialogs.markSpam(dialog.id))}
        />
      ) : null}
      {modal === 'transfer' ? (
        <TransferModal
          dialog={dialog}
          busy={busy}
          error={error}
          onClose={closeModal}
          onOperator={(user, comment) =>
            run(() => client.dialogs.transfer(dialog.id, { operatorId: user.id, ...withComment(comment) }))
          }
          onLine={(target, comment) =>
            run(() => client.dialogs.transfer(dialog.id, { lineId: target.id, ...withComment(comment) }))
          }
        />
      ) : null}
      {modal === 'invite' ? (
        <InviteModal
          dialog={dialog}
          busy={busy}
          error={error}
          onClose={closeModal}
          onInvite={(user, mode) => run(() => client.dialogs.invite(dialog.id, user.id, mode))}
        />
      ) : null}
    </div>
  );
}

/** A comment of only spaces says nothing to the colleague, and the contract refuses an empty one. */
function withComment(comment: string): { comment?: string } {
  const text = comment.trim();
  return text ? { comment: text } : {};
}

function ConfirmModal({
  title,
  text,
  confirm,
  busy,
  onCancel,
  onConfirm,
}: {
  title: string;
  text: string;
  confirm: string;
  busy: boolean;
  onCancel: () => void;
  onConfirm: () => void;
}) {
  const t = useT();
  return (
    <Modal title={title} onClose={onCancel}>
      <p>{text}</p>
      <div className="modal-buttons">
        <button type="button" onClick={onCancel}>
          {t('common.cancel')}
        </button>
        <button type="button" className="danger" disabled={busy} onClick={onConfirm}>
          {confirm}
        </button>
      </div>
    </Modal>
  );
}

const PRESENCE_ORDER = { online: 0, away: 1, offline: 2 } as const;

/** Colleagues are listed with their presence, so this reads the users themselves, not only names. */
const selectUsers = (state: WorkspaceState) => state.users;
/** The lines a dialog can be transferred to. */
const selectLines = (state: WorkspaceState) => state.lines;

/** Colleagues with their status and how many open dialogs they hold (on every line). */
function useColleagues(dialog: Dialog) {
  const users = useWorkspace(selectUsers);
  const store = useStore();
  const [load, setLoad] = useState<Map<string, number> | null>(null);
  useEffect(() => {
    let live = true;
    client.users.workload().then(
      (rows) => live && setLoad(new Map(rows.map((row) => [row.userId, row.openSessions]))),
      () => live && setLoad(new Map()),
    );
    return () => {
      live = false;
    };
  }, []);
  const colleagues = useMemo(
    () =>
      Object.values(users)
        .filter(
          (user) => user.active && user.id !== store.me.user.id && user.id !== dialog.session?.operatorId,
        )
        .sort(
          (a, b) => PRESENCE_ORDER[a.presence] - PRESENCE_ORDER[b.presence] || a.name.localeCompare(b.name),
        ),
    [users, store.me.user.id, dialog.session?.operatorId],
  );
  return { colleagues, load };
}

function ColleagueLabel({ user, load }: { user: User; load: Map<string, number> | null }) {
  const t = useT();
  return (
    <span className="colleague">
      <span className={`dot dot-${user.presence}`} aria-hidden="true" />
      <span className="colleague-name">{user.name}</span>
      <span className="muted">
        {t(`presence.${user.presence}`)}
        {load ? ` · ${t('transfer.load', { count: load.get(user.id) ?? 0 })}` : ''}
      </span>
    </span>
  );
}

function TransferModal({
  dialog,
  busy,
  error,
  onClose,
  onOperator,
  onLine,
}: {
  dialog: Dialog;
  busy: boolean;
  error: unknown;
  onClose: () => void;
  onOperator: (user: User, comment: string) => void;
  onLine: (line: Line, comment: string) => void;
}) {
  const t = useT();
  const allLines = useWorkspace(selectLines);
  const [comment, setComment] = useState('');
  const commentMax = TransferComment.maxLength ?? 1000;
  const { colleagues, load } = useColleagues(dialog);
  const currentLine = dialog.session?.lineId ?? dialog.lineId;
  const lines = allLines.filter((line) => line.active && line.id !== currentLine);
  return (
    <Modal title={t('transfer.title', { name: dialog.client.name })} onClose={onClose} wide>
      <ErrorNotice error={error} inline={['comment']} />
      <Field
        label={t('transfer.comment')}
        hint={t('transfer.commentHint', { max: commentMax })}
        errors={fieldErrorsOf(error).comment}
      >
        {(props) => (
          <textarea
            {...props}
            rows={2}
            maxLength={commentMax}
            value={comment}
            onChange={(event) => setComment(event.target.value)}
          />
        )}
      </Field>
      <h3>{t('transfer.toOperator')}</h3>
      <ul className="pick-list">
        {colleagues.map((user) => (
          <li key={user.id}>
            <ColleagueLabel user={user} load={load} />
            <button
              type="button"
              disabled={busy}
              onClick={() => onOperator(user, comment)}
              aria-label={t('transfer.toUser', { name: user.name })}
            >
              {t('actions.transfer')}
            </button>
          </li>
        ))}
        {colleagues.length === 0 ? <li className="muted">{t('transfer.nobody')}</li> : null}
      </ul>
      <h3>{t('transfer.toLine')}</h3>
      <ul className="pick-list">
        {lines.map((line) => (
          <li key={line.id}>
            <span>{line.name}</span>
            <button
              type="button"
              disabled={busy}
              onClick={() => onLine(line, comment)}
              aria-label={t('transfer.toLineNamed', { name: line.name })}
            >
              {t('actions.transfer')}
            </button>
          </li>
        ))}
        {lines.length === 0 ? <li className="muted">{t('transfer.noLines')}</li> : null}
      </ul>
    </Modal>
  );
}

function InviteModal({
  dialog,
  busy,
  error,
  onClose,
  onInvite,
}: {
  dialog: Dialog;
  busy: boolean;
  error: unknown;
  onClose: () => void;
  onInvite: (user: User, mode: 'consult' | 'handover') => void;
}) {
  const t = useT();
  const { colleagues, load } = useColleagues(dialog);
  const participants = new Set(dialog.session?.participantIds ?? []);
  return (
    <Modal title={t('invite.title')} onClose={onClose} wide>
      <p className="muted">{t('invite.explain')}</p>
      <ErrorNotice error={error} />
      <ul className="pick-list">
        {colleagues.map((user) => (
          <li key={user.id}>
            <ColleagueLabel user={user} load={load} />
            <span className="pick-buttons">
              <button
                type="button"
                disabled={busy || participants.has(user.id)}
                onClick={() => onInvite(user, 'consult')}
                aria-label={t('invite.consultWith', { name: user.name })}
              >
                {participants.has(user.id) ? t('invite.consulting') : t('invite.consult')}
              </button>
              <button
                type="button"
                disabled={busy}
                onClick={() => onInvite(user, 'handover')}
                aria-label={t('invite.handoverTo', { name: user.name })}
              >
                {t('invite.handover')}
              </button>
            </span>
          </li>
        ))}
        {colleagues.length === 0 ? <li className="muted">{t('transfer.nobody')}</li> : null}
      </ul>
    </Modal>
  );
}
