import type { Line } from '@openlines/contract';
import { defaultLineSettings } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import { inView, isWaitingForMe, liveKpiState, matchesFilters, waitingSince } from './dialogs';
import { dialog } from './fixtures.test-util';

function _line(first: number, further: number): Line {
  const settings = defaultLineSettings('en');
  settings.kpi.firstAnswer.targetSeconds = first;
  settings.kpi.furtherAnswer.targetSeconds = further;
  return { id: 'l1', name: 'Support', active: true, settings, createdAt: '', updatedAt: '' };
}
const at = (iso: string) => Date.parse(iso);

describe('views', () => {
  it('puts a waiting dialog in the queue and a held one in mine, for its operator and consultants', () => {
    const queued = dialog();
    const held = dialog({ id: 'd2' }, { status: 'answered', operatorId: 'me' });
    const consulting = dialog(
      { id: 'd3' },
      { status: 'client_waiting', operatorId: 'other', participantIds: ['me'] },
    );
    const closed = dialog({ id: 'd4' }, { status: 'closed', operatorId: 'me' });
    expect(
      [queued, held, consulting, closed].filter((d) => inView(d, 'queue', 'me')).map((d) => d.id),
    ).toEqual(['d1']);
    expect(
      [queued, held, consulting, closed].filter((d) => inView(d, 'mine', 'me')).map((d) => d.id),
    ).toEqual(['d2', 'd3']);
    expect(isWaitingForMe(dialog({}, { status: 'assigned', offeredTo: ['me'] }), 'me')).toBe(true);
  });

  it('applies the list filters to dialogs that arrive by events', () => {
    const d = dialog({ lastMessagePreview: 'Where is my order?' }, { operatorId: 'u1' });
    expect(matchesFilters(d, { search: 'ORDER' })).toBe(true);
    expect(matchesFilters(d, { search: 'anna@' })).toBe(true);
    expect(matchesFilters(d, { search: 'refund' })).toBe(false);
    // Found by the server in an earlier message: kept whatever the last message says.
    const found = {
      ...d,
      searchHit: { messageId: 'm1', at: d.createdAt, fragments: [{ text: 'Refunds', hit: true }] },
    };
    expect(matchesFilters(found, { search: 'refund' })).toBe(true);
    expect(matchesFilters(d, { lineId: 'l2' })).toBe(false);
    expect(matchesFilters(d, { operatorId: 'u1', status: 'queued', channelId: 'c1' })).toBe(true);
    expect(matchesFilters(d, { from: '2026-03-02T11:00:00.000Z' })).toBe(false);
    expect(matchesFilters(d, { to: '2026-03-02T11:00:00.000Z' })).toBe(true);
  });
});

describe('waiting and KPI', () => {
  it('measures the wait from queueing, then from the client’s last message', () => {
    expect(waitingSince(dialog())).toBe('2026-03-02T10:00:00.000Z');
    expect(
      waitingSince(dialog({}, { status: 'client_waiting', lastClientMessageAt: '2026-03-02T10:30:00.000Z' })),
    ).toBe('2026-03-02T10:30:00.000Z');
    expect(waitingSince(dialog({}, { status: 'answered' }))).toBeNull();
  });

  it('prefers the server’s KPI state and turns it overdue once due', () => {
    const d = dialog(
      {},
      {
        kpi: {
          state: 'on_time',
          waitingSince: null,
          dueAt: '2026-03-02T10:01:00.000Z',
          firstAnswerSeconds: null,
          breaches: 0,
        },
      },
    );
    expect(liveKpiState(d, at('2026-03-02T10:00:30Z'))).toBe('on_time');
    expect(liveKpiState(d, at('2026-03-02T10:02:00Z'))).toBe('overdue');
  });
});
