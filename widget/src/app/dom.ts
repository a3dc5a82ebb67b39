/**
 * A tiny element builder. Text is always added as text nodes (never as HTML), so whatever a
 * visitor or an operator writes — `<img src=x onerror=…>` included — shows as the characters it is.
 */
type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** Only http(s) URLs become links or images. */
export function safeUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch {
    return null;
  }
}

/** Photos that failed to load in this page: later renders go straight to the initial. */
const brokenPhotos = new Set<string>();

/** The first letter of a name, as a face shows it without a photo. */
export function initialOf(name: string | null | undefined): string {
  return (name ?? '').trim().slice(0, 1).toUpperCase();
}

/**
 * Someone's face: their photo (http(s) only), or — with no photo, or one that does not load — the
 * initial of their name in an element of the same class. Null when there is neither.
 */
export function face(
  url: string | null | undefined,
  name: string | null | undefined,
  className: string,
): HTMLElement | null {
  const photo = safeUrl(url);
  const initial = initialOf(name);
  const letter = () => (initial ? h('span', { class: `${className} initial` }, initial) : null);
  if (!photo || brokenPhotos.has(photo)) return letter();
  return h('img', {
    class: className,
    src: photo,
    alt: '',
    onerror: ((event: Event) => {
      brokenPhotos.add(photo);
      const img = event.target as HTMLElement;
      const fallback = letter();
      if (fallback) img.replaceWith(fallback);
      else img.remove();
    }) as EventListener,
  });
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
}

/** Material-style icons as SVG paths: no emoji font needed, no markup strings. */
export const ICONS = {
  attach:
    'M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z',
  send: 'M2 21l21-9L2 3v7l15 2-15 2z',
  like: 'M1 21h4V9H1zm22-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3a1.5 1.5 0 0 0-.5-1L14.2 1 7.6 7.6A2 2 0 0 0 7 9v10a2 2 0 0 0 2 2h9a2 2 0 0 0 1.8-1.2l3-7a2 2 0 0 0 .2-.8z',
  dislike:
    'M15 3H6a2 2 0 0 0-1.8 1.2l-3 7A2 2 0 0 0 1 12v2a2 2 0 0 0 2 2h6.3l-1 4.6v.3a1.5 1.5 0 0 0 .5 1L9.8 23l6.6-6.6A2 2 0 0 0 17 15V5a2 2 0 0 0-2-2zm4 0v12h4V3z',
  file: 'M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zm-1 7V3.5L18.5 9z',
} as const;

export function icon(name: keyof typeof ICONS): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name]);
  path.setAttribute('fill', 'currentColor');
  svg.appendChild(path);
  return svg;
}
