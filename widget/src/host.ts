import type { WidgetConfig } from '@openlines/contract';

/**
 * What the loader hands the chat app when it mounts it, and what the app gives back. The loader is
 * in every page and stays tiny; the app is loaded on first open (or at once for a returning visitor,
 * so operator answers reach a closed widget as an unread badge).
 */

/** `Openlines.identify(...)`: the site's own user, vouched for by `hash` made on the site's server. */
export interface IdentifyInput {
  id: string;
  name?: string;
  email?: string;
  hash: string;
}

/** Events of the page API: `Openlines.on(name, listener)`. */
export type WidgetEventName = 'ready' | 'open' | 'close' | 'message' | 'unread' | 'error';

export interface KeyValueStore {
  get(name: string): string | null;
  set(name: string, value: string): void;
  remove(name: string): void;
}

export interface Host {
  /** Where the Openlines server is, e.g. `https://support.example.com`. */
  base: string;
  /** The widget's public key (from the snippet). */
  key: string;
  root: ShadowRoot;
  config: WidgetConfig;
  lang: 'ru' | 'en';
  store: KeyValueStore;
  identity: IdentifyInput | null;
  emit(event: WidgetEventName, payload?: unknown): void;
  setUnread(count: number): void;
  /** The app opened or closed its panel (Esc, the close button). */
  setOpen(open: boolean): void;
}

export interface AppHandle {
  open(): void;
  close(): void;
  identify(input: IdentifyInput): Promise<void>;
  reset(): Promise<void>;
}

export type MountApp = (host: Host) => AppHandle;

export const STORE_TOKEN = 'token';
export const STORE_OPEN = 'open';
