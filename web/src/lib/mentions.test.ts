import type { User } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import { mentionedIds, mentionQuery, searchColleagues } from './mentions';

const user = (id: string, name: string, active = true) => ({ id, name, active }) as User;

describe('mentions in private notes', () => {
  it('finds the "@…" being typed before the caret, not an e-mail address', () => {
    expect(mentionQuery('ask @Bo', 7)).toEqual({ start: 4, query: 'Bo' });
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQuery('write to bob@example.com', 24)).toBeNull();
    expect(mentionQuery('ask @Bob now', 12)).toBeNull();
  });

  it('offers active colleagues other than me, names starting with the query first', () => {
    const users = [
      user('me', 'Maria'),
      user('a', 'Anna Bor'),
      user('b', 'Boris'),
      user('c', 'Bogdan', false),
    ];
    expect(searchColleagues(users, 'bo', 'me').map((u) => u.id)).toEqual(['b', 'a']);
    expect(searchColleagues(users, '', 'me').map((u) => u.id)).toEqual(['a', 'b']);
  });

  it('sends only the colleagues whose mention is still in the text', () => {
    const picked = [
      { id: 'a', name: 'Anna Bor' },
      { id: 'b', name: 'Boris' },
      { id: 'a', name: 'Anna Bor' },
    ];
    expect(mentionedIds('@Anna Bor please look', picked)).toEqual(['a']);
    expect(mentionedIds('@Boris and @Anna Bor', picked)).toEqual(['a', 'b']);
  });
});
