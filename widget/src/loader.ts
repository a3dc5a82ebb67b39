import type { WidgetConfig } from '@openlines/contract';
import {
  type AppHandle,
  type Host,
  type IdentifyInput,
  type KeyValueStore,
  type MountApp,
  STORE_OPEN,
  STORE_TOKEN,
  type WidgetEventName,
} from './host';

/**
 * The widget loader: the only script every page loads. It defines `window.Openlines` (the one
 * global), draws the chat button inside a shadow root (no CSS leaks in or out), and imports the chat
 * app on first open — at once only for a returning visitor, whose answers may be waiting.
 */

declare const __APP_FILE__: string;
declare const __LOADER_CSS__: string;

type Listener = (payload?: unknown) => void;
type Call = [string, unknown[]];

interface OpenlinesApi {
  loaded: true;
  open(): void;
  close(): void;
  toggle(): void;
  identify(input: IdentifyInput): Promise<void>;
  reset(): Promise<void>;
  on(event: WidgetEventName, listener: Listener): () => void;
  off(event: WidgetEventName, listener: Listener): void;
}

const WORDS = {
  en: ['Open chat', 'Close chat', 'unread'],
  ru: ['Открыть чат', 'Закрыть чат', 'непрочитанных'],
};

function storeFor(key: string): KeyValueStore {
  const prefix = `openlines:${key}:`;
  const memory = new Map<string, string>();
  let local: Storage | null = null;
  try {
    local = window.localStorage;
    local.setItem(`${prefix}probe`, '1');
    local.removeItem(`${prefix}probe`);
  } catch {
    local = null;
  }
  return {
    get: (name) => (local ? local.getItem(prefix + name) : (memory.get(name) ?? null)),
    set: (name, value) => {
      try {
        local?.setItem(prefix + name, value);
      } catch {
        // Storage full or refused: the conversation still works for this page.
      }
      memory.set(name, value);
    },
    remove: (name) => {
      local?.removeItem(prefix + name);
      memory.delete(name);
    },
  };
}

