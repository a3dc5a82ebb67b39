import type { VisitorMessage } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import { Conversation, type PendingMessage } from './conversation';

function message(id: string, fields: Partial<VisitorMessage> = {}): VisitorMessage {
  return {
    id,
    author: 'operator',
    name: null,
    avatarUrl: null,
    text: id,
    attachments: [],
    createdAt: '2030-01-01T10:00:00.000Z',
    clientMessageId: null,
    systemKind: null,
    quickReplies: [],
    editedAt: null,
    deleted: false,
    seen: false,
    ...fields,
  };
}

function conversation(pending: PendingMessage[] = []) {
  const saved: (readonly PendingMessage[])[] = [];
  return { conversation: new Conversation(pending, (items) => saved.push([...items])), saved };
}

describe('the conversation the widget shows', () => {
  it('orders by time, then as the messages came; older pages go before everything', () => {
    const { conversation: c } = conversation();
    c.upsert(message('b'));
    c.upsert(message('a'));
    c.upsert(message('early', { createdAt: '2030-01-01T09:00:00.000Z' }));
    c.addOlder([message('older')], false);
    expect(c.shown().map((m) => m.id)).toEqual(['early', 'older', 'b', 'a']);
    c.addOlder([message('oldest', { createdAt: '2029-12-31T00:00:00.000Z' })], true);
    expect(c.oldest()?.id).toBe('oldest');
    expect(c.hasMore).toBe(true);
  });

  it('leaves erased messages out of the log, but pages history from the oldest known', () => {
    const { conversation: c } = conversation();
    c.upsert(message('erased', { text: null, createdAt: '2030-01-01T08:00:00.000Z' }));
    c.upsert(message('kept'));
    expect(c.shown().map((m) => m.id)).toEqual(['kept']);
    expect(c.oldest()?.id).toBe('erased');
  });

  it('settles a pending message when the server stores it, and saves the outbox then', () => {
    const { conversation: c, saved } = conversation();
    c.queue('hello', []);
    const item = c.pending[0]!;
    expect(item.state).toBe('queued');
    expect(saved).toHaveLength(1);
    expect(c.upsert(message('m1', { author: 'visitor', clientMessageId: item.clientMessageId }))).toBe(true);
    expect(c.pending).toEqual([]);
    expect(saved.at(-1)).toEqual([]);
    expect(c.upsert(message('m1', { text: 'edited' }))).toBe(false);
  });

  it('sends in the order written, skipping refused messages until retried', () => {
    const { conversation: c, saved } = conversation();
    c.queue('first', []);
    c.queue('second', []);
    const [first, second] = c.pending as [PendingMessage, PendingMessage];
    c.refused(first, 'No');
    expect(first).toMatchObject({ state: 'failed', error: 'No' });
    expect(c.nextToSend()).toBe(second);
    c.retry(first);
    expect(first.error).toBeUndefined();
    expect(c.nextToSend()).toBe(first);
    c.delivered(first, message('m1', { author: 'visitor' }));
    c.discard(second);
    expect(c.pending).toEqual([]);
    expect(c.isEmpty).toBe(false);
    expect(saved).toHaveLength(6);
  });

  it('finds the newest ask of a kind; of two at the same time, the one that came last', () => {
    const { conversation: c } = conversation();
    c.upsert(message('r1', { systemKind: 'rating_request', createdAt: '2030-01-01T11:00:00.000Z' }));
    c.upsert(message('r2', { systemKind: 'rating_request' }));
    c.upsert(message('r3', { systemKind: 'rating_request', createdAt: '2030-01-01T11:00:00.000Z' }));
    expect(c.latest('rating_request')?.id).toBe('r3');
    expect(c.latest('consent_request')).toBeUndefined();
  });

  it('replaces everything with a conversation from the server', () => {
    const { conversation: c } = conversation();
    c.upsert(message('gone'));
    c.replace({
      visitor: { id: 'v', name: null, email: null, identified: false },
      cursor: 3,
      messages: [message('new')],
      hasMore: true,
      session: { ...c.session, status: 'active' },
      consentNeeded: true,
    });
    expect(c.shown().map((m) => m.id)).toEqual(['new']);
    expect(c.session.status).toBe('active');
    expect(c.consentNeeded).toBe(true);
    expect(c.hasMore).toBe(true);
  });
});
