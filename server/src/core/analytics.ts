/**
 * Analytics (SPEC AN-1): the one definition of every per-session metric and of every
 * aggregate, computed from a session's stored transitions and messages. Pure: no clock is
 * read here — an open session is measured up to `now`, passed in by the caller.
 * The exact formulas are written down in docs/analytics.md; keep the two in step.
 */

import { CLOSED_STATUSES, type SessionStatus } from '@openlines/contract';
import { DateTime } from 'luxon';

/**
 * The version of the definitions below. Stored facts computed with another version are
 * recomputed: bump it whenever a per-session formula changes.
 */
export const FACTS_VERSION = 1;

type SessionState = SessionStatus;
const CLOSED: ReadonlySet<string> = new Set(CLOSED_STATUSES);

export interface FactTransition {
  from: SessionState | null;
  to: SessionState;
  operatorId: string | null;
  at: Date;
}

export interface FactMessage {
  author: 'client' | 'operator' | 'bot' | 'system';
  authorId: string | null;
  private: boolean;
  spam: boolean;
  at: Date;
}

export interface AnswerTargets {
  firstAnswerSeconds: number;
  furtherAnswerSeconds: number;
}

export interface SessionInput {
  transitions: readonly FactTransition[];
  messages: readonly FactMessage[];
  /** False when the dialog had an earlier session (a returning client). */
  firstOfDialog: boolean;
  openedOffHours: boolean;
  rating: 'like' | 'dislike' | null;
  supervisorRating: number | null;
  targets: AnswerTargets;
}

export interface SessionFacts {
  startedAt: Date;
  returning: boolean;
  messagesIn: number;
  messagesOut: number;
  botMessages: number;
  /** Seconds from hand-over to operators until the first operator answer; null if none. */
  firstAnswerSeconds: number | null;
  /** Every operator answer's wait, in seconds, the first included, with who answered. */
  answers: readonly { operatorId: string | null; seconds: number }[];
  /** Seconds from start to the last closing transition; null while open. */
  closeSeconds: number | null;
  botSeconds: number;
  queueSeconds: number;
  unanswered: boolean;
  missed: boolean;
  kpiBreaches: number;
  spam: boolean;
  offHours: boolean;
  rating: 'like' | 'dislike' | null;
  supervisorRating: number | null;
  /** The operator who held the session last (its figures go to them); null if nobody did. */
  operatorId: string | null;
}

const seconds = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 1000;

type Event = { kind: 't'; at: Date; t: FactTransition } | { kind: 'm'; at: Date; m: FactMessage };

