import { describe, expect, it } from 'vitest';
import { message } from './fixtures.test-util';
import { mergeMessages, textLimit, withoutDelivered } from './messages';

describe('mergeMessages', () => {
  it('keeps each message once, the newest copy winning', () => {
    const a = message('a', '2026-03-02T10:00:00.000Z');
    const b = message('b', '2026-03-02T10:01:00.000Z', { deliveryState: 'pending' });
    const bSent = { ...b, deliveryState: 'sent' as const };
    const merged = mergeMessages([a, b], [bSent, a]);
    expect(merged.map((m) => m.id)).toEqual(['a', 'b']);
    expect(merged[1]!.deliveryState).toBe('sent');
  });

  it('orders by time across pages and keeps arrival order for equal times', () => {
    const older = [message('x', '2026-03-01T09:00:00.000Z')];
    const page = [message('p', '2026-03-02T10:00:00.000Z'), message('q', '2026-03-02T10:00:00.000Z')];
    const live = [message('r', '2026-03-02T10:00:00.000Z'), message('s', '2026-03-02T11:00:00.000Z')];
    expect(mergeMessages(mergeMessages(page, live), older).map((m) => m.id)).toEqual([
      'x',
      'p',
      'q',
      'r',
      's',
    ]);
  });

  it('replaying the same events after a reconnect changes nothing', () => {
    const list = [message('a', '2026-03-02T10:00:00.000Z'), message('b', '2026-03-02T10:01:00.000Z')];
    const again = mergeMessages(list, list);
    expect(again).toEqual(list);
  });
});

describe('withoutDelivered', () => {
  it('drops a pending message once the stored one with its client message id is there', () => {
    const pending = [
      { clientMessageId: 'web-1', text: 'hi', private: false, createdAt: '', error: null },
      { clientMessageId: 'web-2', text: 'yo', private: false, createdAt: '', error: null },
    ];
    const stored = [message('m', '2026-03-02T10:00:00.000Z', { clientMessageId: 'web-1' })];
    expect(withoutDelivered(pending, stored).map((p) => p.clientMessageId)).toEqual(['web-2']);
  });
});

describe('textLimit', () => {
  it.each([
    ['short', 'hello', { length: 5, shown: false, over: false }],
    ['near the limit', 'x'.repeat(8), { length: 8, shown: true, over: false }],
    ['at the limit', 'x'.repeat(10), { length: 10, shown: true, over: false }],
    ['over the limit', 'x'.repeat(11), { length: 11, shown: true, over: true }],
    ['trimmed as the server trims', `  ${'x'.repeat(10)}  `, { length: 10, shown: true, over: false }],
    ['emoji count once', '😀'.repeat(10), { length: 10, shown: true, over: false }],
  ])('%s', (_name, draft, expected) => {
    expect(textLimit(draft, 10)).toEqual(expected);
  });
});
