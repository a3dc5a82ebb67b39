import type { Me } from '@openlines/contract';
import { type FormEvent, useState } from 'react';
import { client } from '../lib/api';
import { fieldErrorsOf } from '../lib/errors';
import { useT } from '../lib/i18n';
import { ClientProfileFields } from './client-profile-fields';
import { ErrorNotice } from './error-notice';
import { Field } from './field';
import { Modal } from './modal';

/**
 * The signed-in user's own profile, from the top bar: the name and photo clients see them under
 * and their password (the server ends their other sessions on a change).
 */
export function MyProfile({
  me,
  onMeChanged,
  onClose,
}: {
  me: Me;
  onMeChanged: (me: Me) => void;
  onClose: () => void;
}) {
  const t = useT();
  return (
    <Modal title={t('profile.title')} onClose={onClose}>
      <ClientProfileForm me={me} onMeChanged={onMeChanged} />
      <h3>{t('password.title')}</h3>
      <PasswordForm onClose={onClose} />
    </Modal>
  );
}

function ClientProfileForm({ me, onMeChanged }: { me: Me; onMeChanged: (me: Me) => void }) {
  const t = useT();
  const [name, setName] = useState(me.user.clientName ?? '');
  const [avatarUrl, setAvatarUrl] = useState(me.user.clientAvatarUrl ?? '');
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const user = await client.auth.updateMe({
        clientName: name.trim() || null,
        clientAvatarUrl: avatarUrl.trim() || null,
      });
      onMeChanged({ ...me, user });
      setSaved(true);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} noValidate className="stack">
      <ClientProfileFields
        profileName={me.user.name}
        name={name}
        avatarUrl={avatarUrl}
        onName={(value) => {
          setName(value);
          setSaved(false);
        }}
        onAvatarUrl={(value) => {
          setAvatarUrl(value);
          setSaved(false);
        }}
        errors={fieldErrorsOf(error)}
      />
      <ErrorNotice error={error} inline={['clientName', 'clientAvatarUrl']} />
      {saved ? <p role="status">{t('profile.saved')}</p> : null}
      <div>
        <button type="submit" className="primary" disabled={busy}>
          {t('common.save')}
        </button>
      </div>
    </form>
  );
}

function PasswordForm({ onClose }: { onClose: () => void }) {
  const t = useT();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  return done ? (
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
  );
}