/** One session's facts. Transitions and messages may come in any order; ties put transitions first. */
export function sessionFacts(input: SessionInput, now: Date): SessionFacts {
  const events: Event[] = [
    ...input.transitions.map((t): Event => ({ kind: 't', at: t.at, t })),
    ...input.messages.map((m): Event => ({ kind: 'm', at: m.at, m })),
  ].sort((a, b) => a.at.getTime() - b.at.getTime() || (a.kind === b.kind ? 0 : a.kind === 't' ? -1 : 1));
  const startedAt = events[0]?.at ?? now;
  let state: SessionState = 'new';
  let stateSince = startedAt;
  let botSeconds = 0;
  let queueSeconds = 0;
  let handedOverAt: Date | null = null;
  let waitingSince: Date | null = null;
  let operatorId: string | null = null;
  let closedAt: Date | null = null;
  let finalState: SessionState = 'new';
  let messagesIn = 0;
  let messagesOut = 0;
  let botMessages = 0;
  let offeredToOperators = false;
  const answers: { operatorId: string | null; seconds: number }[] = [];
  const leave = (at: Date) => {
    if (state === 'bot') botSeconds += seconds(stateSince, at);
    if (state === 'queued') queueSeconds += seconds(stateSince, at);
  };
  for (const e of events) {
    if (e.kind === 't') {
      const { t } = e;
      leave(t.at);
      if (state === 'bot' && t.to !== 'bot') {
        handedOverAt = t.at;
        // A client still waiting when the bot hands over waits for an operator from now.
        if (waitingSince) waitingSince = t.at;
      }
      if (t.to !== 'bot' && !CLOSED.has(t.to) && t.to !== 'new') offeredToOperators = true;
      state = t.to;
      stateSince = t.at;
      finalState = t.to;
      if (t.operatorId) operatorId = t.operatorId;
      closedAt = CLOSED.has(t.to) ? t.at : null;
      continue;
    }
    const { m } = e;
    if (m.private || m.author === 'system') continue;
    if (m.author === 'client') {
      if (m.spam) continue;
      messagesIn += 1;
      if (!waitingSince) waitingSince = m.at;
    } else if (m.author === 'bot') {
      botMessages += 1;
      if (state === 'bot') waitingSince = null;
    } else {
      messagesOut += 1;
      if (waitingSince) answers.push({ operatorId: m.authorId, seconds: seconds(waitingSince, m.at) });
      waitingSince = null;
    }
  }
  if (!closedAt) leave(now);
  const firstOperatorMessage = input.messages
    .filter((m) => m.author === 'operator' && !m.private)
    .sort((a, b) => a.at.getTime() - b.at.getTime())[0];
  const firstAnswerSeconds = firstOperatorMessage
    ? Math.max(0, seconds(handedOverAt ?? startedAt, firstOperatorMessage.at))
    : null;
  const spam = finalState === 'spam';
  const closed = closedAt !== null;
  const unanswered = closed && !spam && waitingSince !== null && offeredToOperators;
  const missed = unanswered && messagesOut === 0;
  const { firstAnswerSeconds: first, furtherAnswerSeconds: further } = input.targets;
  let kpiBreaches = 0;
  answers.forEach((a, i) => {
    const target = i === 0 ? first : further;
    if (target > 0 && a.seconds > target) kpiBreaches += 1;
  });
  return {
    startedAt,
    returning: !input.firstOfDialog,
    messagesIn,
    messagesOut,
    botMessages,
    firstAnswerSeconds,
    answers,
    closeSeconds: closedAt ? seconds(startedAt, closedAt) : null,
    botSeconds,
    queueSeconds,
    unanswered,
    missed,
    kpiBreaches,
    spam,
    offHours: input.openedOffHours,
    rating: input.rating,
    supervisorRating: input.supervisorRating,
    operatorId,
  };
}

export interface Distribution {
  count: number;
  average: number | null;
  median: number | null;
  p90: number | null;
  max: number | null;
}

/**
 * What a distribution is computed from: the count, the sum in whole milliseconds (every value is
 * a difference of millisecond instants, so the sum is exact in any order, which lets SQL and the
 * server add the same values and get the same average), the two middle values (equal when the
 * count is odd), the nearest-rank p90 and the max.
 */
export interface DistributionParts {
  count: number;
  sumMs: number;
  lowMiddle: number | null;
  highMiddle: number | null;
  p90: number | null;
  max: number | null;
}

/** A value in seconds as the whole milliseconds it was measured in. */
export const wholeMs = (seconds: number) => Math.round(seconds * 1000);

/** The parts of a list of values (sorted here). */
export function distributionParts(values: readonly number[]): DistributionParts {
  const n = values.length;
  if (n === 0) return { count: 0, sumMs: 0, lowMiddle: null, highMiddle: null, p90: null, max: null };
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: n,
    sumMs: sorted.reduce((s, v) => s + wholeMs(v), 0),
    // The ⌈n/2⌉-th smallest and the ⌈n/2⌉-th largest: the middle one twice when n is odd.
    lowMiddle: sorted[Math.ceil(0.5 * n) - 1] as number,
    highMiddle: sorted[n - Math.ceil(0.5 * n)] as number,
    p90: sorted[Math.ceil(0.9 * n) - 1] as number,
    max: sorted[n - 1] as number,
  };
}

/** Average = Σ ms / 1000 / n, median = mean of the two middle values (the middle one when n is odd). */
export function distributionOf(parts: DistributionParts): Distribution {
  const { count, lowMiddle, highMiddle } = parts;
  if (count === 0 || lowMiddle === null || highMiddle === null) {
    return { count: 0, average: null, median: null, p90: null, max: null };
  }
  return {
    count,
    average: parts.sumMs / 1000 / count,
    median: count % 2 ? lowMiddle : (lowMiddle + highMiddle) / 2,
    p90: parts.p90,
    max: parts.max,
  };
}

/** Average, median (mean of the two middle values when even), p90 (nearest rank), max. */
export function distribution(values: readonly number[]): Distribution {
  return distributionOf(distributionParts(values));
}

