import type { Me } from '@openlines/contract';
import { type FormEvent, useEffect, useState } from 'react';
import { client } from './lib/api';
import type { MessageKey } from './lib/catalogue';
import { useT } from './lib/i18n';
import { linkClick } from './lib/router';
import { ErrorNotice } from './ui/error-notice';
import { LanguageSwitch } from './ui/language-switch';

/** What the sign-up link's redirect says (`?signedUp=1`, `?signupLink=expired|invalid|used`). */
function signupOutcome(search: string): { kind: 'success' | 'error'; key: MessageKey } | null {
  const params = new URLSearchParams(search);
  if (params.get('signedUp') === '1') return { kind: 'success', key: 'signup.created' };
  const failure = params.get('signupLink');
  if (failure === 'expired' || failure === 'invalid' || failure === 'used') {
    return { kind: 'error', key: `signup.link.${failure}` as const };
  }
  return null;
}

export function Login({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const t = useT();
  const [outcome] = useState(() => signupOutcome(window.location.search));
  const [signupOffered, setSignupOffered] = useState(false);

  useEffect(() => {
    // Only whether to offer the link; a server that cannot answer simply does not offer it.
    client.auth.options().then(
      (options) => setSignupOffered(options.signup),
      () => setSignupOffered(false),
    );
  }, []);
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
        {outcome ? (
          <div
            className={`notice notice-${outcome.kind}`}
            role={outcome.kind === 'error' ? 'alert' : 'status'}
          >
            {t(outcome.key)}
          </div>
        ) : null}
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
        {signupOffered ? (
          <p className="login-alternative">
            {t('signup.noAccount')}{' '}
            <a href="/signup" onClick={linkClick('/signup')}>
              {t('signup.create')}
            </a>
          </p>
        ) : null}
      </form>
    </main>
  );
}
