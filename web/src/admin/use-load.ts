import { useCallback, useEffect, useRef, useState } from 'react';

/**
 * Loads data for a screen, again whenever `key` changes; `reload()` after a change. Errors are kept
 * for <ErrorNotice>.
 */
export function useLoad<T>(load: () => Promise<T>, key = '') {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const latest = useRef(load);
  latest.current = load;
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setData(await latest.current());
      setError(null);
    } catch (failure) {
      setError(failure);
    } finally {
      setLoading(false);
    }
  }, []);
  useEffect(() => {
    if (key !== undefined) void reload();
  }, [key, reload]);
  return { data, error, loading, reload, setData };
}
