import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';

export interface LoadState<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
}

/**
 * The data of one screen and the requests for it. Requests may overlap (a line picked, then another
 * at once; a search typed letter by letter) and answer in any order: only the one started last is
 * applied, so a slower earlier answer never overwrites a newer one. `set` is newer than any request
 * still on its way.
 */
export class Loader<T> {
  #state: LoadState<T> = { data: null, error: null, loading: true };
  /** Counts requests (and local updates); an answer is applied only if none started after it. */
  #latest = 0;
  readonly #listeners = new Set<() => void>();

  getState = (): LoadState<T> => this.#state;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  load = async (request: () => Promise<T>): Promise<void> => {
    const id = ++this.#latest;
    this.#update({ loading: true });
    try {
      const data = await request();
      if (id === this.#latest) this.#update({ data, error: null, loading: false });
    } catch (error) {
      if (id === this.#latest) this.#update({ error, loading: false });
    }
  };

  /** Data known here (what a save returned): requests still on their way are ignored. */
  set = (data: T): void => {
    this.#latest++;
    this.#update({ data, loading: false });
  };

  #update(patch: Partial<LoadState<T>>): void {
    this.#state = { ...this.#state, ...patch };
    for (const listener of this.#listeners) listener();
  }
}

/**
 * Loads data for a screen, again whenever `key` changes; `reload()` after a change. Errors are kept
 * for <ErrorNotice>. Only the latest request's answer is shown (see Loader).
 */
export function useLoad<T>(load: () => Promise<T>, key = '') {
  const [loader] = useState(() => new Loader<T>());
  const { data, error, loading } = useSyncExternalStore(loader.subscribe, loader.getState);
  const latest = useRef(load);
  latest.current = load;
  const reload = useCallback(() => loader.load(() => latest.current()), [loader]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` says when to load again
  useEffect(() => {
    void reload();
  }, [key, reload]);
  return { data, error, loading, reload, setData: loader.set };
}
