import { h } from './dom';

/** Long enough to read; a notice that stayed would soon be about a state that is gone. */
const NOTICE_SHOWN_MS = 6000;

export interface Notice {
  element: HTMLElement;
  /** `ok` for good news ("Thank you!", "Uploading…"), drawn without the error colour. */
  show(text: string, ok?: boolean): void;
  clear(): void;
}

/** The panel's one line for errors and short confirmations; `role=alert` reads it out. */
export function createNotice(): Notice {
  const element = h('p', { class: 'err', role: 'alert' });
  return {
    element,
    show(text, ok = false) {
      element.className = ok ? 'err ok' : 'err';
      element.textContent = text;
      setTimeout(() => {
        // A newer notice stays for its own time.
        if (element.textContent === text) element.textContent = '';
      }, NOTICE_SHOWN_MS);
    },
    clear() {
      element.textContent = '';
    },
  };
}
