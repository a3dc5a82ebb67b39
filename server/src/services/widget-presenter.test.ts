import { type Dialog, defaultLineSettings } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../channels/types';
import {
  type MessageLike,
  NO_SESSION,
  presentVisitorMessages,
  presentVisitorSession,
} from './widget-presenter';

const message = (fields: Partial<MessageLike>): MessageLike => ({
  id: 'm1',
  authorKind: 'operator',
  text: 'Hi',
  attachments: [],
  private: false,
  externalId: null,
  createdAt: '2026-12-02T10:00:00.000Z',
  ...fields,
});

const sent = (fields: Partial<OutboundMessage>) =>
  ({ authorName: 'Anna', authorAvatarUrl: 'https://cdn.example/anna.png', ...fields }) as OutboundMessage;

describe('what a visitor sees of messages', () => {
  it('leaves private notes out, names the operator as the line shows them, and only http(s) links', () => {
    const presented = presentVisitorMessages(
      [
        message({ id: 'note', private: true, text: 'VIP, be nice' }),
        message({
          id: 'answer',
          attachments: [
            { name: 'a.png', url: 'javascript:alert(1)', mimeType: 'image/png', size: 1 },
            { name: 'b.png', url: 'https://files.example/b.png', mimeType: 'image/png', size: 1 },
          ] as MessageLike['attachments'],
        }),
        message({ id: 'mine', authorKind: 'client', externalId: 'visitor-1/cmid-7', text: 'Hello' }),
      ],
      new Map([['answer', sent({ authorAvatarUrl: 'data:text/html,x' })]]),
    );
    expect(presented.map((m) => m.id)).toEqual(['answer', 'mine']);
    expect(presented[0]).toMatchObject({ author: 'operator', name: 'Anna', avatarUrl: null });
    expect(presented[0]!.attachments.map((a) => a.name)).toEqual(['b.png']);
    expect(presented[1]).toMatchObject({ author: 'visitor', name: null, clientMessageId: 'cmid-7' });
  });
});

describe('what a visitor sees of the session', () => {
  const rating = { ...defaultLineSettings().rating, enabled: true, allowBeforeFinish: true };
  const dialogWith = (session: Partial<NonNullable<Dialog['session']>> | null) =>
    ({
      session: session && { consent: 'none', rating: null, ratingRequestedAt: null, ...session },
    }) as Dialog;
  const operator = { name: 'Anna', avatarUrl: 'https://cdn.example/anna.png' };

  it.each([
    ['no dialog yet', null, NO_SESSION],
    ['queued', dialogWith({ status: 'queued' }), { status: 'waiting', operator: null, ratingAllowed: false }],
    ['held', dialogWith({ status: 'answered' }), { status: 'active', operator, ratingAllowed: true }],
    [
      'held and rated already',
      dialogWith({ status: 'answered', rating: 'like' as never }),
      { status: 'active', ratingAllowed: false, ratingPending: false },
    ],
    [
      'closed and asked to rate',
      dialogWith({ status: 'closed', ratingRequestedAt: '2026-12-02T10:00:00Z' }),
      { status: 'closed', operator: null, ratingPending: true, ratingAllowed: false },
    ],
    [
      'consent asked',
      dialogWith({ status: 'queued', consent: 'pending' as never }),
      { consentPending: true },
    ],
  ])('%s', (_name, dialog, expected) => {
    expect(presentVisitorSession(dialog as Dialog | null, { rating, operator })).toMatchObject(expected);
  });
});
