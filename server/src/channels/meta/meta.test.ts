import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { ConnectorError } from '../connector';
import { graphCall, graphDownload, graphError, WINDOW_CLOSED } from './graph';
import { answerMetaHandshake, escapeUnicode, signMetaBody, verifyMetaRequest } from './webhook';

const request = (rawBody: string, signature?: string) => ({
  method: 'POST',
  headers: signature === undefined ? {} : { 'x-hub-signature-256': signature },
  query: {},
  rawBody,
  body: undefined,
});

describe('Meta webhook signatures', () => {
  it('escapes non-ASCII as lowercase \\uXXXX UTF-16 units, as Meta signs', () => {
    expect(escapeUnicode('Привет é 😀 ok')).toBe(
      '\\u041f\\u0440\\u0438\\u0432\\u0435\\u0442 \\u00e9 \\ud83d\\ude00 ok',
    );
  });

  it('verifies the escaped body as sent, and the same body unescaped; refuses anything else', () => {
    const secret = 'abcdef0123456789';
    const escaped = escapeUnicode(JSON.stringify({ text: 'Привет' }));
    const signature = `sha256=${createHmac('sha256', secret).update(escaped).digest('hex')}`;
    expect(signMetaBody(secret, escaped)).toBe(signature);
    const secrets = { appSecret: secret, verifyToken: 'vt-12345678' };
    expect(verifyMetaRequest(request(escaped, signature), secrets)).toBe(true);
    expect(verifyMetaRequest(request(JSON.stringify({ text: 'Привет' }), signature), secrets)).toBe(true);
    expect(verifyMetaRequest(request(`${escaped} `, signature), secrets)).toBe(false);
    expect(
      verifyMetaRequest(request(escaped, signature.toUpperCase().replace('SHA256', 'sha256')), secrets),
    ).toBe(true);
    expect(verifyMetaRequest(request(escaped), secrets)).toBe(false);
    expect(verifyMetaRequest(request(escaped, 'sha1=abc'), secrets)).toBe(false);
    expect(verifyMetaRequest(request(escaped, signature), { verifyToken: 'x' })).toBe(false);
  });

  it('checks the verify token of a GET handshake and answers the challenge', () => {
    const get = (query: Record<string, string>) => ({
      method: 'GET',
      headers: {},
      query,
      rawBody: '',
      body: undefined,
    });
    const query = {
      'hub.mode': 'subscribe',
      'hub.verify_token': 'vt-12345678',
      'hub.challenge': '1158201444',
    };
    expect(verifyMetaRequest(get(query), { verifyToken: 'vt-12345678' })).toBe(true);
    expect(
      verifyMetaRequest(get({ ...query, 'hub.verify_token': 'other' }), { verifyToken: 'vt-12345678' }),
    ).toBe(false);
    expect(verifyMetaRequest(get(query), {})).toBe(false);
    expect(answerMetaHandshake(get(query))).toEqual({
      status: 200,
      contentType: 'text/plain',
      body: '1158201444',
    });
    expect(answerMetaHandshake(get({ 'hub.mode': 'unsubscribe' }))?.status).toBe(400);
    expect(answerMetaHandshake(request('{}'))).toBeNull();
  });
});

describe('Graph API errors → connector codes', () => {
  const cases: [number, { code?: number; error_subcode?: number }, string, number | undefined][] = [
    [401, { code: 190, error_subcode: 460 }, 'auth_revoked', undefined],
    [400, { code: 10 }, 'auth_revoked', undefined],
    [400, { code: 130429 }, 'rate_limited', undefined],
    [400, { code: 131056 }, 'rate_limited', 6000],
    [400, { code: 4 }, 'rate_limited', undefined],
    [400, { code: 613 }, 'rate_limited', undefined],
    [429, {}, 'rate_limited', undefined],
    [400, { code: 131047 }, 'invalid_payload', undefined],
    [400, { code: 10, error_subcode: 2018278 }, 'invalid_payload', undefined],
    [400, { code: 131026 }, 'recipient_unreachable', undefined],
    [400, { code: 100, error_subcode: 2018001 }, 'recipient_unreachable', undefined],
    [400, { code: 100 }, 'invalid_payload', undefined],
    [500, { code: 1 }, 'temporary', undefined],
    [503, {}, 'temporary', undefined],
    [400, { code: 131000 }, 'temporary', undefined],
  ];
  it.each(cases)('HTTP %i %o → %s', (status, body, code, retryAfterMs) => {
    const error = graphError(status, { message: 'm', ...body });
    expect(error.code).toBe(code);
    expect(error.retryAfterMs).toBe(retryAfterMs);
  });

  it('says why when the 24-hour window is closed', () => {
    expect(graphError(400, { code: 131047, message: 'Re-engagement message' }).message).toContain(
      WINDOW_CLOSED,
    );
  });
});

describe('Graph API Retry-After', () => {
  // Meta may send Retry-After as seconds or as an HTTP-date; the date is read against the
  // injected clock, so a throttled send waits as long as the platform asked.
  it.each([
    ['30', 30_000],
    ['Mon, 05 Jan 2026 09:02:00 GMT', 120_000],
    ['Mon, 05 Jan 2026 08:00:00 GMT', 0],
    ['later', undefined],
  ])('429 with Retry-After %j waits %s ms', async (retryAfter, expected) => {
    const server = createServer((_request, response) => {
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': retryAfter });
      response.end(JSON.stringify({ error: { message: 'slow down', code: 4 } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const clock = new FakeClock('2026-01-05T09:00:00Z');
    try {
      const target = { base, version: 'v24.0', token: 't', timeoutMs: 5_000, clock };
      const errors = await Promise.all([
        graphCall(target, 'me/messages', { json: {} }).catch((error: unknown) => error),
        graphDownload(`${base}/media`, null, { timeoutMs: 5_000, maxBytes: 1_000, clock }).catch(
          (error: unknown) => error,
        ),
      ]);
      for (const error of errors) {
        expect(error).toBeInstanceOf(ConnectorError);
        expect((error as ConnectorError).code).toBe('rate_limited');
        expect((error as ConnectorError).retryAfterMs).toBe(expected);
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
