import { OpenlinesError } from '@openlines/sdk';
import { describe, expect, it } from 'vitest';
import { matchesFilters } from './dialogs';
import { readableError } from './errors';
import { dialog } from './fixtures.test-util';
import { makeTranslate } from './i18n';
import { answersForLine } from './quick-answers';
import { addTag, knownTags, TAG_MAX_LENGTH, TAGS_MAX } from './tags';
import { isNotableTransition } from './timeline';

// The pure parts of the workspace's operator actions (issue 19).

describe('dialog tags', () => {
  it('takes the contract’s limits', () => {
    expect(TAG_MAX_LENGTH).toBe(40);
    expect(TAGS_MAX).toBe(20);
  });

  it('adds a trimmed tag once, in name order', () => {
    expect(addTag(['vip'], '  billing ')).toEqual({ tags: ['billing', 'vip'], problem: null });
    expect(addTag(['vip'], 'vip').problem).toBe('duplicate');
    expect(addTag(['vip'], '   ').problem).toBe('empty');
  });

  it('refuses what the server would refuse, keeping the tags as they were', () => {
    const long = addTag([], 'x'.repeat(41));
    expect(long).toEqual({ tags: [], problem: 'tooLong' });
    expect(addTag([], 'x'.repeat(40)).problem).toBeNull();
    const full = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    expect(addTag(full, 'one more')).toEqual({ tags: full, problem: 'tooMany' });
  });

  it('lists the known tags of the dialogs once each', () => {
    expect(knownTags([{ tags: ['vip', 'b'] }, { tags: ['b'] }, { tags: [] }])).toEqual(['b', 'vip']);
  });

  it('filters the list by tag', () => {
    const tagged = dialog({ tags: ['vip'] });
    expect(matchesFilters(tagged, { tag: 'vip' })).toBe(true);
    expect(matchesFilters(tagged, { tag: 'VIP' })).toBe(false);
    expect(matchesFilters(dialog({ tags: [] }), { tag: 'vip' })).toBe(false);
    expect(matchesFilters(dialog({ tags: [] }), {})).toBe(true);
  });
});

describe('quick answers of a line', () => {
  const answer = (id: string, lineId: string | null, personal = false) => ({
    id,
    title: id,
    text: id,
    personal,
    lineId,
    createdAt: '',
    updatedAt: '',
  });

  it('offers the answers of every line and those of the dialog’s line, personal ones too', () => {
    const all = [
      answer('shared', null),
      answer('mine', null, true),
      answer('l1', 'l1'),
      answer('l2', 'l2', true),
    ];
    expect(answersForLine(all, 'l1').map((a) => a.id)).toEqual(['shared', 'mine', 'l1']);
    expect(answersForLine(all, 'l2').map((a) => a.id)).toEqual(['shared', 'mine', 'l2']);
  });
});

describe('a refusal with a reason code', () => {
  const refusal = (extra: Record<string, unknown>) =>
    new OpenlinesError({
      type: 'about:blank',
      title: 'Invalid state',
      status: 409,
      code: 'invalid_state',
      detail: 'This channel accepts messages only within 24 hours after the client last wrote',
      ...extra,
    });

  it('is told in the user’s language, with the plural form of the hours', () => {
    const error = refusal({ reasonCode: 'reply_window_closed', replyWindowHours: 24 });
    expect(readableError(error, makeTranslate('ru')).detail).toContain('в течение 24 часов после');
    expect(readableError(error, makeTranslate('en')).detail).toContain('within 24 hours after');
    const one = refusal({ reasonCode: 'reply_window_closed', replyWindowHours: 1 });
    expect(readableError(one, makeTranslate('en')).detail).toContain('within 1 hour after');
    expect(readableError(one, makeTranslate('ru')).title).toBe('Невозможно в текущем состоянии диалога');
  });

  it('keeps the server’s detail for a reason the catalogue does not know', () => {
    const error = refusal({ reasonCode: 'something_new' });
    expect(readableError(error, makeTranslate('ru')).detail).toBe(
      'This channel accepts messages only within 24 hours after the client last wrote',
    );
  });
});

describe('the history of a session an operator starts', () => {
  it('hides the queue step the operator takes at once', () => {
    const base = { sessionId: 's', from: null, to: 'queued' as const, operatorId: null, at: '' };
    const step = (reason: string) => ({ ...base, actorKind: 'operator', actorId: 'u', reason });
    expect(isNotableTransition(step('operator_start'))).toBe(false);
    expect(isNotableTransition(step('started_by_operator'))).toBe(true);
    expect(isNotableTransition(step('intercepted'))).toBe(true);
  });
});
