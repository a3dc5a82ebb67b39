/**
 * The cookies a server set, for runtimes without a cookie jar of their own (Node, bots). Browsers
 * never expose `set-cookie` to scripts, so there the jar stays empty and the browser does the work.
 * One client talks to one server, so domain and path are not tracked.
 */
export class CookieJar {
  readonly #cookies = new Map<string, string>();

  /** Applies the `set-cookie` headers of a response: new values replace old, expired ones go. */
  capture(headers: Headers): void {
    const lines = typeof headers.getSetCookie === 'function' ? headers.getSetCookie() : [];
    for (const line of lines) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || attributes.some(isExpiry)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  clear(): void {
    this.#cookies.clear();
  }

  /** The `cookie` request header, or null when there is nothing to send. */
  header(): string | null {
    if (this.#cookies.size === 0) return null;
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** `Max-Age=0` or an `Expires` in the past: the server is deleting the cookie. */
function isExpiry(attribute: string): boolean {
  const [rawName = '', ...rest] = attribute.split('=');
  const name = rawName.trim().toLowerCase();
  const value = rest.join('=').trim();
  if (name === 'max-age') return Number(value) <= 0;
  if (name === 'expires') return Date.parse(value) <= Date.now();
  return false;
}
