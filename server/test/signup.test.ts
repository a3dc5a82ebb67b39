import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { FakeClock } from '../src/core/clock';
import { createTestServer, problemOf, signIn, type TestServer, uniqueEmail } from './harness';
import { SmtpCapture } from './peers/email/smtp-capture';

/**
 * Self-service sign-up (issue 21) on a real server with SIGNUP_ENABLED, its mail caught by a local
 * SMTP server: request → the link in the e-mail → the account exists and its administrator signs
 * in; an address already taken gets a note instead (same answer); a forged or expired link is a
 * 400 naming the field; the routes do not exist without SIGNUP_ENABLED.
 */
describe('self-service sign-up', () => {
  const smtp = new SmtpCapture();
  const clock = new FakeClock('2026-05-04T10:00:00Z');
  let server: TestServer;

  beforeAll(async () => {
    await smtp.start();
    server = await createTestServer({
      clock,
      env: {
        SIGNUP_ENABLED: 'true',
        SIGNUP_RATE_LIMIT_PER_HOUR: '6',
        SMTP_URL: `smtp://${encodeURIComponent(smtp.user)}:${smtp.password}@${smtp.host}:${smtp.port}`,
        SMTP_FROM: 'Openlines <no-reply@example.test>',
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await smtp.stop();
  });

  const signup = (body: unknown) =>
    fetch(`${server.url}/api/v1/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const linkIn = (text: string) => text.match(/https?:\/\/\S+\/api\/v1\/signup\/verify\?token=\S+/)?.[0];

  it('mails a link that creates the account and its administrator, who then signs in', async () => {
    const email = uniqueEmail('founder');
    const response = await signup({
      email,
      password: 'a good long password',
      name: 'Olga',
      companyName: 'Romashka LLC',
      language: 'ru',
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: 'verification_sent', expiresInHours: 24 });
    const mail = smtp.received.at(-1)!;
    expect(mail.envelope.to).toEqual([email]);
    expect(mail.parsed.subject).toBe('Подтвердите учётную запись Openlines');
    const text = mail.parsed.text ?? '';
    expect(text).not.toContain('a good long password');
    const link = linkIn(text)!;
    expect(link).toBeDefined();
    // Nothing is stored before the address is verified.
    const before = await server.ctx.store.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', email)
      .execute();
    expect(before).toEqual([]);

    const verified = await fetch(link.replace(/^https?:\/\/[^/]+/, server.url), { redirect: 'manual' });
    expect(verified.status).toBe(303);
    expect(verified.headers.get('location')).toBe('/?signedUp=1');
    const founder = await signIn(server, { email, password: 'a good long password' });
    const me = await founder.auth.me();
    expect(me.account.name).toBe('Romashka LLC');
    expect(me.user.name).toBe('Olga');
    expect(me.permissions.manageLines).toBe(true);
    const firstAdmin = await signIn(server);
    expect((await firstAdmin.auth.me()).account.id).not.toBe(me.account.id);

    // The same link again: the address is taken now. A browser is sent to the sign-in page, which
    // says so; an API caller gets the problem.
    const again = await fetch(link.replace(/^https?:\/\/[^/]+/, server.url), { redirect: 'manual' });
    expect(again.status).toBe(409);
    const againInBrowser = await fetch(link.replace(/^https?:\/\/[^/]+/, server.url), {
      redirect: 'manual',
      headers: { accept: 'text/html,application/xhtml+xml' },
    });
    expect(againInBrowser.status).toBe(303);
    expect(againInBrowser.headers.get('location')).toBe('/?signupLink=used');
  });

  it('tells the sign-in page that sign-up is offered', async () => {
    const response = await fetch(`${server.url}/api/v1/auth/options`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ signup: true });
  });

  it('answers the same for a taken address, and mails a note instead of a link', async () => {
    const response = await signup({
      email: server.admin.email,
      password: 'another long password',
      name: 'Someone',
      companyName: 'Other',
    });
    expect(response.status).toBe(202);
    const mail = smtp.received.at(-1)!;
    expect(mail.envelope.to).toEqual([server.admin.email]);
    expect(mail.parsed.subject).toBe('Your Openlines account');
    expect(linkIn(mail.parsed.text ?? '')).toBeUndefined();
  });

  it('refuses bad input naming the field, and forged or expired links', async () => {
    const bad = await signup({ email: 'not-an-email', password: 'short', name: '', companyName: 'X' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const fields = ((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['body.email', 'body.password', 'body.name']));

    const forged = await fetch(`${server.url}/api/v1/signup/verify?token=bm90LWEtdG9rZW4`, {
      redirect: 'manual',
    });
    expect(forged.status).toBe(400);
    expect(((await forged.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe('query.token');
    const forgedInBrowser = await fetch(`${server.url}/api/v1/signup/verify?token=bm90LWEtdG9rZW4`, {
      redirect: 'manual',
      headers: { accept: 'text/html' },
    });
    expect(forgedInBrowser.headers.get('location')).toBe('/?signupLink=invalid');

    const email = uniqueEmail('late');
    expect(
      (await signup({ email, password: 'a good long password', name: 'Late', companyName: 'Late Ltd' }))
        .status,
    ).toBe(202);
    const link = linkIn(smtp.received.at(-1)!.parsed.text ?? '')!;
    clock.advance(25 * 3_600_000);
    const expired = await fetch(link.replace(/^https?:\/\/[^/]+/, server.url), { redirect: 'manual' });
    expect(expired.status).toBe(400);
    expect(((await expired.json()) as { detail: string }).detail).toContain('expired');
    const expiredInBrowser = await fetch(link.replace(/^https?:\/\/[^/]+/, server.url), {
      redirect: 'manual',
      headers: { accept: 'text/html' },
    });
    expect(expiredInBrowser.status).toBe(303);
    expect(expiredInBrowser.headers.get('location')).toBe('/?signupLink=expired');
    expect(await problemOf(signIn(server, { email, password: 'a good long password' }))).toMatchObject({
      code: 'invalid_credentials',
    });
  });

  it('limits sign-up requests per client', async () => {
    let limited = 0;
    for (let i = 0; i < 8; i++) {
      const response = await signup({ email: 'x', password: 'y', name: 'z', companyName: 'w' });
      if (response.status === 429) limited++;
    }
    expect(limited).toBeGreaterThan(0);
  });
});

describe('sign-up switched off (the default)', () => {
  it('has no sign-up routes, and needs SMTP to be switched on', async () => {
    const server = await createTestServer();
    try {
      const response = await fetch(`${server.url}/api/v1/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(response.status).toBe(404);
      const options = await fetch(`${server.url}/api/v1/auth/options`);
      expect(await options.json()).toEqual({ signup: false });
    } finally {
      await server.stop();
    }
    expect(loadConfig({}).signupEnabled).toBe(false);
    expect(() => loadConfig({ SIGNUP_ENABLED: 'true' })).toThrow(/SMTP_URL/);
    expect(() => loadConfig({ SIGNUP_ENABLED: 'true', SMTP_URL: 'smtp://mail:25' })).toThrow(/SMTP_FROM/);
  });
});
