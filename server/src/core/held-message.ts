import { hasOperator } from '@openlines/contract';
import { type SessionSnapshot, type SessionStatus, transition } from './session-machine';

/**
 * The most frequent use case of the engine: a client writes in a session an operator already holds
 * (assigned, answered or client_waiting). Everything it changes is decided here, from the loaded
 * session, as a plan that the service writes in one statement; the plan is the whole effect, so
 * the same input always gives the same writes.
 *
 * What a client message does in a held session (SPEC §2, §5, KPI-1):
 * - `answered → client_waiting` (the client wrote after the operator's answer); other held
 *   statuses stay, and only a real change of status is a transition;
 * - the first unanswered message starts the wait: `waiting_since`, the no-answer timer (AA-3) and,
 *   once the first answer was given, the further-answer KPI timer (KPI-1);
 * - an armed auto-close (AA-6) no longer applies: the client is talking again.
 *
 * Messages that need more (a pending consent by reply, a pending rating, spam, a client that is not
 * held) are not planned here: `planHeldClientMessage` answers null and the general intake runs.
 */

export const TIMER_KINDS = [
  'queue_timeout',
  'no_answer',
  'auto_close',
  'rating_request',
  'kpi_first_answer',
  'kpi_further_answer',
  /** History saving off: the closed session's texts go once it is final (services/erasure). */
  'history_erasure',
  /** BOT-1: WELCOME_BOT_TIME passed with the session still held by the bot. */
  'bot_timeout',
] as const;
export type TimerKind = (typeof TIMER_KINDS)[number];

export interface HeldSessionFacts extends SessionSnapshot {
  waitingSince: Date | null;
  firstAnswerAt: Date | null;
  ratingRequestedAt: Date | null;
  rated: boolean;
  consentRequestedAt: Date | null;
  consentGivenAt: Date | null;
  /** Timer kinds armed for the session now. */
  armedTimers: readonly TimerKind[];
}

export interface HeldLineFacts {
  noAnswerSeconds: number;
  furtherAnswerTargetSeconds: number;
  /** The channel takes consent and ratings by the client's next message (messengers). */
  answersByReply: boolean;
}

export interface TimerToArm {
  kind: TimerKind;
  dueAt: Date;
}

export interface HeldMessagePlan {
  status: SessionStatus;
  /** The recorded transition, when the status changes. */
  transition: { from: SessionStatus; to: SessionStatus } | null;
  /** Set when this message starts the client's wait for an answer. */
  waitingSince: Date | null;
  lastClientMessageAt: Date;
  arm: TimerToArm[];
  cancel: TimerKind[];
}

/** Why a message in this session is not a plain held-session message (the general path takes it). */
export function heldPathRefusal(session: HeldSessionFacts, line: HeldLineFacts): string | null {
  if (!hasOperator(session.status)) return 'not_held';
  if (session.ratingRequestedAt && !session.rated) return 'rating_pending';
  if (line.answersByReply && session.consentRequestedAt && !session.consentGivenAt) return 'consent_pending';
  return null;
}

export function planHeldClientMessage(
  session: HeldSessionFacts,
  line: HeldLineFacts,
  now: Date,
): HeldMessagePlan | null {
  if (heldPathRefusal(session, line) !== null) return null;
  const result = transition(session, { type: 'client_message' });
  if (!result.ok) return null;
  const arm: TimerToArm[] = [];
  const startsWait = session.waitingSince === null;
  if (startsWait) {
    arm.push({ kind: 'no_answer', dueAt: new Date(now.getTime() + line.noAnswerSeconds * 1000) });
    if (session.firstAnswerAt && line.furtherAnswerTargetSeconds > 0) {
      arm.push({
        kind: 'kpi_further_answer',
        dueAt: new Date(now.getTime() + line.furtherAnswerTargetSeconds * 1000),
      });
    }
  }
  return {
    status: result.status,
    transition: result.statusChanged ? { from: session.status, to: result.status } : null,
    waitingSince: startsWait ? now : null,
    lastClientMessageAt: now,
    arm,
    // Only timers that are armed are cancelled: no statement for what is not there.
    cancel: session.armedTimers.includes('auto_close') ? ['auto_close'] : [],
  };
}

export interface OperatorAnswerPlan {
  status: SessionStatus;
  transition: { from: SessionStatus; to: SessionStatus } | null;
  /** Set on the session's first answer (KPI-1 measures to it). */
  firstAnswerAt: Date | null;
  lastOperatorMessageAt: Date;
  /** Missed KPI targets still open are answered now. */
  answerBreaches: boolean;
  arm: TimerToArm[];
  cancel: TimerKind[];
}

/**
 * The operator holding a session answers the client (SPEC §2, §6, KPI-1): the session becomes
 * `answered` (the first answer is stamped), the wait is over (no-answer and KPI timers end, missed
 * targets are answered), the assignment's queue timeout ends, and auto-close starts (AA-6).
 * Null when this is not the holder's plain answer; the general path then decides.
 */
export function planOperatorAnswer(
  session: HeldSessionFacts & { unansweredBreaches: number },
  line: { autoCloseSeconds: number },
  now: Date,
): OperatorAnswerPlan | null {
  if (!hasOperator(session.status)) return null;
  const result = transition(session, { type: 'operator_message' });
  if (!result.ok) return null;
  const ending: TimerKind[] = ['no_answer', 'kpi_first_answer', 'kpi_further_answer'];
  if (session.status === 'assigned') ending.push('queue_timeout');
  return {
    status: result.status,
    transition: result.statusChanged ? { from: session.status, to: result.status } : null,
    firstAnswerAt: session.firstAnswerAt === null ? now : null,
    lastOperatorMessageAt: now,
    answerBreaches: session.unansweredBreaches > 0,
    arm: [{ kind: 'auto_close', dueAt: new Date(now.getTime() + line.autoCloseSeconds * 1000) }],
    cancel: ending.filter((kind) => session.armedTimers.includes(kind)),
  };
}
