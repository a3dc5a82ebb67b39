import { type Dialog, hasOperator, isOpen as isOpenStatus, type SessionStatus } from '@openlines/contract';

// Pure rules of the dialog list (OP-1): which dialogs a view shows, how long a client waits, and the
// KPI state of a session (KPI-3). The server decides what a user may see; these decide where an
// event's dialog goes in the lists the user already has.

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
  /** Only dialogs with this label (issue 19). */
  tag?: string;
}

export function isOpen(dialog: Dialog): boolean {
  return dialog.session !== null && isOpenStatus(dialog.session.status);
}

/** Offered to me, or waiting in a queue I may take from. */
export function isWaitingForMe(dialog: Dialog, me: string): boolean {
  const session = dialog.session;
  if (!session) return false;
  return session.status === 'queued' || session.offeredTo.includes(me);
}

export function isMine(dialog: Dialog, me: string): boolean {
  const session = dialog.session;
  if (!session || !hasOperator(session.status)) return false;
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
  if (filters.tag && !dialog.tags.includes(filters.tag)) return false;
  if (filters.from && (!dialog.lastMessageAt || dialog.lastMessageAt < filters.from)) return false;
  if (filters.to && (!dialog.lastMessageAt || dialog.lastMessageAt >= filters.to)) return false;
  // The server found the words in the dialog's history: it matches whatever its last message says.
  if (filters.search && !dialog.searchHit) {
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
 * The KPI state to show now: the server's (KPI-3), moved to `overdue` once its due time passes
 * without an event.
 */
export function liveKpiState(dialog: Dialog, now: number): KpiState {
  const kpi = dialog.session?.kpi;
  if (!kpi) return 'none';
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
