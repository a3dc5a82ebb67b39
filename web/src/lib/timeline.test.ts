import type { ConsentRecord, SessionTransition } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import { message } from './fixtures.test-util';
import { buildTimeline } from './timeline';

const transition = (at: string, reason: string, to: SessionTransition['to']): SessionTransition => ({
  sessionId: 's1',
  from: null,
  to,
  operatorId: 'u1',
  actorKind: 'operator',
  actorId: 'u1',
  reason,
  at,
});

describe('buildTimeline', () => {
  it('interleaves messages and session events in time order with a separator per day', () => {
    const items = buildTimeline(
      [
        message('a', '2026-03-01T10:00:00.000Z'),
        message('b', '2026-03-02T10:05:00.000Z'),
        message('c', '2026-03-02T10:10:00.000Z'),
      ],
      [
        transition('2026-03-02T10:06:00.000Z', 'taken', 'assigned'),
        transition('2026-03-02T10:10:00.000Z', 'operator_message', 'answered'),
        transition('2026-03-02T11:00:00.000Z', 'closed_by_operator', 'closed'),
      ],
      'UTC',
    );
    expect(
      items.map((item) =>
        item.kind === 'day'
          ? `day ${item.day}`
          : item.kind === 'message'
            ? item.message.id
            : item.kind === 'event'
              ? item.transition.reason
              : item.consent.decision,
      ),
    ).toEqual(['day 2026-03-01', 'a', 'day 2026-03-02', 'b', 'taken', 'c', 'closed_by_operator']);
  });

  it('shows consent decisions in time order, after the message that carried them', () => {
    const consent = (id: string, at: string, decision: ConsentRecord['decision']): ConsentRecord => ({
      id,
      clientId: 'c1',
      decision,
      how: 'api',
      channelId: null,
      sessionId: 's1',
      at,
      agreement: { lineId: 'l1', version: 1, textSha256: 'ab'.repeat(32) },
    });
    const items = buildTimeline(
      [message('a', '2026-03-02T10:00:00.000Z'), message('b', '2026-03-02T10:05:00.000Z')],
      [],
      'UTC',
      [
        consent('k1', '2026-03-02T10:00:00.000Z', 'refused'),
        consent('k2', '2026-03-02T10:07:00.000Z', 'given'),
      ],
    );
    expect(items.map((item) => item.key)).toEqual(['d:2026-03-02', 'm:a', 'c:k1', 'm:b', 'c:k2']);
  });

  it('puts days in the viewer’s time zone', () => {
    const items = buildTimeline([message('late', '2026-03-01T23:30:00.000Z')], [], 'Europe/Moscow');
    expect(items[0]).toMatchObject({ kind: 'day', day: '2026-03-02' });
  });
});
