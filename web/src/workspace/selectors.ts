import type { Dialog, Line, User } from '@openlines/contract';
import type { DialogHistory, WorkspaceState } from './store';

// The slices of the workspace state that components render (with useWorkspace). Each takes only what
// its component shows, so an event or a typing signal re-renders only the components it changes.
// Selectors that build an object are read with shallowEqual.

/**
 * Names by user id, kept the same object while the names are the same: a presence change gives a
 * new users map but not new names, so what shows only names is not re-rendered.
 */
function stableNames(keep: (user: User) => boolean): (state: WorkspaceState) => Record<string, string> {
  let users: Record<string, User> | null = null;
  let names: Record<string, string> = {};
  return (state) => {
    if (state.users !== users) {
      users = state.users;
      const next = Object.fromEntries(
        Object.values(users)
          .filter(keep)
          .map((user) => [user.id, user.name]),
      );
      if (!shallowEqual(names, next)) names = next;
    }
    return names;
  };
}

/** Everyone's name, for components that show who wrote or holds something (not their presence). */
export const userNames = stableNames(() => true);

/** The names of active users, in the store's order (the operator filter). */
export const activeUserNames = stableNames((user) => user.active);

/** The dialog list: the dialogs and what decides which are shown, with their rows' extras. */
export function listSlice(state: WorkspaceState) {
  return {
    dialogs: state.dialogs,
    view: state.view,
    filters: state.filters,
    lines: state.lines,
    unread: state.unread,
    listCursor: state.listCursor,
    listLoading: state.listLoading,
    listError: state.listError,
  };
}

/** The open dialog's header and frame; its timeline and typing indicator read their own slices. */
export function dialogSlice(dialogId: string) {
  return (
    state: WorkspaceState,
  ): {
    dialog: Dialog | undefined;
    line: Line | undefined;
    operatorName: string | undefined;
    loadError: unknown;
  } => {
    const dialog = state.dialogs[dialogId];
    const lineId = dialog ? (dialog.session?.lineId ?? dialog.lineId) : null;
    const operatorId = dialog?.session?.operatorId;
    return {
      dialog,
      line: lineId ? state.lines.find((line) => line.id === lineId) : undefined,
      operatorName: operatorId ? state.users[operatorId]?.name : undefined,
      loadError: state.history[dialogId]?.error ?? null,
    };
  };
}

/** The messages, transitions and unsent messages of one dialog, with the names they mention. */
export function timelineSlice(dialogId: string) {
  return (state: WorkspaceState) => ({
    history: state.history[dialogId] as DialogHistory | undefined,
    pending: state.pending[dialogId],
    names: userNames(state),
  });
}

/** What the client of one dialog is typing (a signal every few seconds while they type). */
export function typingSlice(dialogId: string) {
  return (state: WorkspaceState) => state.typing[dialogId];
}

/** All unread client messages, for the tab title and the navigation badge. */
export function unreadTotal(state: WorkspaceState): number {
  let total = 0;
  for (const count of Object.values(state.unread)) total += count;
  return total;
}

/** Equal when both objects have the same keys with identical values. */
export function shallowEqual<T>(a: T, b: T): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every(
    (key) =>
      Object.hasOwn(b, key) &&
      Object.is((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}