/**
 * The additive figures of a set of sessions: what one session contributes (`totalsOf`) and their
 * sums (`addTotals`). The daily roll-up (migration 0032) stores exactly these per day, line,
 * channel and holding operator.
 */
export interface Totals {
  sessions: number;
  returningSessions: number;
  messagesIn: number;
  messagesOut: number;
  botMessages: number;
  botMs: number;
  unanswered: number;
  missed: number;
  kpiBreaches: number;
  spam: number;
  likes: number;
  dislikes: number;
  supervisorSum: number;
  supervisorCount: number;
  outsideHours: number;
}

export const NO_TOTALS: Totals = Object.freeze({
  sessions: 0,
  returningSessions: 0,
  messagesIn: 0,
  messagesOut: 0,
  botMessages: 0,
  botMs: 0,
  unanswered: 0,
  missed: 0,
  kpiBreaches: 0,
  spam: 0,
  likes: 0,
  dislikes: 0,
  supervisorSum: 0,
  supervisorCount: 0,
  outsideHours: 0,
});

const flag = (b: boolean) => (b ? 1 : 0);

export function totalsOf(f: SessionFacts): Totals {
  return {
    sessions: 1,
    returningSessions: flag(f.returning),
    messagesIn: f.messagesIn,
    messagesOut: f.messagesOut,
    botMessages: f.botMessages,
    botMs: wholeMs(f.botSeconds),
    unanswered: flag(f.unanswered),
    missed: flag(f.missed),
    kpiBreaches: f.kpiBreaches,
    spam: flag(f.spam),
    likes: flag(f.rating === 'like'),
    dislikes: flag(f.rating === 'dislike'),
    supervisorSum: f.supervisorRating ?? 0,
    supervisorCount: flag(f.supervisorRating !== null),
    outsideHours: flag(f.offHours),
  };
}

export function addTotals(a: Totals, b: Totals): Totals {
  const sum = { ...a };
  for (const key of Object.keys(b) as (keyof Totals)[]) sum[key] += b[key];
  return sum;
}

export interface Summary {
  sessions: number;
  newSessions: number;
  returningSessions: number;
  messagesIn: number;
  messagesOut: number;
  botMessages: number;
  firstAnswer: Distribution;
  everyAnswer: Distribution;
  timeToClose: Distribution;
  botSeconds: number;
  unanswered: number;
  missed: number;
  kpiBreaches: number;
  likes: number;
  dislikes: number;
  /** likes / (likes + dislikes); null when nobody rated. */
  likeShare: number | null;
  supervisorRatingAverage: number | null;
  insideHours: number;
  outsideHours: number;
  spam: number;
}

export interface SummaryDistributions {
  firstAnswer: Distribution;
  everyAnswer: Distribution;
  timeToClose: Distribution;
}

/**
 * A summary from its totals and distributions. `operatorView`: the figures of some operators'
 * own work, where bot time and bot messages are 0 (BOT-4).
 */
export function summaryOf(t: Totals, d: SummaryDistributions, operatorView: boolean): Summary {
  return {
    sessions: t.sessions,
    newSessions: t.sessions - t.returningSessions,
    returningSessions: t.returningSessions,
    messagesIn: t.messagesIn,
    messagesOut: t.messagesOut,
    botMessages: operatorView ? 0 : t.botMessages,
    firstAnswer: d.firstAnswer,
    everyAnswer: d.everyAnswer,
    timeToClose: d.timeToClose,
    botSeconds: operatorView ? 0 : t.botMs / 1000,
    unanswered: t.unanswered,
    missed: t.missed,
    kpiBreaches: t.kpiBreaches,
    likes: t.likes,
    dislikes: t.dislikes,
    likeShare: t.likes + t.dislikes ? t.likes / (t.likes + t.dislikes) : null,
    supervisorRatingAverage: t.supervisorCount ? t.supervisorSum / t.supervisorCount : null,
    insideHours: t.sessions - t.outsideHours,
    outsideHours: t.outsideHours,
    spam: t.spam,
  };
}

/**
 * Aggregates facts. With `operators` (one id, or a set: a department's members), only their own
 * work counts: answers they sent, sessions they held last — bot time never enters their figures.
 */
