import type { SignupAccepted, SignupBody } from '@openlines/contract';
import nodemailer from 'nodemailer';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import { createAccountWithPasswordHash, DEFAULT_PLAN_ID } from './accounts';
import { openJson, sealJson } from './secret-box';
import { hashPassword } from './secrets';

/**
 * Self-service sign-up (issue 21), for hosted installations that set SIGNUP_ENABLED: a visitor
 * gives an e-mail, a password, their name and their company's name; a link is mailed to the address
 * through the server's SMTP (SMTP_URL); following it creates the account (default plan) and its
 * first administrator.
 *
 * Nothing is stored before the address is verified: the link's token is the request itself,
 * encrypted and authenticated with the server's key (AES-256-GCM, secret-box), with the password
 * already hashed inside, and an expiry. A token cannot be read or altered, and an unverified
 * sign-up leaves no row and no personal data behind. Following a link twice finds the e-mail taken.
 */

export const SIGNUP_LINK_HOURS = 24;
const TOKEN_PURPOSE = 'openlines-signup';

interface SignupClaim {
  v: 1;
  email: string;
  name: string;
  company: string;
  passwordHash: string;
  language: 'en' | 'ru';
  expiresAt: number;
}

const TEXTS = {
  en: {
    subject: 'Confirm your Openlines account',
    body: (name: string, company: string, link: string) =>
      `Hello ${name},\n\nTo create the Openlines account of ${company}, open this link within ${SIGNUP_LINK_HOURS} hours:\n\n${link}\n\nThen sign in with this e-mail address and the password you chose.\nIf you did not ask for an account, ignore this message.\n`,
    taken: 'Your Openlines account',
    takenBody: (link: string) =>
      `Someone (perhaps you) tried to sign up with this e-mail address, but it already has an account.\nSign in at ${link}. If you forgot your password, ask your administrator to reset it.\n`,
  },
  ru: {
    subject: 'Подтвердите учётную запись Openlines',
    body: (name: string, company: string, link: string) =>
      `Здравствуйте, ${name}!\n\nЧтобы создать учётную запись Openlines для «${company}», откройте эту ссылку в течение ${SIGNUP_LINK_HOURS} часов:\n\n${link}\n\nЗатем войдите с этим адресом электронной почты и выбранным паролем.\nЕсли вы не регистрировались, просто проигнорируйте это письмо.\n`,
    taken: 'Ваша учётная запись Openlines',
    takenBody: (link: string) =>
      `Кто-то (возможно, вы) пытался зарегистрироваться с этим адресом, но у него уже есть учётная запись.\nВойдите на ${link}. Если вы забыли пароль, попросите администратора его сбросить.\n`,
  },
} as const;

/** The server's own mail (not a channel's): SMTP_URL and SMTP_FROM. */
async function sendSystemMail(ctx: AppContext, to: string, subject: string, text: string): Promise<void> {
  const { smtpUrl, smtpFrom } = ctx.config;
  if (!smtpUrl || !smtpFrom) throw new AppError('unavailable', 'The server has no SMTP settings');
  // nodemailer reads host, port, TLS and credentials from the URL; the timeouts are ours.
  const url = new URL(smtpUrl);
  for (const [key, value] of Object.entries({
    connectionTimeout: '15000',
    greetingTimeout: '15000',
    socketTimeout: '30000',
  }))
    if (!url.searchParams.has(key)) url.searchParams.set(key, value);
  const transport = nodemailer.createTransport(url.toString());
  try {
    await transport.sendMail({ from: smtpFrom, to, subject, text });
  } catch (error) {
    ctx.log.warn({ err: (error as Error).message }, 'sign-up mail not sent');
    throw new AppError('unavailable', 'The confirmation e-mail could not be sent now; try again later');
  } finally {
    transport.close();
  }
}

const baseUrl = (ctx: AppContext) => (ctx.config.publicUrl ?? ctx.publicUrl.value).replace(/\/+$/, '');

/**
 * A sign-up request: mails the confirmation link, or, when the address already has an account, a
 * note saying so. The answer is the same either way, so nobody learns which addresses exist.
 */
export async function requestSignup(ctx: AppContext, input: SignupBody): Promise<SignupAccepted> {
  const email = input.email.trim();
  const language = input.language ?? 'en';
  const texts = TEXTS[language];
  const taken = await ctx.store.db
    .selectFrom('users')
    .select('id')
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .executeTakeFirst();
  if (taken) {
    await sendSystemMail(ctx, email, texts.taken, texts.takenBody(`${baseUrl(ctx)}/`));
  } else {
    const claim: SignupClaim = {
      v: 1,
      email,
      name: input.name.trim(),
      company: input.companyName.trim(),
      passwordHash: await hashPassword(input.password),
      language,
      expiresAt: ctx.clock.now().getTime() + SIGNUP_LINK_HOURS * 3_600_000,
    };
    const token = Buffer.from(sealJson(ctx.encryptionKey, claim, TOKEN_PURPOSE)).toString('base64url');
    const link = `${baseUrl(ctx)}/api/v1/signup/verify?token=${token}`;
    await sendSystemMail(ctx, email, texts.subject, texts.body(claim.name, claim.company, link));
  }
  return { status: 'verification_sent', expiresInHours: SIGNUP_LINK_HOURS };
}

/** Why a sign-up link did not create an account, as the sign-in page explains it. */
export type SignupLinkFailure = 'invalid' | 'expired' | 'used';

export function signupLinkFailure(error: unknown): SignupLinkFailure | null {
  if (!(error instanceof AppError)) return null;
  if (error.code === 'already_exists') return 'used';
  const reason = error.extensions?.signupLink;
  return reason === 'invalid' || reason === 'expired' ? reason : null;
}

/** Following the link: the account and its administrator are created. */
export async function verifySignup(
  ctx: AppContext,
  token: string,
): Promise<{ accountId: string; email: string }> {
  let claim: SignupClaim;
  try {
    claim = openJson<SignupClaim>(
      ctx.encryptionKey,
      Buffer.from(token, 'base64url').toString(),
      TOKEN_PURPOSE,
    );
  } catch {
    throw new AppError(
      'validation_failed',
      'The sign-up link is not valid',
      [{ field: 'query.token', message: 'is not a sign-up link of this server' }],
      { signupLink: 'invalid' },
    );
  }
  if (claim.v !== 1 || claim.expiresAt < ctx.clock.now().getTime()) {
    throw new AppError(
      'validation_failed',
      'The sign-up link has expired; sign up again',
      [{ field: 'query.token', message: 'has expired' }],
      { signupLink: 'expired' },
    );
  }
  const { account } = await createAccountWithPasswordHash(
    ctx,
    { accountName: claim.company, planId: DEFAULT_PLAN_ID, admin: { email: claim.email, name: claim.name } },
    claim.passwordHash,
  );
  ctx.log.info({ accountId: account.id }, 'an account was created by sign-up');
  return { accountId: account.id, email: claim.email };
}
