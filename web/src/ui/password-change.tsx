import { useState } from 'react';
import { client } from '../lib/api';
import { useT } from '../lib/i18n';
import { ErrorNotice } from './error-notice';
import { Field } from './field';
import { Modal } from './modal';

/** Changes the signed-in user's password; the server ends their other sessions. */
export function PasswordChange({ onClose }: { onClose: () => void }) {
  const t = useT();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  return (
    <Modal title={t('password.title')} onClose={onClose}>
      {done ? (
        <>
          <p role="status">{t('password.done')}</p>
          <button type="button" onClick={onClose}>
            {t('common.close')}
          </button>
        </>
      ) : (
        <form
          onSubmit={async (event) => {
            event.preventDefault();
            setError(null);
            try {
              await client.auth.changePassword({ currentPassword: current, newPassword: next });
              setDone(true);
            } catch (failure) {
              setError(failure);
            }
          }}
        >
          <Field label={t('password.current')}>
            {(props) => (
              <input
                {...props}
                type="password"
                autoComplete="current-password"
                required
                value={current}
                onChange={(event) => setCurrent(event.target.value)}
              />
            )}
          </Field>
          <Field label={t('password.new')} hint={t('password.hint')}>
            {(props) => (
              <input
                {...props}
                type="password"
                autoComplete="new-password"
                required
                minLength={10}
                value={next}
                onChange={(event) => setNext(event.target.value)}
              />
            )}
          </Field>
          {error ? <ErrorNotice error={error} /> : null}
          <button type="submit">{t('password.submit')}</button>
        </form>
      )}
    </Modal>
  );
}
