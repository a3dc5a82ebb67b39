import type { Me } from '@openlines/contract';
import { type FormEvent, useState } from 'react';
import { client } from './lib/api';
import { useT } from './lib/i18n';
import { ErrorNotice } from './ui/error-notice';
import { LanguageSwitch } from './ui/language-switch';

export function Login({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const t = useT();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await client.auth.login({ email: email.trim(), password }));
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  }

  return (
    <main className="login" id="main">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
        <div className="login-top">
          <h1 id="login-title">{t('auth.title')}</h1>
          <LanguageSwitch />
        </div>
        <p className="muted">{t('auth.subtitle')}</p>
        <label htmlFor="login-email">{t('auth.email')}</label>
        <input
          id="login-email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
        />
        <label htmlFor="login-password">{t('auth.password')}</label>
        <input
          id="login-password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        <ErrorNotice error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t('auth.signingIn') : t('auth.signIn')}
        </button>
      </form>
    </main>
  );
}