export function summarize(facts: readonly SessionFacts[], operators?: string | ReadonlySet<string>): Summary {
  const set = typeof operators === 'string' ? new Set([operators]) : operators;
  const ours = (id: string | null) => set === undefined || (id !== null && set.has(id));
  const mine = set === undefined ? facts : facts.filter((f) => ours(f.operatorId));
  const answers = facts.flatMap((f) => f.answers.filter((a) => ours(a.operatorId)).map((a) => a.seconds));
  return summaryOf(
    mine.reduce((t, f) => addTotals(t, totalsOf(f)), NO_TOTALS),
    {
      firstAnswer: distribution(
        mine.flatMap((f) => (f.firstAnswerSeconds === null ? [] : [f.firstAnswerSeconds])),
      ),
      everyAnswer: distribution(answers),
      timeToClose: distribution(mine.flatMap((f) => (f.closeSeconds === null ? [] : [f.closeSeconds]))),
    },
    set !== undefined,
  );
}

export type Bucket = 'day' | 'week' | 'month';

// Making a formatter costs far more than using one: one per time zone, kept.
const dayFormats = new Map<string, Intl.DateTimeFormat>();
function dayFormat(timeZone: string): Intl.DateTimeFormat {
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    if (dayFormats.size > 500) dayFormats.clear();
    dayFormats.set(timeZone, format);
  }
  return format;
}

/** The local calendar date (YYYY-MM-DD) in `timeZone` of the bucket holding `at`; weeks start on Monday. */
export function bucketOf(at: Date, timeZone: string, bucket: Bucket): string {
  const parts = dayFormat(timeZone)
    .formatToParts(at)
    .reduce<Record<string, string>>((acc, p) => Object.assign(acc, { [p.type]: p.value }), {});
  const local = new Date(Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day)));
  if (bucket === 'month') local.setUTCDate(1);
  if (bucket === 'week') local.setUTCDate(local.getUTCDate() - ((local.getUTCDay() + 6) % 7));
  return local.toISOString().slice(0, 10);
}

/** A report period: local dates `from`..`to` (both included) as instants [start, end). */
export interface Period {
  from: string;
  to: string;
  start: Date;
  end: Date;
}

const localDay = (date: string, timeZone: string) =>
  DateTime.fromISO(date, { zone: timeZone }).startOf('day');

/** Whether `date` is a real calendar date (2026-02-30 is not). */
export function isCalendarDate(date: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(date) && DateTime.fromISO(date, { zone: 'UTC' }).isValid;
}

/** Whether `timeZone` is an IANA zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  return DateTime.local().setZone(timeZone).isValid;
}

/** Days in from..to, both included (calendar days: DST does not change the count). */
export function daysIn(from: string, to: string): number {
  const a = DateTime.fromISO(from, { zone: 'UTC' });
  const b = DateTime.fromISO(to, { zone: 'UTC' });
  return Math.round(b.diff(a, 'days').days) + 1;
}

/** The instants of a period of local dates: from the start of `from` to the start of the day after `to`. */
export function periodOf(from: string, to: string, timeZone: string): Period {
  return {
    from,
    to,
    start: localDay(from, timeZone).toJSDate(),
    end: localDay(to, timeZone).plus({ days: 1 }).toJSDate(),
  };
}

/** The period of as many days that ends the day before `period` starts. */
export function previousPeriod(period: Period, timeZone: string): Period {
  const days = daysIn(period.from, period.to);
  const to = DateTime.fromISO(period.from, { zone: 'UTC' }).minus({ days: 1 });
  const from = to.minus({ days: days - 1 });
  return periodOf(from.toISODate() as string, to.toISODate() as string, timeZone);
}

/** Every bucket label from the one holding `from` to the one holding `to`, in order. */
export function bucketsBetween(from: string, to: string, bucket: Bucket): string[] {
  const first = bucketOf(new Date(`${from}T12:00:00Z`), 'UTC', bucket);
  const last = bucketOf(new Date(`${to}T12:00:00Z`), 'UTC', bucket);
  const labels: string[] = [];
  let at = DateTime.fromISO(first, { zone: 'UTC' });
  const step = bucket === 'day' ? { days: 1 } : bucket === 'week' ? { weeks: 1 } : { months: 1 };
  while ((at.toISODate() as string) <= last) {
    labels.push(at.toISODate() as string);
    at = at.plus(step);
  }
  return labels;
}
