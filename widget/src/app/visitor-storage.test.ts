import { describe, expect, it } from 'vitest';
import type { KeyValueStore } from '../host';
import type { PendingMessage } from './conversation';
import { VisitorStorage } from './visitor-storage';

function memoryStore(entries: Record<string, string> = {}): KeyValueStore & { data: Map<string, string> } {
  const data = new Map(Object.entries(entries));
  return {
    data,
    get: (name) => data.get(name) ?? null,
    set: (name, value) => void data.set(name, value),
    remove: (name) => void data.delete(name),
  };
}

const pending = (state: PendingMessage['state'], error?: string): PendingMessage => ({
  clientMessageId: `id-${state}`,
  text: state,
  attachments: [],
  createdAt: '2030-01-01T10:00:00.000Z',
  state,
  ...(error ? { error } : {}),
});

describe('what the widget keeps for its visitor', () => {
  it('queues again what was on its way, keeps refusals refused, and does not keep their reasons', () => {
    const store = memoryStore();
    const storage = new VisitorStorage(store);
    storage.writeOutbox([pending('sending'), pending('failed', 'Too long'), pending('queued')]);
    expect(store.data.get('outbox')).not.toContain('Too long');
    expect(new VisitorStorage(store).readOutbox().map((p) => [p.text, p.state, p.error])).toEqual([
      ['sending', 'queued', undefined],
      ['failed', 'failed', undefined],
      ['queued', 'queued', undefined],
    ]);
  });

  it('survives what another version or a full disk left behind', () => {
    const storage = new VisitorStorage(memoryStore({ outbox: '{not json', done: 'nope' }));
    expect(storage.readOutbox()).toEqual([]);
    expect([...storage.answered]).toEqual([]);
  });

  it('remembers the last 50 prompts answered, across pages', () => {
    const store = memoryStore();
    const storage = new VisitorStorage(store);
    for (let i = 0; i < 60; i++) storage.markAnswered(`m${i}`);
    const next = new VisitorStorage(store);
    expect(next.answered.size).toBe(50);
    expect(next.answered.has('m10')).toBe(true);
    expect(next.answered.has('m9')).toBe(false);
  });

  it('tells the server who the visitor is again only when the site says someone else', () => {
    const storage = new VisitorStorage(memoryStore());
    const ivan = { id: 'u1', name: 'Ivan', hash: 'a'.repeat(64) };
    expect(storage.isIdentifiedAs(ivan)).toBe(false);
    storage.rememberIdentity(ivan);
    expect(storage.isIdentifiedAs({ ...ivan, hash: 'b'.repeat(64) })).toBe(true);
    expect(storage.isIdentifiedAs({ ...ivan, name: 'Ivan P.' })).toBe(false);
  });

  it('forgets everything on reset, under the names the loader and older widgets use', () => {
    const store = memoryStore();
    const storage = new VisitorStorage(store);
    storage.saveToken('t');
    storage.writeOutbox([pending('queued')]);
    storage.markAnswered('m1');
    storage.rememberIdentity({ id: 'u1', hash: 'a'.repeat(64) });
    expect([...store.data.keys()].sort()).toEqual(['done', 'identified', 'outbox', 'token']);
    storage.clear();
    expect(store.data.size).toBe(0);
    expect(storage.answered.size).toBe(0);
    expect(storage.token).toBeNull();
  });
});
