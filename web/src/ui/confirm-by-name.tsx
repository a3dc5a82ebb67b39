import { useState } from 'react';
import { useT } from '../lib/i18n';
import { ErrorNotice } from './error-notice';
import { Field } from './field';
import { Modal } from './modal';

/**
 * A destructive action confirmed by typing the object's name (LN-2 and the like): the button stays
 * disabled until the name matches, and the server's refusal is shown in place.
 */
export function ConfirmByName({
  title,
  warning,
  name,
  confirmLabel,
  onConfirm,
  onClose,
}: {
  title: string;
  warning: string;
  name: string;
  confirmLabel: string;
  /** Runs the action with the typed name (the server checks it too). */
  onConfirm: (typed: string) => Promise<void>;
  onClose: () => void;
}) {
  const t = useT();
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Modal title={title} onClose={onClose}>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          try {
            await onConfirm(typed);
          } catch (failure) {
            setError(failure);
            setBusy(false);
          }
        }}
      >
        <p>{warning}</p>
        <Field label={t('lines.deleteType', { name })}>
          {(props) => (
            <input
              {...props}
              value={typed}
              autoComplete="off"
              onChange={(event) => setTyped(event.target.value)}
            />
          )}
        </Field>
        <ErrorNotice error={error} />
        <div className="modal-buttons">
          <button type="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="danger" disabled={busy || typed !== name}>
            {confirmLabel}
          </button>
        </div>
      </form>
    </Modal>
  );
}
