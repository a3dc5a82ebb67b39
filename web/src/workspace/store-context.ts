import { createContext, useContext, useSyncExternalStore } from 'react';
import type { WorkspaceState, WorkspaceStore } from './store';

export const StoreContext = createContext<WorkspaceStore | null>(null);

export function useStore(): WorkspaceStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useStore outside StoreContext');
  return store;
}

export function useWorkspaceState(): WorkspaceState {
  const store = useStore();
  return useSyncExternalStore(store.subscribe, store.getState);
}
