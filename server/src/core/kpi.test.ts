import { describe, expect, it } from 'vitest';
import { type KpiSessionFacts, type KpiTargets, kpiAlertText, kpiState } from './kpi';

const t0 = new Date('2026-03-02T10:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const targets: KpiTargets = { firstAnswerSeconds: 60, furtherAnswerSeconds: 300 };
const session = (facts: Partial<KpiSessionFacts>): KpiSessionFacts => ({
  open: true,
  createdAt: t0,
  firstAnswerAt: null,
  waitingSince: t0,
  breaches: 0,
  ...facts,
});

describe('kpiState', () => {
  it.each<[string, KpiTargets, KpiSessionFacts, number, string, Date | null]>([
    ['no targets', { firstAnswerSeconds: 0, furtherAnswerSeconds: 0 }, session({}), 500, 'none', null],
    ['waiting for the first answer, within target', targets, session({}), 59, 'on_time', at(60)],
    ['waiting for the first answer, past target', targets, session({}), 60, 'overdue', at(60)],
    [
      'first answer in time, client waiting again within the further target',
      targets,
      session({ firstAnswerAt: at(30), waitingSince: at(100) }),
      350,
      'on_time',
      at(400),
    ],
    [
      'further answer overdue',
      targets,
      session({ firstAnswerAt: at(30), waitingSince: at(100) }),
      400,
      'overdue',
      at(400),
    ],
    [
      'answered everything, a target was missed before',
      targets,
      session({ firstAnswerAt: at(90), waitingSince: null, breaches: 1 }),
      1000,
      'missed',
      null,
    ],
    [
      'answered everything in time',
      targets,
      session({ firstAnswerAt: at(30), waitingSince: null }),
      1000,
      'on_time',
      null,
    ],
    [
      'closed while waiting: no longer overdue, breach counts',
      targets,
      session({ open: false, breaches: 1 }),
      1000,
      'missed',
      null,
    ],
  ])('%s', (_name, tg, facts, now, state, dueAt) => {
    const result = kpiState(tg, facts, at(now));
    expect(result.state).toBe(state);
    expect(result.dueAt).toEqual(dueAt);
  });

  it('reports the first answer time in seconds', () => {
    expect(
      kpiState(targets, session({ firstAnswerAt: at(42), waitingSince: null }), at(100)).firstAnswerSeconds,
    ).toBe(42);
  });
});

describe('kpiAlertText', () => {
  it('fills both placeholders, every occurrence, and leaves markup as text', () => {
    expect(
      kpiAlertText('#OPERATOR# missed #DIALOG# (#OPERATOR#)', { operator: '<b>Ann</b>', dialog: 'Bob' }),
    ).toBe('<b>Ann</b> missed Bob (<b>Ann</b>)');
  });
});
