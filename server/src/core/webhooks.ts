import type { Session, WebhookEventType } from '@openlines/contract';
import { CLOSED_STATUSES } from '@openlines/contract';
import ipaddr from 'ipaddr.js';
import type { BackoffPolicy } from './backoff';

/**
 * Event webhooks, the decisions (SPEC PL-1; docs/webhooks.md). Pure: the feeder (workers/webhooks)
 * hands in what the committed event log says and what it last saw, and gets back the webhook
 * events to queue.
 */

/** What the feeder keeps of a dialog's current session between events. */
export interface SessionSnapshot {
  sessionId: string;
  status: string;
  operatorId: string | null;
  lineId: string;
  /** `rating.at` of the session, so a new (or changed) rating is noticed once. */
  ratingAt: string | null;
  /** KPI targets missed so far in the session. */
  breaches: number;
}

export function snapshotOfSession(session: Session): SessionSnapshot {
  return {
    sessionId: session.id,
    status: session.status,
    operatorId: session.operatorId,
    lineId: session.lineId,
    ratingAt: session.rating?.at ?? null,
    breaches: session.kpi.breaches,
  };
}

export interface SessionChange {
  type: Extract<
    WebhookEventType,
    | 'session.started'
    | 'session.assigned'
    | 'session.transferred'
    | 'session.closed'
    | 'rating.received'
    | 'kpi.breached'
  >;
  /** Fields the payload adds to the session (`from` of a transfer, `kind` of a KPI breach). */
  extra: Record<string, unknown>;
}

const CLOSED: ReadonlySet<string> = new Set(CLOSED_STATUSES);

/**
 * The webhook events a new state of a dialog's session means, given the state seen before it
 * (`previous`, null when the feeder has not seen the dialog since its subscriptions began).
 *
 * The log carries the state after each committed transaction, not each step inside it: a session
 * that starts and is routed at once is `session.started` followed by `session.assigned`; one that
 * is closed and reopened inside one transaction is not seen closed.
 *
 * `startedSince` (the moment the account's webhooks began): a session first seen without a
 * previous state counts as started only if it was created after it, so subscribing does not report
 * every open session as new.
 */
export function sessionChanges(
  previous: SessionSnapshot | null,
  session: Session,
  startedSince: Date,
): SessionChange[] {
  const changes: SessionChange[] = [];
  const next = snapshotOfSession(session);
  const isNew = previous
    ? previous.sessionId !== next.sessionId
    : Date.parse(session.createdAt) >= startedSince.getTime();
  const before: SessionSnapshot | null = previous && previous.sessionId === next.sessionId ? previous : null;
  if (isNew) changes.push({ type: 'session.started', extra: {} });
  if (!before && !isNew) {
    // First sight of a session older than the subscriptions: only what is plainly true now.
    return changes;
  }
  const previousOperator = before?.operatorId ?? null;
  const previousLine = before?.lineId ?? next.lineId;
  if (next.operatorId && next.operatorId !== previousOperator) {
    if (previousOperator || previousLine !== next.lineId) {
      changes.push({
        type: 'session.transferred',
        extra: { from: { operatorId: previousOperator, lineId: previousLine } },
      });
    } else {
      changes.push({ type: 'session.assigned', extra: {} });
    }
  } else if (previousLine !== next.lineId) {
    // Transferred to another line's queue: nobody holds it yet.
    changes.push({
      type: 'session.transferred',
      extra: { from: { operatorId: previousOperator, lineId: previousLine } },
    });
  }
  if (next.breaches > (before?.breaches ?? 0)) {
    changes.push({
      type: 'kpi.breached',
      extra: { kind: session.firstAnswerAt ? 'further_answer' : 'first_answer' },
    });
  }
  if (next.ratingAt && next.ratingAt !== (before?.ratingAt ?? null)) {
    changes.push({ type: 'rating.received', extra: {} });
  }
  if (CLOSED.has(next.status) && !(before && CLOSED.has(before.status))) {
    changes.push({ type: 'session.closed', extra: {} });
  }
  return changes;
}

// ----- Delivery policy ----------------------------------------------------------------------------

/** Retries of a webhook: the outbox's full-jitter backoff, capped at an hour. */
export const WEBHOOK_BACKOFF: BackoffPolicy = {
  baseMs: 2_000,
  capMs: 60 * 60 * 1000,
  maxRetryAfterMs: 24 * 60 * 60 * 1000,
};

/**
 * Failed attempts in a row after which a subscription is paused. With the backoff above, the
 * fifteen waits between sixteen failures add up to about 2½ hours on average (at most about 5) of
 * a receiver that answers nothing but errors.
 */
export const WEBHOOK_PAUSE_AFTER_FAILURES = 16;

/** Whether an HTTP answer counts as delivered. Anything else is retried: nothing is dropped. */
export function isDelivered(status: number): boolean {
  return status >= 200 && status < 300;
}

// ----- Targets (SSRF guard) ---------------------------------------------------------------------

/**
 * Whether a webhook may be sent to this address. Only globally routable unicast addresses are;
 * loopback, private (RFC 1918, unique-local), link-local (cloud metadata at 169.254.169.254),
 * carrier-grade NAT, multicast, reserved and unspecified ranges are not, nor an IPv4 address
 * wrapped in IPv6 (::ffff:10.0.0.1) that would be one of them.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
  }
  return parsed.range() === 'unicast';
}

export type TargetProblem = { code: 'scheme' | 'credentials' | 'host'; message: string };

/** What is wrong with a webhook URL before any name is resolved; null when nothing. */
export function webhookUrlProblem(raw: string): TargetProblem | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { code: 'scheme', message: 'must be an absolute http or https URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { code: 'scheme', message: 'must be an http or https URL' };
  }
  if (url.username || url.password) {
    return { code: 'credentials', message: 'must not carry a user name or password' };
  }
  if (!url.hostname) return { code: 'host', message: 'must name a host' };
  return null;
}
