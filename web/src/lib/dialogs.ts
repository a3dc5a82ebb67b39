import type { Dialog, Line, SessionStatus } from '@openlines/contract';

// Pure rules of the dialog list (OP-1): which dialogs a view shows, how long a client waits, and the
// KPI state of a session (KPI-3). The server decides what a user may see; these decide where an
// event's dialog goes in the lists the user already has.

/** Every session status, in lifecycle order (SPEC §15). Checked against the contract's union below. */
export const SESSION_STATUSES = [
  'new',
  'bot',
  'queued',
  'assigned',
  'answered',
  'client_waiting',
  'closed',
  'spam',
  'closed_silently',
  'auto_closed',
] as const satisfies readonly SessionStatus[];
// A status added to the contract and not listed above is a compile error here.
const statusesAreComplete: Exclude<SessionStatus, (typeof SESSION_STATUSES)[number]> extends never
  ? true
  : false = true;
void statusesAreComplete;

export const OPEN_STATUSES: readonly SessionStatus[] = [
  'new',
  'bot',
  'queued',
  'assigned',
  'answered',
  'client_waiting',
];
const HELD: readonly SessionStatus[] = ['assigned', 'answered', 'client_waiting'];

export type DialogView = 'queue' | 'mine' | 'all';

export interface DialogFilters {
  lineId?: string;
  channelId?: string;
  operatorId?: string;
  status?: SessionStatus;
  search?: string;
  /** Period of the last message, as ISO timestamps. */
  from?: string;
  to?: string;
}

export function isOpen(dialog: Dialog): boolean {
  return dialog.session !== null && OPEN_STATUSES.includes(dialog.session.status);
}

/** Offered to me, or waiting in a queue I may take from. */
export function isWaitingForMe(dialog: Dialog, me: string): boolean {
  const session = dialog.session;
  if (!session) return false;
  return session.status === 'queued' || session.offeredTo.includes(me);
}

export function isMine(dialog: Dialog, me: string): boolean {
  const session = dialog.session;
  if (!session || !HELD.includes(session.status)) return false;
  return session.operatorId === me || session.participantIds.includes(me);
}

export function inView(dialog: Dialog, view: DialogView, me: string): boolean {
  if (view === 'queue') return dialog.session?.status === 'queued';
  if (view === 'mine') return isMine(dialog, me);
  return true;
}

/** The same filters the server applies to GET /dialogs, for dialogs that arrive by events. */
export function matchesFilters(dialog: Dialog, filters: DialogFilters): boolean {
  const session = dialog.session;
  if (filters.lineId && session?.lineId !== filters.lineId && dialog.lineId !== filters.lineId) return false;
  if (filters.channelId && dialog.channelId !== filters.channelId) return false;
  if (filters.operatorId && session?.operatorId !== filters.operatorId) return false;
  if (filters.status && session?.status !== filters.status) return false;
  if (filters.from && (!dialog.lastMessageAt || dialog.lastMessageAt < filters.from)) return false;
  if (filters.to && (!dialog.lastMessageAt || dialog.lastMessageAt >= filters.to)) return false;
  if (filters.search) {
    const needle = filters.search.toLowerCase();
    const haystack = [
      dialog.client.name,
      dialog.client.email,
      dialog.client.phone,
      dialog.lastMessagePreview,
    ];
    if (!haystack.some((value) => value?.toLowerCase().includes(needle))) return false;
  }
  return true;
}

/** Newest activity first, like the server's list. */
export function compareDialogs(a: Dialog, b: Dialog): number {
  const at = a.lastMessageAt ?? '';
  const bt = b.lastMessageAt ?? '';
  if (at !== bt) return at < bt ? 1 : -1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Since when the client has been waiting for an operator: in the queue since it was queued,
 * assigned but not answered since the session started, waiting for a reply since their last message.
 */
export function waitingSince(dialog: Dialog): string | null {
  const session = dialog.session;
  if (!session) return null;
  switch (session.status) {
    case 'new':
    case 'bot':
    case 'queued':
      return session.queuedAt ?? session.createdAt;
    case 'assigned':
      return session.firstAnswerAt ? session.lastClientMessageAt : (session.queuedAt ?? session.createdAt);
    case 'client_waiting':
      return session.lastClientMessageAt ?? session.createdAt;
    default:
      return null;
  }
}

export type KpiState = 'none' | 'on_time' | 'overdue' | 'missed';

/**
 * KPI-3 for the dialog list: against the line's first-answer target until the first answer, then
 * against the further-answer target while the client waits. `missed` means the first answer came
 * late; `overdue` means a running wait is past its target right now.
 */
export function kpiState(dialog: Dialog, line: Line | undefined, now: number): KpiState {
  const session = dialog.session;
  if (!session || !line) return 'none';
  const { firstAnswer, furtherAnswer } = line.settings.kpi;
  const started = Date.parse(session.queuedAt ?? session.createdAt);
  if (session.firstAnswerAt) {
    const first = Date.parse(session.firstAnswerAt) - started;
    const missed = firstAnswer.targetSeconds > 0 && first > firstAnswer.targetSeconds * 1000;
    if (
      session.status === 'client_waiting' &&
      furtherAnswer.targetSeconds > 0 &&
      session.lastClientMessageAt
    ) {
      const waited = now - Date.parse(session.lastClientMessageAt);
      if (waited > furtherAnswer.targetSeconds * 1000) return 'overdue';
    }
    if (missed) return 'missed';
    return firstAnswer.targetSeconds > 0 || furtherAnswer.targetSeconds > 0 ? 'on_time' : 'none';
  }
  if (firstAnswer.targetSeconds === 0) return 'none';
  if (!OPEN_STATUSES.includes(session.status)) return 'none';
  return now - started > firstAnswer.targetSeconds * 1000 ? 'overdue' : 'on_time';
}

/** Open dialogs each operator holds, among those given (for "who is how loaded" in transfers). */
export function loadByOperator(dialogs: Iterable<Dialog>): Map<string, number> {
  const load = new Map<string, number>();
  for (const dialog of dialogs) {
    const session = dialog.session;
    if (session?.operatorId && HELD.includes(session.status)) {
      load.set(session.operatorId, (load.get(session.operatorId) ?? 0) + 1);
    }
  }
  return load;
}

/**
 * The KPI state to show now: the server's (KPI-3), moved to `overdue` once its due time passes
 * without an event; computed from the line's targets when the server sends none.
 */
export function liveKpiState(dialog: Dialog, line: Line | undefined, now: number): KpiState {
  const kpi = dialog.session?.kpi;
  if (!kpi) return kpiState(dialog, line, now);
  if (
    kpi.state === 'on_time' &&
    kpi.dueAt &&
    now > Date.parse(kpi.dueAt) &&
    dialog.session &&
    isOpen(dialog)
  ) {
    return 'overdue';
  }
  return kpi.state;
}
