import {
  createContext,
  useCallback,
  useContext,
  useLayoutEffect,
  useMemo,
  useRef,
  useSyncExternalStore,
} from 'react';
import type { WorkspaceState, WorkspaceStore } from './store';

export const StoreContext = createContext<WorkspaceStore | null>(null);

export function useStore(): WorkspaceStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useStore outside StoreContext');
  return store;
}

export type Selector<T> = (state: WorkspaceState) => T;
export type Equality<T> = (a: T, b: T) => boolean;

/** What a slice subscription needs of the store. */
export type StateSource = Pick<WorkspaceStore, 'getState' | 'subscribe'>;

/** The slice a component last rendered, with the selector and equality it was read with. */
export interface Rendered<T> {
  selector: Selector<T>;
  isEqual: Equality<T>;
  value: T;
}

/**
 * Subscribes to the slice a component rendered: `onChange` runs only when the slice in the new state
 * differs from it, so a typing signal does not wake the dialog list and a message in one dialog does
 * not wake another's timeline. Before the first render (`rendered()` is null) every change counts.
 */
export function subscribeToSlice<T>(
  source: StateSource,
  rendered: () => Rendered<T> | null,
  onChange: () => void,
): () => void {
  return source.subscribe(() => {
    const last = rendered();
    if (last?.isEqual(last.value, last.selector(source.getState()))) return;
    onChange();
  });
}

/**
 * A snapshot reader for useSyncExternalStore: the selected slice, and the very value rendered before
 * while the new one is equal to it, so a selector that builds an object does not re-render by itself.
 */
export function sliceReader<T>(
  source: StateSource,
  selector: Selector<T>,
  isEqual: Equality<T>,
  rendered: () => Rendered<T> | null,
): () => T {
  let memo: { state: WorkspaceState; value: T } | null = null;
  return () => {
    const state = source.getState();
    if (memo && memo.state === state) return memo.value;
    const next = selector(state);
    const last = memo ?? rendered();
    const value = last && isEqual(last.value, next) ? last.value : next;
    memo = { state, value };
    return value;
  };
}

/**
 * One slice of the workspace state, for a component that renders only that: it re-renders when the
 * slice changes by `isEqual` (identity by default; `shallowEqual` from ./selectors for a selector that builds an object).
 */
export function useWorkspace<T>(selector: Selector<T>, isEqual: Equality<T> = Object.is): T {
  const store = useStore();
  const rendered = useRef<Rendered<T> | null>(null);
  const subscribe = useCallback(
    (onChange: () => void) => subscribeToSlice(store, () => rendered.current, onChange),
    [store],
  );
  const getSnapshot = useMemo(
    () => sliceReader(store, selector, isEqual, () => rendered.current),
    [store, selector, isEqual],
  );
  const value = useSyncExternalStore(subscribe, getSnapshot);
  useLayoutEffect(() => {
    rendered.current = { selector, isEqual, value };
  });
  return value;
}