(() => {
  const w = window as unknown as { Openlines?: Partial<OpenlinesApi> & { q?: Call[] } };
  const script = document.currentScript as HTMLScriptElement | null;
  const key = script?.getAttribute('data-key') ?? '';
  if (!script || !key || w.Openlines?.loaded) return;
  const base = script.src.replace(/\/widget\/loader\.js([?#].*)?$/, '');
  const queued = w.Openlines?.q ?? [];
  const store = storeFor(key);
  const listeners = new Map<string, Set<Listener>>();
  const emit = (event: WidgetEventName, payload?: unknown) => {
    for (const listener of listeners.get(event) ?? []) {
      try {
        listener(payload);
      } catch (error) {
        console.error(error);
      }
    }
  };

  let config: WidgetConfig | null = null;
  let identity: IdentifyInput | null = null;
  let app: AppHandle | null = null;
  let loading: Promise<AppHandle | null> | null = null;
  let isOpen = false;
  let wantOpen = false;
  let lang: 'ru' | 'en' = 'en';
  let button: HTMLButtonElement | null = null;
  let badge: HTMLElement | null = null;
  let root: ShadowRoot | null = null;

  const label = () => WORDS[lang][isOpen ? 1 : 0]!;

  function setOpen(open: boolean): void {
    const changed = open !== isOpen;
    isOpen = open;
    try {
      if (open) sessionStorage.setItem(`openlines:${key}:${STORE_OPEN}`, '1');
      else sessionStorage.removeItem(`openlines:${key}:${STORE_OPEN}`);
    } catch {
      // No session storage: the panel just does not reopen by itself.
    }
    if (button) {
      button.setAttribute('aria-expanded', String(open));
      button.setAttribute('aria-label', label());
      button.classList.toggle('open', open);
    }
    if (changed) emit(open ? 'open' : 'close');
    if (!open && changed) button?.focus();
  }

  function loadApp(): Promise<AppHandle | null> {
    loading ??= (import(/* @vite-ignore */ `${base}/widget/${__APP_FILE__}`) as Promise<{ mount: MountApp }>)
      .then(({ mount }) => {
        const host: Host = {
          base,
          key,
          root: root!,
          config: config!,
          lang,
          store,
          identity,
          emit,
          setUnread: (count) => {
            if (!badge) return;
            badge.hidden = count === 0;
            badge.textContent = count > 9 ? '9+' : String(count);
            badge.setAttribute('aria-label', `${count} ${WORDS[lang][2]}`);
            emit('unread', count);
          },
          setOpen,
        };
        app = mount(host);
        return app;
      })
      .catch((error: unknown) => {
        loading = null;
        console.warn('Openlines: the chat could not be loaded', error);
        emit('error', { code: 'load_failed' });
        return null;
      });
    return loading;
  }

  const api: OpenlinesApi = {
    loaded: true,
    open() {
      // Before the button is drawn (config still on its way): open as soon as it is.
      if (!root) wantOpen = true;
      else void loadApp().then((loaded) => loaded?.open());
    },
    close() {
      app?.close();
    },
    toggle() {
      if (isOpen) api.close();
      else api.open();
    },
    async identify(input) {
      identity = input;
      if (app) await app.identify(input);
    },
    async reset() {
      identity = null;
      store.remove(STORE_TOKEN);
      if (app) await app.reset();
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) {
        set = new Set();
        listeners.set(event, set);
      }
      set.add(listener);
      return () => api.off(event, listener);
    },
    off(event, listener) {
      listeners.get(event)?.delete(listener);
    },
  };
  w.Openlines = api;
  for (const [method, args] of queued) {
    const fn = (api as unknown as Record<string, (...a: unknown[]) => unknown>)[method];
    if (typeof fn === 'function') void fn(...args);
  }

  function draw(): void {
    const hostEl = document.createElement('div');
    hostEl.setAttribute('data-openlines-widget', '');
    hostEl.style.setProperty('--ol-accent', config!.appearance.color);
    root = hostEl.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = __LOADER_CSS__;
    button = document.createElement('button');
    button.type = 'button';
    button.className = `launcher ${config!.appearance.position}`;
    button.setAttribute('aria-haspopup', 'dialog');
    button.setAttribute('aria-expanded', 'false');
    button.setAttribute('aria-label', label());
    button.innerHTML =
      '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16v11H8l-4 4z" fill="currentColor"/></svg>';
    badge = document.createElement('span');
    badge.className = 'badge';
    badge.hidden = true;
    button.appendChild(badge);
    button.addEventListener('click', () => api.toggle());
    root.append(style, button);
    document.body.appendChild(hostEl);
    emit('ready');
    let reopen = false;
    try {
      reopen = sessionStorage.getItem(`openlines:${key}:${STORE_OPEN}`) === '1';
    } catch {
      reopen = false;
    }
    if (reopen || wantOpen) api.open();
    else if (store.get(STORE_TOKEN)) void loadApp();
  }

  fetch(`${base}/api/v1/widget/${encodeURIComponent(key)}/config`, { credentials: 'omit' })
    .then(async (response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
      config = (await response.json()) as WidgetConfig;
      const page = (document.documentElement.lang || '').slice(0, 2).toLowerCase();
      lang = !config.languageFixed && (page === 'ru' || page === 'en') ? page : config.language;
      // WH-3: outside the widget's hours it is hidden, or shows an offline form (the app draws it).
      if (!config.availability.open && config.availability.whenClosed === 'hide') return;
      if (document.body) draw();
      else addEventListener('DOMContentLoaded', draw);
    })
    .catch((error: unknown) => {
      console.warn('Openlines: the widget is not available on this site', error);
      emit('error', { code: 'config_failed' });
    });
})();
