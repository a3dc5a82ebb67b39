import { describe, expect, it } from 'vitest';
import {
  DELETED_CLIENT_NAME,
  deletedClientName,
  historyFinalAt,
  localisedSet,
  retainedOutboxPayload,
  retentionDaysOf,
  UNLIMITED_RATING_WAIT_SECONDS,
} from './personal-data';

const closedAt = new Date('2026-03-02T10:00:00Z');
const at = (seconds: number) => new Date(closedAt.getTime() + seconds * 1000);
const rating = { enabled: true, when: 'on_close', delaySeconds: 0, timeLimitSeconds: 0 };

describe('historyFinalAt: when a closed session of a line without history is final', () => {
  it.each([
    [
      'no rating on the line',
      { ...rating, enabled: false },
      { rated: false, ratingRequestedAt: null },
      at(0),
    ],
    ['already rated', rating, { rated: true, ratingRequestedAt: at(0) }, at(0)],
    [
      'asked at the close, 2 min to answer',
      { ...rating, timeLimitSeconds: 120 },
      { rated: false, ratingRequestedAt: at(0) },
      at(120),
    ],
    [
      'asked after a delay not yet sent',
      { ...rating, when: 'after_delay', delaySeconds: 60, timeLimitSeconds: 120 },
      { rated: false, ratingRequestedAt: null },
      at(180),
    ],
    ['no time limit', rating, { rated: false, ratingRequestedAt: at(0) }, at(UNLIMITED_RATING_WAIT_SECONDS)],
  ])('%s', (_name, settings, session, expected) => {
    expect(historyFinalAt(settings, { closedAt, ...session })).toEqual(expected);
  });
});

describe('retentionDaysOf', () => {
  it.each([
    [0, null, null],
    [undefined, null, null],
    [0, 30, 30],
    [7, 30, 7],
    [90, 30, 90],
    [5, null, 5],
  ])('line %s, account %s → %s', (line, account, expected) => {
    expect(retentionDaysOf(line, account)).toBe(expected);
  });
});

describe('retainedOutboxPayload', () => {
  it('keeps what the widget presents and drops the text, attachments, recipient and template', () => {
    const payload = {
      kind: 'message',
      message: {
        messageId: 'm',
        dialogId: 'd',
        recipientId: 'client-42',
        authorKind: 'operator',
        authorName: 'Anna',
        authorAvatarUrl: null,
        text: 'secret',
        attachments: [{ url: 'u', name: 'n', mimeType: 'text/plain', size: 1 }],
        quickReplies: [{ title: 'Yes', reply: '1' }],
        template: { name: 't', language: 'en', parameters: ['secret'] },
        createdAt: 'now',
      },
    };
    expect(retainedOutboxPayload(payload)).toEqual({
      kind: 'message',
      message: {
        messageId: 'm',
        dialogId: 'd',
        authorKind: 'operator',
        authorName: 'Anna',
        authorAvatarUrl: null,
        quickReplies: [{ title: 'Yes', reply: '1' }],
        createdAt: 'now',
      },
    });
    expect(JSON.stringify(retainedOutboxPayload(payload))).not.toContain('secret');
  });
});

describe('"Deleted client" in the account’s language', () => {
  it.each([
    ['en', 'Deleted client'],
    ['ru', 'Удалённый клиент'],
  ] as const)('%s → %s, and other values stay as they are', (language, name) => {
    expect(deletedClientName(language)).toBe(name);
    expect(localisedSet({ name: DELETED_CLIENT_NAME, photo_url: null, notes: '' }, language)).toEqual({
      name,
      photo_url: null,
      notes: '',
    });
  });
});
