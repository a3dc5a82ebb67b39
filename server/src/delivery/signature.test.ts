import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from './signature';

const secret = 'olw_test-secret';
const body = '{"type":"message","text":"Привет"}';
const ts = 1_767_603_600; // 2026-01-05T09:00:00Z
const now = new Date(ts * 1000);

describe('webhook signatures', () => {
  it('is v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">, computable by any receiver', () => {
    const expected = createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
    expect(signWebhook(secret, ts, body)).toBe(`v1=${expected}`);
    expect(signWebhook(secret, ts, Buffer.from(body))).toBe(`v1=${expected}`);
  });

  it('accepts a valid signature for strings, buffers and string timestamps', () => {
    const signature = signWebhook(secret, ts, body);
    expect(verifyWebhookSignature(secret, ts, body, signature, now)).toBe(true);
    expect(verifyWebhookSignature(secret, String(ts), Buffer.from(body), signature, now.getTime())).toBe(
      true,
    );
  });

  it.each([
    { name: 'another secret', secret: 'olw_other', timestamp: ts, body, at: now },
    { name: 'a changed body', secret, timestamp: ts, body: `${body} `, at: now },
    { name: 'another timestamp', secret, timestamp: ts + 1, body, at: now },
  ])('rejects $name', ({ secret: key, timestamp, body: sent, at }) => {
    const signature = signWebhook(secret, ts, body);
    expect(verifyWebhookSignature(key, timestamp, sent, signature, at)).toBe(false);
  });

  it.each([
    { offset: 0, ok: true },
    { offset: 300, ok: true },
    { offset: -300, ok: true },
    { offset: 301, ok: false },
    { offset: -301, ok: false },
    { offset: 86_400, ok: false },
  ])('timestamp $offset s from the receiver clock → $ok', ({ offset, ok }) => {
    const signature = signWebhook(secret, ts, body);
    const receiverNow = new Date((ts + offset) * 1000);
    expect(verifyWebhookSignature(secret, ts, body, signature, receiverNow)).toBe(ok);
  });

  it.each([
    ['missing signature', ts, undefined],
    ['empty signature', ts, ''],
    ['unknown scheme', ts, `v0=${'a'.repeat(64)}`],
    ['not hex', ts, `v1=${'z'.repeat(64)}`],
    ['too short', ts, 'v1=abcd'],
    ['missing timestamp', null, 'v1=x'],
    ['timestamp not a number', '12e3', 'v1=x'],
  ])('rejects %s', (_name, timestamp, signature) => {
    expect(verifyWebhookSignature(secret, timestamp, body, signature, now)).toBe(false);
  });

  it('accepts a list where one entry matches (room for a second key or scheme)', () => {
    const signature = `v1=${'0'.repeat(64)}, ${signWebhook(secret, ts, body)}`;
    expect(verifyWebhookSignature(secret, ts, body, signature, now)).toBe(true);
  });
});
