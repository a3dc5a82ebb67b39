import type { MountApp } from '../host';
import { createChat } from './chat';

declare const __APP_CSS__: string;

/** The chat app, loaded by the loader on first open: `import(appUrl).then((m) => m.mount(host))`. */
export const mount: MountApp = (host) => {
  const style = document.createElement('style');
  style.textContent = __APP_CSS__;
  host.root.appendChild(style);
  return createChat(host);
};
