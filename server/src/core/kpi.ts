/**
 * KPI (KPI-1, KPI-3): the answer-time targets of a line applied to a session. The first answer is
 * measured from the session's first client message; every further answer from the first client
 * message the operator has not answered yet (`waitingSince`).
 */
export interface KpiTargets {
  firstAnswerSeconds: number;
  furtherAnswerSeconds: number;
}

export interface KpiSessionFacts {
  open: boolean;
  createdAt: Date;
  firstAnswerAt: Date | null;
  /** The oldest client message not answered yet; null when the operator has answered everything. */
  waitingSince: Date | null;
  breaches: number;
}

export type KpiStateName = 'none' | 'on_time' | 'overdue' | 'missed';

export interface KpiState {
  state: KpiStateName;
  waitingSince: Date | null;
  dueAt: Date | null;
  firstAnswerSeconds: number | null;
  breaches: number;
}

/** The target that applies to the current wait: the first answer until there is one, then further answers. */
export function targetSecondsFor(targets: KpiTargets, firstAnswered: boolean): number {
  return firstAnswered ? targets.furtherAnswerSeconds : targets.firstAnswerSeconds;
}

export function kpiState(targets: KpiTargets, session: KpiSessionFacts, now: Date): KpiState {
  const firstAnswerSeconds = session.firstAnswerAt
    ? Math.round((session.firstAnswerAt.getTime() - session.createdAt.getTime()) / 1000)
    : null;
  const target = targetSecondsFor(targets, session.firstAnswerAt !== null);
  const waiting = session.open ? session.waitingSince : null;
  const base = { waitingSince: waiting, firstAnswerSeconds, breaches: session.breaches };
  if (waiting && target > 0) {
    const dueAt = new Date(waiting.getTime() + target * 1000);
    return { ...base, dueAt, state: now >= dueAt ? 'overdue' : 'on_time' };
  }
  if (session.breaches > 0) return { ...base, dueAt: null, state: 'missed' };
  const anyTarget = targets.firstAnswerSeconds > 0 || targets.furtherAnswerSeconds > 0;
  return { ...base, dueAt: null, state: anyTarget ? 'on_time' : 'none' };
}

/** KPI-2's message text: `#OPERATOR#` and `#DIALOG#` replaced (the text is shown as text, never HTML). */
export function kpiAlertText(template: string, values: { operator: string; dialog: string }): string {
  return template.replaceAll('#OPERATOR#', values.operator).replaceAll('#DIALOG#', values.dialog);
}
