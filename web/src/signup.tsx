import type { SignupAccepted } from '@openlines/contract';
import { type FormEvent, useState } from 'react';
import { client } from './lib/api';
import { fieldErrorsOf } from './lib/errors';
import { useI18n } from './lib/i18n';
import { linkClick } from './lib/router';
import { ErrorNotice } from './ui/error-notice';
import { Field } from './ui/field';
import { LanguageSwitch } from './ui/language-switch';

/**
 * Self-service sign-up (servers with SIGNUP_ENABLED): the company's name, the first
 * administrator's name, e-mail and password. The server mails a confirmation link; the account
 * exists only once it is followed, so the screen ends on "check your e-mail".
 */
/** The form's fields: their errors show beside them, not again in the notice. */
const SIGNUP_FIELDS = ['companyName', 'name', 'email', 'password'];

export function Signup() {
  const { t, locale } = useI18n();
  const [companyName, setCompanyName] = useState('');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [sent, setSent] = useState<{ accepted: SignupAccepted; email: string } | null>(null);
  const fields = fieldErrorsOf(error);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const input = { companyName: companyName.trim(), name: name.trim(), email: email.trim(), password };
      const accepted = await client.auth.signup({ ...input, language: locale });
      setSent({ accepted, email: input.email });
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  if (sent) {
    return (
      <main className="login" id="main">
        <section className="login-card" aria-labelledby="signup-sent-title">
          <div className="login-top">
            <h1 id="signup-sent-title">{t('signup.sentTitle')}</h1>
            <LanguageSwitch />
          </div>
          <p className="signup-sent-text">
            {t('signup.sentText', { email: sent.email, hours: sent.accepted.expiresInHours })}
          </p>
          <a href="/" onClick={linkClick('/')}>
            {t('signup.toSignIn')}
          </a>
        </section>
      </main>
    );
  }

  return (
    <main className="login" id="main">
      <form className="login-card" onSubmit={submit} aria-labelledby="signup-title" noValidate>
        <div className="login-top">
          <h1 id="signup-title">{t('signup.title')}</h1>
          <LanguageSwitch />
        </div>
        <p className="muted">{t('signup.subtitle')}</p>
        <Field label={t('signup.company')} errors={fields.companyName}>
          {(props) => (
            <input
              {...props}
              autoComplete="organization"
              required
              maxLength={200}
              value={companyName}
              onChange={(event) => setCompanyName(event.target.value)}
            />
          )}
        </Field>
        <Field label={t('signup.name')} errors={fields.name}>
          {(props) => (
            <input
              {...props}
              autoComplete="name"
              required
              maxLength={200}
              value={name}
              onChange={(event) => setName(event.target.value)}
            />
          )}
        </Field>
        <Field label={t('auth.email')} errors={fields.email}>
          {(props) => (
            <input
              {...props}
              type="email"
              autoComplete="email"
              required
              maxLength={254}
              value={email}
              onChange={(event) => setEmail(event.target.value)}
            />
          )}
        </Field>
        <Field label={t('auth.password')} hint={t('signup.passwordHint')} errors={fields.password}>
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="new-password"
              required
              maxLength={200}
              value={password}
              onChange={(event) => setPassword(event.target.value)}
            />
          )}
        </Field>
        <ErrorNotice error={error} inline={SIGNUP_FIELDS} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t('signup.sending') : t('signup.submit')}
        </button>
        <p className="login-alternative">
          {t('signup.haveAccount')}{' '}
          <a href="/" onClick={linkClick('/')}>
            {t('auth.signIn')}
          </a>
        </p>
      </form>
    </main>
  );
}
